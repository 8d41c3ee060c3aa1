"""Helpers for the OpenAI-compatible face's tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from service.db.models import Assistant, Message
from service.domain.assistants import AssistantConfig, create_assistant
from service.providers.llm import EXTRACTIVE
from service.runtime import Runtime
from tests.conftest import Caller

QUESTION = "When does the honey harvest happen?"
CHUNK_KEYS = {"id", "choices", "created", "model", "object", "system_fingerprint", "usage"}
DELTA_KEYS = {"content", "role", "function_call", "tool_calls", "reasoning_content"}
REFERENCE_KEYS = {
    "id", "content", "document_id", "document_name", "dataset_id", "image_id", "positions", "url",
    "similarity", "vector_similarity", "term_similarity", "row_id", "doc_type", "document_metadata",
}  # fmt: skip


@dataclass
class Kb:
    caller: Caller
    dataset_id: str
    documents: dict[str, str]  # name → id
    assistant_id: str
    assistant_name: str


async def make_assistant(
    runtime: Runtime, tenant_id: str, name: str, dataset_ids: list[str] | None = None, **config: Any
) -> Assistant:
    async with runtime.sessions() as db:
        settings = AssistantConfig(llm_id=EXTRACTIVE, dataset_ids=dataset_ids or [], **config)
        assistant = await create_assistant(db, tenant_id, name, settings)
        await db.commit()
    return assistant


async def messages_of(runtime: Runtime, assistant_id: str) -> list[Message]:
    async with runtime.sessions() as db:
        rows = await db.scalars(
            select(Message).where(Message.assistant_id == assistant_id).order_by(Message.created_at, Message.id)
        )
        return list(rows)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def sse_data(response: httpx.Response) -> list[str]:
    """The `data:` payloads of an event stream, in order (keep-alive comments skipped)."""
    payloads = []
    for event in response.text.split("\n\n"):
        lines = [line for line in event.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        assert len(lines) == 1 and lines[0].startswith("data:"), event
        payloads.append(lines[0][len("data:") :].lstrip(" "))
    return payloads


def stream_chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON chunks of a completion stream, checking it ends with exactly one `data:[DONE]`."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_data(response)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1, payloads
    assert response.text.endswith("data:[DONE]\n\n")
    return [json.loads(payload) for payload in payloads[:-1]]


def split_stream(chunks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(content chunks, the final chunk); checks the shape every chunk shares."""
    for chunk in chunks:
        assert set(chunk) == CHUNK_KEYS, chunk
        assert chunk["object"] == "chat.completion.chunk"
        assert len(chunk["choices"]) == 1
    *content, final = chunks
    for chunk in content:
        choice = chunk["choices"][0]
        assert choice["finish_reason"] is None and chunk["usage"] is None
        assert set(choice["delta"]) == DELTA_KEYS and choice["delta"]["role"] == "assistant"
        assert isinstance(choice["delta"]["content"], str) and choice["delta"]["content"]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["delta"]["content"] is None  # never repeats the answer
    return content, final


def joined(content: list[dict[str, Any]]) -> str:
    return "".join(chunk["choices"][0]["delta"]["content"] for chunk in content)


def check_usage(usage: dict[str, Any]) -> None:
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def openai_error(response: httpx.Response, status: int, message: str, ragflow_code: int) -> dict[str, Any]:
    """Both shapes: OpenAI's `error` object and RAGFlow's `code` + `message`."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "code", "message"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    assert body["error"]["message"] == body["message"] == message, body
    assert body["code"] == ragflow_code, body
    return body
