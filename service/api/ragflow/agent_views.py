"""Agents, their sessions and their runs in RAGFlow's JSON shapes (v0.27's `agent_api.py`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from service.api.ragflow.views import times
from service.api.references import reference_chunks

if TYPE_CHECKING:
    from service.db.models import ChatSession, Message
    from service.domain.agents.engine import Event
    from service.domain.agents.runs import Finished
    from service.domain.agents.store import AgentRow

CATEGORY = "agent_canvas"


def agent_json(agent: AgentRow) -> dict[str, Any]:
    assistant = agent.assistant
    return {
        "id": assistant.id,
        "title": assistant.name,
        "avatar": assistant.icon or None,
        "description": assistant.description or None,
        "canvas_type": agent.canvas.canvas_type or None,
        "canvas_category": CATEGORY,
        "dsl": agent.canvas.dsl,
        "permission": "me",
        "user_id": assistant.tenant_id,
        "release": False,
        **times(assistant),
    }


def prologue(agent: AgentRow) -> str:
    components = agent.canvas.dsl.get("components") or {}
    params = (components.get("begin") or {}).get("obj", {}).get("params") or {}
    text = params.get("prologue", "Hi! I'm your assistant. What can I do for you?")
    return text if isinstance(text, str) else ""


def session_json(agent: AgentRow, session: ChatSession, turns: list[Message], with_dsl: bool = True) -> dict[str, Any]:
    """The prologue, then each recorded turn as a user and an assistant message sharing the turn's id."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": prologue(agent)}]
    for turn in turns:
        created = turn.created_at.timestamp()
        answer = turn.output if turn.status != "error" or turn.output else f"**ERROR**: {turn.error}"
        messages += [
            {"role": "user", "content": turn.input, "id": turn.id, "created_at": created},
            {
                "role": "assistant",
                "content": answer,
                "id": turn.id,
                "created_at": created,
                "reference": reference_chunks(turn.reference or {}),
            },
        ]
    body: dict[str, Any] = {
        "id": session.id,
        "agent_id": agent.id,
        "name": session.name,
        "user_id": session.user_id,
        "message": messages,
        "source": "agent",
        **times(session),
    }
    return {**body, "dsl": agent.canvas.dsl} if with_dsl else body


def reference_json(reference: dict[str, Any]) -> dict[str, Any]:
    """`{}` when nothing was retrieved (as RAGFlow sends it), else the formatted chunks and doc_aggs."""
    if not reference.get("chunks"):
        return {}
    return {"chunks": reference_chunks(reference), "doc_aggs": reference.get("doc_aggs") or []}


def event_json(event: Event, message_id: str, agent_id: str, session_id: str | None) -> dict[str, Any]:
    data = event.data
    if event.name == "message_end":
        data = {"reference": reference_json(data["reference"])}
    return {
        "event": event.name,
        "message_id": message_id,
        "created_at": int(time.time()),
        "task_id": agent_id,
        "data": data,
        "session_id": session_id,
    }


def completion_json(events: list[Event], finished: Finished, agent_id: str, trace: bool) -> dict[str, Any]:
    """The non-stream reply's `data`: the last event, its data the whole answer (and the trace if asked)."""
    last = event_json(events[-1], finished.message_id, agent_id, finished.session_id)
    data = {**last["data"], "content": finished.text, "reference": reference_json(finished.reference)}
    if trace:
        data["trace"] = [
            {"component_id": event.data["component_id"], "trace": [event.data]}
            for event in events
            if event.name == "node_finished"
        ]
    return {**last, "data": data}


def error_event(message: str) -> dict[str, Any]:
    return {"code": 500, "message": message, "data": False}


def openai_chunk(agent_id: str, message_id: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """`openai-compatible: true`: RAGFlow's OpenAI-like chunk (model = the agent id)."""
    return {
        "id": message_id,
        "object": "chat.completion.chunk",
        "model": agent_id,
        "choices": [{"delta": delta, "finish_reason": finish, "index": 0}],
    }


def openai_completion(agent_id: str, finished: Finished) -> dict[str, Any]:
    message = {"role": "assistant", "content": finished.text, "reference": reference_json(finished.reference)}
    tokens = {"prompt_tokens": finished.prompt_tokens, "completion_tokens": finished.completion_tokens}
    return {
        "id": finished.message_id,
        "object": "chat.completion",
        "model": agent_id,
        "created": int(time.time()),
        "choices": [{"finish_reason": "stop", "index": 0, "logprobs": None, "message": message}],
        "usage": {**tokens, "total_tokens": finished.prompt_tokens + finished.completion_tokens},
    }
