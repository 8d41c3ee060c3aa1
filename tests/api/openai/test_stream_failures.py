"""Upstream failures through the official openai SDK: a broken stream raises, and no call outlives its deadline.

The SDK (pointed at the app in-process) raises `openai.APIError` on an SSE event with an `error` key; before,
a failure mid-stream came as content `**ERROR**: …` then `finish_reason: "stop"`, which it took for an answer.
The deadlines are the settings' (NECTAR_LLM_TIMEOUT for the whole call, NECTAR_LLM_FIRST_TOKEN_TIMEOUT for the
first word), not the HTTP client's per-read timeout that a trickling upstream never trips.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import httpx
import httpx2
import openai
import pytest
from sqlalchemy import select

from service.app import create_app
from service.db.models import Message
from service.domain.assistants import AssistantConfig, create_assistant
from service.runtime import Runtime
from tests.api.openai.helpers import sse_data, user
from tests.conftest import Caller
from tests.support.upstream import UpstreamProcess

TOTAL, FIRST_TOKEN = 1.5, 0.5  # the deadlines of the `strict` app: short, so each test takes a second or two
SLACK = 5.0  # for a loaded machine; the upstreams run 30 s (`slow`) and 60 s (`endless`) left alone
UPSTREAM_ERROR = {"type": "api_error", "param": None, "code": "upstream_error"}


@pytest.fixture(scope="module")
async def strict(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The session's database and models with tight LLM deadlines (its engine is the session's: not closed)."""
    settings = replace(runtime.settings, llm_timeout=TOTAL, llm_first_token_timeout=FIRST_TOKEN)
    strict = Runtime(settings, runtime.database_url, runtime.engine, runtime.sessions)
    yield strict
    await strict.models.close()


def sdk(runtime: Runtime, caller: Caller, base: str) -> openai.AsyncOpenAI:
    """The unchanged SDK; only its transport is the app in-process instead of a socket."""
    transport = httpx2.ASGITransport(app=cast(Any, create_app(runtime=runtime)))  # the SDK's own HTTP library
    http = httpx2.AsyncClient(transport=transport, timeout=30)
    return openai.AsyncOpenAI(base_url=f"http://nectar.test{base}", api_key=caller.key, http_client=http)


async def assistant_on(runtime: Runtime, caller: Caller, llm_id: str) -> str:
    async with runtime.sessions() as db:
        config = AssistantConfig(llm_id=llm_id)
        assistant = await create_assistant(db, caller.tenant_id, f"{llm_id} {uuid.uuid4().hex[:6]}", config)
        await db.commit()
    return assistant.id


async def stream_until_error(
    client: openai.AsyncOpenAI, model: str, question: str = "hello there"
) -> tuple[list[Any], openai.APIError]:
    """The chunks the SDK yielded before it raised, and what it raised."""
    chunks: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        stream = await client.chat.completions.create(model=model, messages=question_of(question), stream=True)
        async for chunk in stream:
            chunks.append(chunk)
    return chunks, caught.value


def question_of(text: str) -> list[Any]:
    return user(text)  # the SDK types messages with its own TypedDicts


def sent(upstream: UpstreamProcess, question: str) -> list[dict[str, Any]]:
    """The upstream's records of the requests asking `question`."""
    return [r for r in upstream.received() if question in str(r.get("messages"))]


async def recorded(runtime: Runtime, assistant_id: str) -> Message:
    async with runtime.sessions() as db:
        row = await db.scalar(select(Message).where(Message.assistant_id == assistant_id))
    assert row is not None
    return row


def check_not_an_answer(chunks: list[Any]) -> str:
    """Only deltas of real content: no error text as content, no chunk claiming the answer is complete."""
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks)
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert "ERROR" not in content
    return content


