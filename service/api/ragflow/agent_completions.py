"""`POST /api/v1/agents/chat/completions` and the deprecated `POST /api/v1/agents/{agent_id}/completions`.

Streams RAGFlow's events as `data:{json}` (`workflow_started`, `node_started`, `message`, `message_end` with
the reference, `node_finished`, `workflow_finished`), then `data:[DONE]`; a failure mid-run becomes
`data:{"code": 500, "message", "data": false}` before it. With `"openai-compatible": true` the same run
answers as OpenAI chunks. Without `session_id` a session is made, and every turn is recorded in it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.agent_views import (
    completion_json,
    error_event,
    event_json,
    openai_chunk,
    openai_completion,
    reference_json,
)
from service.api.ragflow.agents import AGENT_ERRORS, agent_to_use
from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import json_body
from service.api.sse import as_asgi, data_event, event_stream
from service.domain.agents import store
from service.domain.agents.runs import AgentRunner, Asking, Finished, PreparedRun, begin_turn
from service.domain.answering import Answerer
from service.errors import DomainError, Invalid
from service.settings import Settings

log = logging.getLogger(__name__)
DONE = "[DONE]"


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value) if value is not None else default


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"`{key}` should be a string.")
    return value or ""


@dataclass
class Asked:
    query: str
    history: list[tuple[str, str]] | None  # openai-compatible: the client's earlier turns
    stream: bool
    openai: bool
    trace: bool


def openai_messages(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    messages = body.get("messages")
    if not messages:
        raise DomainError("You must provide at least one message.")
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages
    ):
        raise Invalid("`messages` should be a list of {role, content} with string content.")
    turns = [m for m in messages if m.get("role") in ("user", "assistant")]
    pairs = itertools.pairwise(turns[:-1])
    history = [(a["content"], b["content"]) for a, b in pairs if (a["role"], b["role"]) == ("user", "assistant")]
    question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    return question, history


def asked(body: dict[str, Any]) -> Asked:
    openai = _flag(body, "openai-compatible", False)
    trace = _flag(body, "return_trace", False)
    if openai:
        question, history = openai_messages(body)
        return Asked(question, history, _flag(body, "stream", False), True, trace)
    query = _text(body, "query") or _text(body, "question")
    return Asked(query, None, _flag(body, "stream", True), False, trace)


def inputs_of(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("inputs")
    if inputs is None:
        return {}
    if not isinstance(inputs, dict):
        raise Invalid("`inputs` should be an object of {key: {type, value}}.")
    return inputs


async def prepare(
    db: AsyncSession, tenant: str, body: dict[str, Any], runner: AgentRunner, ask: Asked
) -> tuple[store.AgentRow, PreparedRun]:
    agent_id = body.get("agent_id")
    if not agent_id:
        raise Invalid("`agent_id` is required.")
    if not isinstance(agent_id, str):
        raise Invalid("`agent_id` should be a string.")
    agent = await agent_to_use(db, tenant, agent_id)
    session_id = body.get("session_id") or (body.get("id") if ask.openai else None)
    asking = Asking(ask.query, "ragflow", str(session_id) if session_id else None, inputs=inputs_of(body))
    asking.user_id, asking.history = _text(body, "user_id"), ask.history
    prepared = await begin_turn(db, runner, agent, asking)  # a refusal rolls a new session back with the request
    await db.commit()  # a run can take a minute: hand the connection back first
    return agent, prepared


async def native_events(prepared: PreparedRun, agent_id: str) -> AsyncIterator[bytes]:
    turn = prepared.turn
    try:
        async for event in prepared.events():
            if not isinstance(event, Finished):
                yield data_event(event_json(event, turn.message_id, agent_id, turn.session_id))
    except DomainError as exc:  # recorded as a failed turn by the run
        yield data_event(error_event(exc.message))
    except Exception as exc:
        log.exception("agent run failed")
        yield data_event(error_event(f"Internal error ({type(exc).__name__}); see the server log"))
    yield data_event(DONE)


async def openai_events(prepared: PreparedRun, agent_id: str) -> AsyncIterator[bytes]:
    message_id = prepared.turn.message_id
    try:
        async for event in prepared.events():
            if isinstance(event, Finished):
                final = {"content": "", "reference": reference_json(event.reference)}
                yield data_event(openai_chunk(agent_id, message_id, final, "stop"))
            elif event.name == "message":
                yield data_event(openai_chunk(agent_id, message_id, {"content": event.data["content"]}))
    except DomainError as exc:
        yield data_event(error_event(exc.message))
    yield data_event(DONE)


async def complete(
    request: Request[Any, Any, Any], db: AsyncSession, tenant: str, body: dict[str, Any], runner: AgentRunner
) -> ASGIApp:
    ask = asked(body)
    agent, prepared = await prepare(db, tenant, body, runner, ask)
    if ask.stream:
        return event_stream((openai_events if ask.openai else native_events)(prepared, agent.id))
    try:
        events, finished = await prepared.collect()
    except DomainError as exc:  # RAGFlow's words for a run that failed
        return as_asgi(request, ok(f"**ERROR**: {exc.message}"))
    if ask.openai:
        return as_asgi(request, Response(openai_completion(agent.id, finished), status_code=200))
    return as_asgi(request, ok(completion_json(events, finished, agent.id, ask.trace)))


@post("/agents/chat/completions", status_code=200, exception_handlers=AGENT_ERRORS)
async def agent_completions(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    answerer: NamedDependency[Answerer],
    settings: NamedDependency[Settings],
) -> ASGIApp:
    body = await json_body(request)
    return await complete(request, db, tenant, body, AgentRunner.of(answerer, settings.default_llm))


@post("/agents/{agent_id:str}/completions", status_code=200, exception_handlers=AGENT_ERRORS)
async def agent_completions_alias(
    agent_id: FromPath[str],
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    answerer: NamedDependency[Answerer],
    settings: NamedDependency[Settings],
) -> ASGIApp:
    """Deprecated: the agent from the path."""
    body = {**await json_body(request), "agent_id": agent_id}
    return await complete(request, db, tenant, body, AgentRunner.of(answerer, settings.default_llm))
