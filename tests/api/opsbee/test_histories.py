"""Chat and QA histories: create (token counts, tags, metadata), get, read-modify-write update, soft delete,
metadata add/update/delete and its limits, the deployment-type checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from service.db.models import Message
from service.runtime import Runtime
from tests.api.opsbee.helpers import (
    Client,
    call,
    error,
    history_body,
    new_chat_history,
    new_deployment,
    new_qa_history,
    new_tag,
    new_thread,
)
from tests.conftest import Caller

HISTORY_KEYS = {
    "id", "organization_id", "deployment_id", "thread_id", "thread_name", "input_text", "output_text",
    "input_token_count", "output_token_count", "tags", "metadata", "created_at", "updated_at",
    "status", "error_message",  # Nectar's own: what OpsBee's object has no room for (test_failed_turns)
}  # fmt: skip
QUESTION = "Tell me about ABEJA"
ANSWER = "ABEJA means honey bee in Spanish."


async def chat_setup(client: Client, caller: Caller) -> tuple[str, str, str]:
    """(deployment id, thread id, the histories path of the thread)."""
    deployment = await new_deployment(client, caller, "chat")
    thread = await new_thread(client, caller, deployment["id"], "thread A")
    return deployment["id"], thread["id"], f"/deployments/{deployment['id']}/threads/{thread['id']}/histories"


async def test_create_counts_tokens_and_keeps_tags_and_metadata(client: Client, caller: Caller) -> None:
    deployment_id, thread_id, path = await chat_setup(client, caller)
    ok = await new_tag(client, caller, "OK", "green")
    metadata = [{"metadata1": "value1"}, {"metadata2": "value2"}]
    history = await call(
        client, caller, "POST", path, json=history_body(QUESTION, ANSWER, tag_ids=[ok["id"]], metadata=metadata)
    )
    assert set(history) == HISTORY_KEYS
    assert (history["deployment_id"], history["thread_id"], history["thread_name"]) == (
        deployment_id,
        thread_id,
        "thread A",
    )
    assert (history["input_text"], history["output_text"], history["organization_id"]) == (
        QUESTION,
        ANSWER,
        caller.tenant_id,
    )
    assert history["input_token_count"] > 0 and history["output_token_count"] > 0  # 0 + text: counted here
    assert history["tags"] == [{"id": ok["id"], "name": "OK", "description": "OK tag", "color": "green"}]
    assert [(row["key"], row["value"]) for row in history["metadata"]] == [
        ("metadata1", "value1"),
        ("metadata2", "value2"),
    ]
    assert all(set(row) == {"id", "key", "value"} for row in history["metadata"])
    assert datetime.fromisoformat(history["updated_at"]).utcoffset() is not None
    assert await call(client, caller, "GET", f"{path}/{history['id']}") == history
    given = await call(
        client, caller, "POST", path, json=history_body("q", "a", input_token_count=7, output_token_count=9)
    )
    assert (given["input_token_count"], given["output_token_count"]) == (7, 9)


async def test_create_validation(client: Client, caller: Caller) -> None:
    _, _, path = await chat_setup(client, caller)
    assert "required" in await error(client, caller, "POST", path, 400, json=history_body("", ""))
    # The seed's positional example puts lists into the token counts: a 400, never stored.
    bad_counts = history_body("q", "a", input_token_count=["111", "222"])
    assert "input_token_count" in await error(client, caller, "POST", path, 400, json=bad_counts)
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", output_token_count=-1))
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", tag_ids="not-a-list"))
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata={"k": "v"}))
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[{"k": "v"}, {"k": "w"}]))
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[{"": "v"}]))
    assert "tag" in await error(client, caller, "POST", path, 400, json=history_body("q", "a", tag_ids=["nope"]))


async def test_metadata_limits(client: Client, caller: Caller) -> None:
    _, _, path = await chat_setup(client, caller)
    twenty = [{f"key{index}": f"value{index}"} for index in range(20)]
    assert "20" in await error(
        client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[*twenty, {"key20": "v"}])
    )
    full = await call(client, caller, "POST", path, json=history_body("q", "a", metadata=twenty))
    assert len(full["metadata"]) == 20
    assert "20" in await error(
        client, caller, "POST", f"{path}/{full['id']}/metadata", 400, json={"key": "key20", "value": "v"}
    )
    big = "x" * 65_536
    assert "65535" in await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[{"k": big}]))
    assert "65535" in await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[{big: "v"}]))
    multibyte = "あ" * 21_846  # 65,538 bytes in UTF-8, 21,846 characters
    await error(client, caller, "POST", path, 400, json=history_body("q", "a", metadata=[{"k": multibyte}]))
    largest = "y" * 65_535
    stored = await call(client, caller, "POST", path, json=history_body("q", "a", metadata=[{largest: largest}]))
    assert stored["metadata"][0]["key"] == largest and stored["metadata"][0]["value"] == largest


async def test_metadata_add_update_delete(client: Client, caller: Caller) -> None:
    deployment_id, _, path = await chat_setup(client, caller)
    history = await call(client, caller, "POST", path, json=history_body("q", "a", metadata=[{"first": "1"}]))
    metadata_path = f"{path}/{history['id']}/metadata"
    added = await call(client, caller, "POST", metadata_path, json={"key": "second", "value": "2"})
    assert set(added) == {
        "id",
        "organization_id",
        "deployment_id",
        "history_id",
        "key",
        "value",
        "created_at",
        "updated_at",
    }
    assert (added["deployment_id"], added["history_id"], added["key"], added["value"]) == (
        deployment_id,
        history["id"],
        "second",
        "2",
    )
    assert "already exists" in await error(
        client, caller, "POST", metadata_path, 409, json={"key": "first", "value": "x"}
    )
    updated = await call(
        client, caller, "PATCH", f"{metadata_path}/{added['id']}", json={"key": "second", "value": "two"}
    )
    assert (updated["id"], updated["value"]) == (added["id"], "two")
    await error(client, caller, "PATCH", f"{metadata_path}/{added['id']}", 409, json={"key": "first", "value": "x"})
    await error(
        client, caller, "PATCH", f"{metadata_path}/{added['id']}", 400, json={"key": "k", "value": "v" * 65_536}
    )
    await error(client, caller, "PATCH", f"{metadata_path}/nope", 404, json={"key": "k", "value": "v"})
    deleted = await call(client, caller, "DELETE", f"{metadata_path}/{added['id']}")
    assert deleted == {"message": f"metadata {added['id']} was deleted."}
    current = await call(client, caller, "GET", f"{path}/{history['id']}")
    assert [(row["key"], row["value"]) for row in current["metadata"]] == [("first", "1")]
    assert current["updated_at"] > history["updated_at"]


async def test_update_is_read_modify_write(client: Client, caller: Caller) -> None:
    _, _, path = await chat_setup(client, caller)
    urgent, ok = await new_tag(client, caller, "urgent", "red"), await new_tag(client, caller, "fine", "green")
    history = await call(client, caller, "POST", path, json=history_body(QUESTION, ANSWER, tag_ids=[urgent["id"]]))
    current = await call(client, caller, "GET", f"{path}/{history['id']}")
    # What update_chat_history sends: the stored values, with the changed ones replaced.
    body = {
        "input_text": current["input_text"],
        "output_text": "a better answer",
        "input_token_count": current["input_token_count"],
        "output_token_count": 4,
        "tag_ids": [ok["id"]],
    }
    updated = await call(client, caller, "PATCH", f"{path}/{history['id']}", json=body)
    assert (updated["input_text"], updated["output_text"], updated["output_token_count"]) == (
        QUESTION,
        "a better answer",
        4,
    )
    assert [tag["id"] for tag in updated["tags"]] == [ok["id"]]
    assert updated["updated_at"] >= history["updated_at"] and updated["created_at"] == history["created_at"]
    partial = await call(client, caller, "PATCH", f"{path}/{history['id']}", json={"input_text": "new question"})
    assert (partial["input_text"], partial["output_text"], partial["tags"]) == (
        "new question",
        "a better answer",
        updated["tags"],
    )
    await error(client, caller, "PATCH", f"{path}/{history['id']}", 400, json={"input_token_count": "many"})


async def test_delete_is_soft_and_hidden_everywhere(client: Client, caller: Caller, runtime: Runtime) -> None:
    deployment_id, _, path = await chat_setup(client, caller)
    history = await call(client, caller, "POST", path, json=history_body("q", "a", metadata=[{"k": "v"}]))
    assert (await call(client, caller, "GET", f"/deployments/{deployment_id}"))["history_count"] == 1
    deleted = await call(client, caller, "DELETE", f"{path}/{history['id']}")
    assert deleted == history  # the history as it was
    await error(client, caller, "GET", f"{path}/{history['id']}", 404)
    await error(client, caller, "DELETE", f"{path}/{history['id']}", 404)
    await error(client, caller, "POST", f"{path}/{history['id']}/metadata", 404, json={"key": "k2", "value": "v"})
    listed = await call(client, caller, "GET", f"/deployments/{deployment_id}/histories")
    assert (listed["total"], listed["histories"]) == (0, [])
    assert (await call(client, caller, "GET", f"/deployments/{deployment_id}"))["history_count"] == 0
    async with runtime.sessions() as db:
        row = await db.scalar(select(Message).where(Message.id == history["id"]))
    assert row is not None and row.deleted_at is not None and row.channel == "opsbee"


async def test_history_paths_check_every_level(client: Client, caller: Caller, other_caller: Caller) -> None:
    deployment_id, _, path = await chat_setup(client, caller)
    history = await call(client, caller, "POST", path, json=history_body("q", "a"))
    other_thread = await new_thread(client, caller, deployment_id, "other")
    await error(
        client,
        caller,
        "GET",
        f"/deployments/{deployment_id}/threads/{other_thread['id']}/histories/{history['id']}",
        404,
    )
    await error(client, caller, "GET", f"/deployments/{deployment_id}/threads/nope/histories/{history['id']}", 404)
    await error(client, other_caller, "GET", f"{path}/{history['id']}", 404)
    await error(client, caller, "GET", f"{path}/{history['id']}", 404, org=other_caller.tenant_id)


async def test_deployment_type_must_match(client: Client, caller: Caller) -> None:
    chat_id, _, _ = await chat_setup(client, caller)
    qa = await new_deployment(client, caller, "qa")
    assert "'chat'" in await error(client, caller, "GET", f"/deployments/{chat_id}/qa_histories", 400)
    await error(client, caller, "POST", f"/deployments/{chat_id}/qa_histories", 400, json=history_body("q", "a"))
    assert "'qa'" in await error(client, caller, "GET", f"/deployments/{qa['id']}/histories", 400)
    qa_thread = await new_thread(client, caller, qa["id"])
    await error(
        client,
        caller,
        "POST",
        f"/deployments/{qa['id']}/threads/{qa_thread['id']}/histories",
        400,
        json=history_body("q", "a"),
    )


async def qa_flow(client: Client, caller: Caller) -> tuple[str, dict[str, Any]]:
    deployment = await new_deployment(client, caller, "qa")
    tag = await new_tag(client, caller, "NG", "red")
    history = await new_qa_history(
        client, caller, deployment["id"], QUESTION, ANSWER, tag_ids=[tag["id"]], metadata=[{"m": "1"}]
    )
    return deployment["id"], history


async def test_qa_history_crud_and_metadata(client: Client, caller: Caller) -> None:
    deployment_id, history = await qa_flow(client, caller)
    path = f"/deployments/{deployment_id}/qa_histories/{history['id']}"
    assert set(history) == HISTORY_KEYS and history["thread_name"] == "QA thread"
    assert await call(client, caller, "GET", path) == history
    updated = await call(client, caller, "PATCH", path, json={"output_text": "better", "tag_ids": []})
    assert (updated["output_text"], updated["tags"]) == ("better", [])
    added = await call(client, caller, "POST", f"{path}/metadata", json={"key": "m2", "value": "2"})
    changed = await call(client, caller, "PATCH", f"{path}/metadata/{added['id']}", json={"key": "m2", "value": "3"})
    assert changed["value"] == "3"
    assert (await call(client, caller, "DELETE", f"{path}/metadata/{added['id']}"))[
        "message"
    ] == f"metadata {added['id']} was deleted."
    deleted = await call(client, caller, "DELETE", path)
    assert deleted["id"] == history["id"] and deleted["output_text"] == "better"
    await error(client, caller, "GET", path, 404)


async def test_chat_history_made_elsewhere_needs_its_thread(client: Client, caller: Caller) -> None:
    """A chat history lives under its own thread only."""
    deployment_id, thread_id, path = await chat_setup(client, caller)
    history = await new_chat_history(client, caller, deployment_id, thread_id, "q", "a")
    assert history["thread_id"] == thread_id
    assert (await call(client, caller, "GET", f"{path}/{history['id']}"))["id"] == history["id"]