@pytest.mark.parametrize(
    ("model", "detail", "content"),
    [
        ("cut", "stream broke off: the connection was lost", "echo: hello "),
        ("error-event", "stream broke off: the GPU fell over", "echo: "),
        ("unfinished", "stream ended before the answer was finished", "echo: hello "),
        ("garbage", "sent an unreadable stream", "echo: "),
        ("fail-500", "answered HTTP 500: upstream exploded", ""),
    ],
)
async def test_a_failed_stream_raises_in_the_sdk(
    runtime: Runtime, caller: Caller, model: str, detail: str, content: str
) -> None:
    assistant_id = await assistant_on(runtime, caller, "echo@echo")
    async with sdk(runtime, caller, f"/api/v1/chats_openai/{assistant_id}") as client:
        chunks, error = await stream_until_error(client, f"{model}@echo")  # a model override of the request
    assert check_not_an_answer(chunks) == content  # what the upstream did send still arrives
    assert error.message.startswith(f"LLM {model}@echo {detail}")
    assert error.body == {"message": error.message, **UPSTREAM_ERROR}
    row = await recorded(runtime, assistant_id)
    assert (row.status, row.error, row.output) == ("error", error.message, content)


async def test_the_wire_ends_with_an_error_event_then_done(
    client: httpx.AsyncClient, runtime: Runtime, caller: Caller
) -> None:
    """What a client without the SDK sees: content deltas, one `{"error": …}` event in the shape of an error
    reply (plus RAGFlow's code), then `[DONE]`; no final chunk."""
    assistant_id = await assistant_on(runtime, caller, "cut@echo")
    body = {"model": assistant_id, "messages": user("cut me off"), "stream": True}
    response = await client.post("/v1/chat/completions", json=body, headers=caller.headers)
    assert response.status_code == 200
    *events, error, done = sse_data(response)
    assert done == "[DONE]"
    chunks = [json.loads(event) for event in events]
    assert [chunk["choices"][0]["delta"]["content"] for chunk in chunks] == ["echo: ", "cut "]
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)
    message = "LLM cut@echo stream broke off: the connection was lost"
    assert json.loads(error) == {"error": {"message": message, **UPSTREAM_ERROR}, "code": 100, "message": message}


async def test_a_trickling_upstream_is_cut_at_the_total_deadline(
    strict: Runtime, caller: Caller, upstream: UpstreamProcess
) -> None:
    """`endless` sends a word every 50 ms for a minute: no read ever waits long, only the whole call does."""
    assistant_id = await assistant_on(strict, caller, "endless@echo")
    question = f"go on {uuid.uuid4().hex}"
    started = time.monotonic()
    async with sdk(strict, caller, "/v1") as client:
        chunks, error = await stream_until_error(client, assistant_id, question)
    elapsed = time.monotonic() - started
    assert TOTAL <= elapsed < TOTAL + SLACK, elapsed
    assert len(chunks) > 5 and check_not_an_answer(chunks).startswith("word0 word1 ")
    assert error.message == f"LLM endless@echo timed out: the answer took longer than {TOTAL:g} s"
    row = await recorded(strict, assistant_id)
    assert row.status == "error" and row.error == error.message
    assert [r["_outcome"] for r in sent(upstream, question)] == ["client_closed"]  # the upstream call was closed


async def test_a_silent_upstream_is_cut_at_the_first_token_deadline(strict: Runtime, caller: Caller) -> None:
    """`slow` answers nothing for 30 s: the first-token timeout ends the wait, well before the total."""
    assistant_id = await assistant_on(strict, caller, "slow@echo")
    started = time.monotonic()
    async with sdk(strict, caller, "/v1") as client:
        chunks, error = await stream_until_error(client, assistant_id)
    elapsed = time.monotonic() - started
    assert FIRST_TOKEN <= elapsed < FIRST_TOKEN + SLACK, elapsed
    assert chunks == []
    assert error.message == f"LLM slow@echo timed out: no answer within {FIRST_TOKEN:g} s"


async def test_a_non_stream_call_has_the_same_deadline(
    strict: Runtime, caller: Caller, upstream: UpstreamProcess
) -> None:
    """Drained into one reply, the trickle still ends at the deadline: a 502 the SDK does not retry."""
    assistant_id = await assistant_on(strict, caller, "endless@echo")
    question = f"go on {uuid.uuid4().hex}"
    started = time.monotonic()
    async with sdk(strict, caller, "/v1") as client:
        with pytest.raises(openai.InternalServerError) as caught:
            await client.chat.completions.create(model=assistant_id, messages=question_of(question))
    assert TOTAL <= time.monotonic() - started < TOTAL + SLACK
    assert caught.value.status_code == 502 and "took longer than 1.5 s" in caught.value.message
    assert len(sent(upstream, question)) == 1  # `x-should-retry: false`: one attempt, not the SDK's three
