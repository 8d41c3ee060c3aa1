"""Every answer any face gives shows up, once, as a history of its deployment (token counts and latency)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db.models import Message
from service.runtime import Runtime
from tests.api.opsbee.helpers import Client, call
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import ECHO_PROVIDER, Caller


async def histories(client: Client, caller: Caller, deployment_id: str) -> list[dict[str, Any]]:
    listed = await call(client, caller, "GET", f"/deployments/{deployment_id}/histories")
    assert listed["total"] == len(listed["histories"])
    return listed["histories"]  # type: ignore[no-any-return]


async def latency(runtime: Runtime, message_id: str) -> tuple[str, float]:
    async with runtime.sessions() as db:
        row = await db.scalar(select(Message).where(Message.id == message_id))
    assert row is not None
    return row.channel, row.latency_ms


async def test_ragflow_completion_is_one_history(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await new_chat(client, caller, "ragflow-face", llm_id=f"echo@{ECHO_PROVIDER}")
    response = await client.post(
        f"/api/v1/chats/{chat['id']}/completions",
        json={"question": "Where do bees live?", "stream": False},
        headers=caller.headers,
    )
    assert response.status_code == 200 and response.json()["code"] == 0, response.text
    answer = response.json()["data"]["answer"]
    [history] = await histories(client, caller, chat["id"])
    assert (history["input_text"], history["output_text"]) == ("Where do bees live?", answer)
    assert history["input_token_count"] > 0 and history["output_token_count"] > 0
    assert history["thread_id"] == response.json()["data"]["session_id"] and history["thread_name"] == "New session"
    channel, took = await latency(runtime, history["id"])
    assert channel == "ragflow" and took > 0
    assert (await call(client, caller, "GET", f"/deployments/{chat['id']}"))["history_count"] == 1
    thread_path = f"/deployments/{chat['id']}/threads/{history['thread_id']}/histories/{history['id']}"
    assert (await call(client, caller, "GET", thread_path))["output_text"] == answer


async def test_openai_completion_is_one_history(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await new_chat(client, caller, "openai-face", llm_id=f"echo@{ECHO_PROVIDER}")
    body = {"model": "model", "messages": [{"role": "user", "content": "How is honey made?"}], "stream": False}
    response = await client.post(
        f"/api/v1/chats_openai/{chat['id']}/chat/completions", json=body, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    completion = response.json()
    [history] = await histories(client, caller, chat["id"])
    assert (history["input_text"], history["output_text"]) == (
        "How is honey made?",
        completion["choices"][0]["message"]["content"],
    )
    assert history["input_token_count"] == completion["usage"]["prompt_tokens"] > 0
    assert history["output_token_count"] == completion["usage"]["completion_tokens"] > 0
    assert (history["thread_id"], history["thread_name"]) == (None, "")  # a stateless face: no thread
    channel, took = await latency(runtime, history["id"])
    assert channel == "openai" and took > 0
