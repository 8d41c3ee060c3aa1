"""Runs inside a client-only venv with abeja-sdk 2.3.6: drives a live Nectar through the unchanged OpsBee clients.

usage: ABEJA_API_URL=<base_url> PLATFORM_AUTH_TOKEN=<api_key> python abeja_scenario.py
Prints one JSON line (the last) with what it saw; exits non-zero (with the failing assert) on any mismatch.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, TypeVar

from abeja.exceptions import BadRequest, Conflict, NotFound
from abeja.opsbeellm.deployment import APIClient as DeploymentClient
from abeja.opsbeellm.history import APIClient as HistoryClient

RUN = uuid.uuid4().hex[:8]  # the server's database is shared with other tests: names must not collide

E = TypeVar("E", bound=Exception)
JSON = dict[str, Any]  # a decoded JSON object, as the SDK returns it


def expect(error: type[E], call: Callable[..., object], *args: Any, **kwargs: Any) -> E:
    try:
        call(*args, **kwargs)
    except error as exc:
        return exc
    raise AssertionError(f"{call.__name__} did not raise {error.__name__}")


def deployments(client: DeploymentClient, org: str) -> tuple[str, str]:
    chat = client.create_deployment(org, f"chat-{RUN}", "chat", "chat deployment")
    qa = client.create_deployment(org, f"qa-{RUN}", "qa")
    assert (chat["type"], qa["type"], qa["description"], chat["organization_id"]) == ("chat", "qa", "", org)
    assert client.get_deployment(org, chat["id"])["name"] == f"chat-{RUN}"
    listed = client.get_deployments(org, offset=0, limit=1000)
    assert listed["organization_id"] == org and {chat["id"], qa["id"]} <= {d["id"] for d in listed["deployments"]}
    assert client.get_deployments(org, offset=0, limit=1)["has_next"] is True
    renamed = client.update_deployment(org, chat["id"], f"chat-{RUN}-renamed", "renamed")
    assert (renamed["name"], renamed["description"], renamed["type"]) == (f"chat-{RUN}-renamed", "renamed", "chat")
    spare = client.create_deployment(org, f"spare-{RUN}", "chat")
    assert client.delete_deployment(org, spare["id"]) == {"message": f"deployment {spare['id']} was deleted."}
    expect(NotFound, client.get_deployment, org, spare["id"])
    expect(Conflict, client.create_deployment, org, f"qa-{RUN}", "qa")
    return chat["id"], qa["id"]


def threads(client: HistoryClient, org: str, chat_id: str) -> str:
    thread = client.create_thread(org, chat_id, "A to B", "A and B talk")
    assert (thread["name"], thread["description"], thread["deployment_id"]) == ("A to B", "A and B talk", chat_id)
    assert client.get_thread(org, chat_id, thread["id"]) == thread
    updated = client.update_thread(org, chat_id, thread["id"], "A to C")
    assert (updated["name"], updated["description"]) == ("A to C", "")
    spare = client.create_thread(org, chat_id, "spare")
    listed = client.get_threads(org, chat_id, offset=0, limit=1)
    assert (listed["total"], listed["has_next"], len(listed["threads"])) == (2, True, 1)
    assert client.delete_thread(org, chat_id, spare["id"]) == {"message": f"thread {spare['id']} was deleted."}
    assert client.get_threads(org, chat_id)["total"] == 1
    thread_id: str = thread["id"]
    return thread_id


def tags(client: HistoryClient, org: str) -> tuple[JSON, JSON]:
    urgent = client.create_tag(org, f"urgent-{RUN}", "needs a look", "red")
    calm = client.create_tag(org, f"calm-{RUN}")
    assert (urgent["color"], calm["color"], calm["description"]) == ("red", "grey", "")
    assert client.get_tag(org, urgent["id"]) == urgent
    assert {urgent["id"], calm["id"]} <= {tag["id"] for tag in client.get_tags(org)["tags"]}
    recolored = client.update_tag(org, calm["id"], f"calm-{RUN}", "fine", "blue")
    assert (recolored["color"], recolored["description"]) == ("blue", "fine")
    spare = client.create_tag(org, f"spare-{RUN}")
    assert client.delete_tag(org, spare["id"]) == {"message": f"tag {spare['id']} was deleted."}
    expect(NotFound, client.get_tag, org, spare["id"])
    return urgent, recolored


def chat_metadata(client: HistoryClient, org: str, chat_id: str, thread_id: str, history_id: str) -> None:
    metadata = client.create_chat_history_metadata(org, chat_id, thread_id, history_id, "metadata3", "value3")
    assert (metadata["history_id"], metadata["key"]) == (history_id, "metadata3")
    changed = client.update_chat_history_metadata(
        org, chat_id, thread_id, history_id, metadata["id"], "metadata3", "v3"
    )
    assert changed["value"] == "v3"
    gone = client.delete_chat_history_metadata(org, chat_id, thread_id, history_id, metadata["id"])
    assert gone == {"message": f"metadata {metadata['id']} was deleted."}


def chat_histories(client: HistoryClient, org: str, chat_id: str, thread_id: str, urgent: JSON, calm: JSON) -> int:
    made = client.create_chat_history(
        org, chat_id, thread_id, "Tell me about bees", "Bees make honey.",
        tag_ids=[urgent["id"]], metadata=[{"metadata1": "value1"}, {"metadata2": "value2"}],
    )  # fmt: skip
    assert made["input_token_count"] > 0 and made["thread_name"] == "A to C"
    assert [(m["key"], m["value"]) for m in made["metadata"]] == [("metadata1", "value1"), ("metadata2", "value2")]
    other = client.create_chat_history(org, chat_id, thread_id, "Rust?", "Iron oxide.", 2, 3, [calm["id"]])
    assert client.get_chat_history(org, chat_id, thread_id, made["id"]) == made
    query = f'input_text:"tell*" AND input_token_count:>=1 AND tag_name:urgent-{RUN}'
    query += ' AND created_at:>="2000-01-01T00:00:00+09:00"'  # the `+` reaches the server raw
    found = client.get_chat_histories(org, chat_id, search_query=query)
    assert [h["id"] for h in found["histories"]] == [made["id"]] and found["total"] == 1, found
    ordered = client.get_chat_histories(org, chat_id, offset=0, limit=1, sort_by="input_token_count", sort_order="asc")
    assert ([h["id"] for h in ordered["histories"]], ordered["total"], ordered["has_next"]) == ([other["id"]], 2, True)
    error = expect(BadRequest, client.get_chat_histories, org, chat_id, search_query="input_text:bee AND")
    assert "position 18" in error.error_description, error
    updated = client.update_chat_history(org, chat_id, thread_id, made["id"], output_text="Bees make honey and wax.")
    assert (updated["input_text"], updated["output_text"]) == ("Tell me about bees", "Bees make honey and wax.")
    assert [t["id"] for t in updated["tags"]] == [urgent["id"]]  # the SDK re-sends the stored tags
    chat_metadata(client, org, chat_id, thread_id, made["id"])
    too_many = [{f"k{i}": "v"} for i in range(21)]
    expect(BadRequest, client.create_chat_history, org, chat_id, thread_id, "q", "a", metadata=too_many)
    deleted = client.delete_chat_history(org, chat_id, thread_id, other["id"])
    assert deleted["id"] == other["id"]
    expect(NotFound, client.get_chat_history, org, chat_id, thread_id, other["id"])
    expect(BadRequest, client.get_qa_histories, org, chat_id)  # the SDK's own type pre-flight
    total: int = client.get_chat_histories(org, chat_id)["total"]
    return total


def qa_histories(client: HistoryClient, org: str, qa_id: str, urgent: JSON) -> int:
    made = client.create_qa_history(
        org, qa_id, "What is ABEJA?", "A honey bee.", tag_ids=[urgent["id"]], metadata=[{"m": "1"}]
    )
    assert made["thread_name"] == "QA thread" and made["output_token_count"] > 0
    assert client.get_qa_history(org, qa_id, made["id"]) == made
    listed = client.get_qa_histories(org, qa_id, search_query="metadata_key:m", sort_by="created_at", sort_order="asc")
    assert ([h["id"] for h in listed["histories"]], listed["thread_id"]) == ([made["id"]], made["thread_id"])
    updated = client.update_qa_history(org, qa_id, made["id"], input_token_count=42)
    assert (updated["input_token_count"], updated["output_text"]) == (42, "A honey bee.")
    metadata = client.create_qa_history_metadata(org, qa_id, made["id"], "m2", "2")
    assert client.update_qa_history_metadata(org, qa_id, made["id"], metadata["id"], "m2", "3")["value"] == "3"
    client.delete_qa_history_metadata(org, qa_id, made["id"], metadata["id"])
    assert [m["key"] for m in client.get_qa_history(org, qa_id, made["id"])["metadata"]] == ["m"]
    assert client.delete_qa_history(org, qa_id, made["id"])["id"] == made["id"]
    total: int = client.get_qa_histories(org, qa_id)["total"]
    return total


def other_credentials(org: str, chat_id: str, key: str) -> None:
    """Basic auth (user id + personal access token = the API key), `me`, and an organization that is not ours."""
    basic = DeploymentClient(credential={"user_id": "1234567890123", "personal_access_token": key})
    assert basic.get_deployment(org, chat_id)["id"] == chat_id
    assert basic.get_deployments("me")["organization_id"] == org
    expect(NotFound, basic.get_deployments, "1410000000000")


def main() -> JSON:
    key = os.environ["PLATFORM_AUTH_TOKEN"]
    deployment_client, history_client = DeploymentClient(timeout=30), HistoryClient(timeout=30)
    org = deployment_client.get_deployments("me", limit=1)["organization_id"]  # how a user learns theirs
    chat_id, qa_id = deployments(deployment_client, org)
    thread_id = threads(history_client, org, chat_id)
    urgent, calm = tags(history_client, org)
    chat_total = chat_histories(history_client, org, chat_id, thread_id, urgent, calm)
    qa_total = qa_histories(history_client, org, qa_id, urgent)
    other_credentials(org, chat_id, key)
    counts = {d["id"]: d["history_count"] for d in deployment_client.get_deployments(org)["deployments"]}
    return {"ok": True, "sdk": version("abeja-sdk"), "organization_id": org, "chat_histories": chat_total,
            "qa_histories": qa_total, "history_counts": [counts[chat_id], counts[qa_id]]}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main()))
