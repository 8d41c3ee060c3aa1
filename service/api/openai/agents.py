"""`POST /api/v1/agents_openai/{agent_id}/chat/completions`: a RAGFlow agent for the OpenAI SDKs.

The messages' last user message is the agent's `sys.query`, the earlier ones its history (or, with
`session_id`, that session's recorded turns). Each call is one recorded turn of the agent (channel "openai",
no session unless one is named). Replies as the chats_openai face: a `chat.completion`, or
`chat.completion.chunk` deltas, a final chunk with `finish_reason: "stop"` and the usage (and, asked for, the
reference), then `data:[DONE]`; a failure mid-stream is an error event; real HTTP statuses otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.openai.chat import Completion, chunk_json
from service.api.openai.errors import as_api_error, error_body, internal_error, invalid
from service.api.openai.schemas import ChatRequest, json_object, parse_chat
from service.api.references import reference_chunks
from service.api.sse import as_asgi, data_event, event_stream
from service.domain.agents import store
from service.domain.agents.runs import AgentRunner, Asking, Finished, PreparedRun, begin_turn
from service.domain.answering import Answerer
from service.errors import DomainError
from service.settings import Settings

log = logging.getLogger(__name__)
CHANNEL = "openai"


def usage_of(finished: Finished) -> dict[str, int]:
    total = finished.prompt_tokens + finished.completion_tokens
    return {
        "prompt_tokens": finished.prompt_tokens,
        "completion_tokens": finished.completion_tokens,
        "total_tokens": total,
    }


def session_of(body: dict[str, Any]) -> str | None:
    session_id = body.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        raise invalid("`session_id` must be a string.", param="session_id")
    return session_id or None


async def stream_events(prepared: PreparedRun, chat: ChatRequest, completion: Completion) -> AsyncIterator[bytes]:
    try:
        async for event in prepared.events():
            if isinstance(event, Finished):
                final = {"reference": reference_chunks(event.reference)} if chat.reference else {}
                yield data_event(chunk_json(completion, final, "stop", usage_of(event)))
            elif event.name == "message" and event.data["content"]:
                yield data_event(chunk_json(completion, {"content": event.data["content"]}))
    except DomainError as exc:  # already recorded as a failed turn
        yield data_event(error_body(as_api_error(exc)))
    except Exception as exc:
        log.exception("agent completion stream failed")
        yield data_event(error_body(internal_error(exc)))
    yield data_event("[DONE]")


def completion_json(chat: ChatRequest, completion: Completion, finished: Finished) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": finished.text}
    if chat.reference:
        message["reference"] = reference_chunks(finished.reference)
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "usage": usage_of(finished),
        "choices": [{"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}],
    }


@post("/api/v1/agents_openai/{agent_id:str}/chat/completions", status_code=200)
async def agent_chat_completions(
    request: Request[Any, Any, Any],
    agent_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    answerer: NamedDependency[Answerer],
    settings: NamedDependency[Settings],
) -> ASGIApp:
    body = await json_object(request)
    chat = parse_chat(body)
    agent = await store.get_agent(db, tenant, agent_id)
    asking = Asking(chat.question, CHANNEL, session_of(body), new_session=False, history=chat.history)
    prepared = await begin_turn(db, AgentRunner.of(answerer, settings.default_llm), agent, asking)
    await db.commit()  # a run can take a minute: hand the connection back first
    completion = Completion(f"chatcmpl-{prepared.turn.message_id}", chat.model, int(time.time()))
    if chat.stream:
        return event_stream(stream_events(prepared, chat, completion))
    _, finished = await prepared.collect()  # an UpstreamError here becomes a 502
    return as_asgi(request, Response(completion_json(chat, completion, finished), status_code=200))
