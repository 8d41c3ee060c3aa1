"""A failed turn is visible as one in OpsBee: `status` and `error_message` on every history, and searchable.

Before, a turn whose LLM failed showed `output_text` "" (or half an answer) and nothing else: a success to anyone
reading the histories. The failures here are real ones, from the fake upstream through the chat faces.
"""

from __future__ import annotations

from typing import Any

from tests.api.opsbee.helpers import Client, call, error, new_chat_history, new_deployment, new_thread
from tests.api.opsbee.test_history_search import search
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import ECHO_PROVIDER, Caller

FAILED = f"LLM fail-500@{ECHO_PROVIDER} answered HTTP 500: upstream exploded"


async def ask(client: Client, caller: Caller, chat_id: str, question: str, model: str = "model") -> int:
    """One question through the OpenAI face of a RAGFlow chat; its HTTP status."""
    body = {"model": model, "messages": [{"role": "user", "content": question}]}
    response = await client.post(f"/api/v1/chats_openai/{chat_id}/chat/completions", json=body, headers=caller.headers)
    return response.status_code


async def chat_with_turns(client: Client, caller: Caller) -> str:
    """A chat with one good turn, one the upstream failed (HTTP 500) and one cut off mid-answer."""
    chat = await new_chat(client, caller, "flaky", llm_id=f"echo@{ECHO_PROVIDER}")
    assert await ask(client, caller, chat["id"], "good question") == 200
    assert await ask(client, caller, chat["id"], "doomed question", f"fail-500@{ECHO_PROVIDER}") == 502
    assert await ask(client, caller, chat["id"], "cut question", f"cut@{ECHO_PROVIDER}") == 502
    return str(chat["id"])


def by_input(listed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {history["input_text"]: history for history in listed["histories"]}


async def test_histories_say_which_turns_failed_and_why(client: Client, caller: Caller) -> None:
    chat_id = await chat_with_turns(client, caller)
    histories = by_input(await search(client, caller, chat_id))
    good, doomed, cut = histories["good question"], histories["doomed question"], histories["cut question"]
    assert (good["status"], good["error_message"]) == ("ok", None)
    assert good["output_text"] == "echo: good question"
    assert (doomed["status"], doomed["error_message"], doomed["output_text"]) == ("error", FAILED, "")
    assert cut["status"] == "error" and "stream broke off" in cut["error_message"]
    assert cut["output_text"] == "echo: cut "  # what arrived before the cut, no longer mistakable for an answer
    assert await call(client, caller, "GET", f"/deployments/{chat_id}/histories") == await search(
        client, caller, chat_id
    )


async def test_status_and_error_message_are_searchable(client: Client, caller: Caller) -> None:
    chat_id = await chat_with_turns(client, caller)
    failed = await search(client, caller, chat_id, "status:error")
    assert sorted(by_input(failed)) == ["cut question", "doomed question"] and failed["total"] == 2
    assert list(by_input(await search(client, caller, chat_id, "status:ok"))) == ["good question"]
    assert list(by_input(await search(client, caller, chat_id, 'error_message:"*HTTP 500*"'))) == ["doomed question"]
    assert list(by_input(await search(client, caller, chat_id, f'error_message:"{FAILED}"'))) == ["doomed question"]
    either = await search(client, caller, chat_id, 'status:ok OR error_message:"*broke off*"')
    assert sorted(by_input(either)) == ["cut question", "good question"]
    assert (await search(client, caller, chat_id, "status:cancelled"))["total"] == 0
    message = await error(client, caller, "GET", f"/deployments/{chat_id}/histories?search_query=status:failed", 400)
    assert "invalid value 'failed' for status" in message and "ok, error, cancelled" in message


async def test_another_organization_never_sees_the_failures(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    chat_id = await chat_with_turns(client, caller)
    path = f"/deployments/{chat_id}/histories?search_query=status:error"
    await error(client, other_caller, "GET", path, 404)
    await error(client, other_caller, "GET", path, 404, org=caller.tenant_id)
    own = await chat_with_turns(client, other_caller)
    mine = await search(client, other_caller, own, "status:error")
    assert mine["total"] == 2 and {h["organization_id"] for h in mine["histories"]} == {other_caller.tenant_id}


async def test_a_history_logged_through_opsbee_can_say_it_failed(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    plain = await new_chat_history(client, caller, deployment["id"], thread["id"], "q1", "a1")
    assert (plain["status"], plain["error_message"]) == ("ok", None)  # what every SDK call makes
    failed = await new_chat_history(
        client, caller, deployment["id"], thread["id"], "q2", "", status="error", error_message="the GPU fell over"
    )
    assert (failed["status"], failed["error_message"]) == ("error", "the GPU fell over")
    path = f"/deployments/{deployment['id']}/threads/{thread['id']}/histories"
    fixed = await call(client, caller, "PATCH", f"{path}/{failed['id']}", json={"status": "ok", "output_text": "a2"})
    assert (fixed["status"], fixed["error_message"], fixed["output_text"]) == ("ok", None, "a2")
    for bad, expected in (
        ({"status": "failed"}, "`status` must be one of ok, error, cancelled"),
        ({"error_message": 42}, "`error_message` must be a string"),
    ):
        body = {"input_text": "q3", "output_text": "", **bad}
        assert await error(client, caller, "POST", path, 400, json=body) == expected
