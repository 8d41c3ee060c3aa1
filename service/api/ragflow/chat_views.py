"""Chats, sessions and answers in RAGFlow's JSON shapes (§6-§8 of the wire notes).

One chunk formatter serves the completion stream, the non-stream answer and a session's stored messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.api.ragflow.views import times
from service.api.references import reference_chunks
from service.domain.assistants import AssistantConfig, config_of

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession, Message
    from service.domain.answering import Answer

DONE: dict[str, Any] = {"code": 0, "message": "", "data": True}


def shown_config(assistant: Assistant) -> AssistantConfig:
    """The published config; an app that was never published shows its draft."""
    return config_of(assistant, draft=assistant.published_config is None)


def chat_json(assistant: Assistant, names: dict[str, str]) -> dict[str, Any]:
    """`names`: {dataset id: name} of existing datasets; deleted ones drop out as in RAGFlow."""
    config = shown_config(assistant)
    dataset_ids = [dataset_id for dataset_id in config.dataset_ids if dataset_id in names]
    return {
        "id": assistant.id,
        "name": assistant.name,
        "description": assistant.description,
        "icon": assistant.icon,
        "dataset_ids": dataset_ids,
        "kb_names": [names[dataset_id] for dataset_id in dataset_ids],
        "language": "English",
        "llm_id": config.llm_id,
        "llm_setting": config.llm_setting,
        "prompt_config": config.prompt_config,
        "prompt_type": "simple",
        "similarity_threshold": config.similarity_threshold,
        "vector_similarity_weight": config.vector_similarity_weight,
        "top_n": config.top_n,
        "top_k": config.top_k,
        "rerank_id": config.rerank_id,
        "status": "1",
        "tenant_id": assistant.tenant_id,
        **times(assistant),
    }


def reference_json(reference: dict[str, Any], with_total: bool = True) -> dict[str, Any]:
    chunks = reference_chunks(reference)
    body: dict[str, Any] = {"total": reference.get("total", len(chunks))} if with_total else {}
    return {**body, "chunks": chunks, "doc_aggs": reference.get("doc_aggs") or []}


def _answer_text(turn: Message) -> str:
    if turn.status == "error" and not turn.output:
        return f"**ERROR**: {turn.error}"
    return turn.output


def session_json(session: ChatSession, assistant: Assistant, turns: list[Message]) -> dict[str, Any]:
    """The chat's prologue, then each recorded turn as a user and an assistant message sharing the turn's id."""
    messages: list[dict[str, Any]] = [
        {"role": "assistant", "content": shown_config(assistant).prompt_config.get("prologue", "")}
    ]
    references = []
    for turn in turns:
        created = turn.created_at.timestamp()
        chunks = reference_chunks(turn.reference or {})
        answer = {"role": "assistant", "content": _answer_text(turn), "id": turn.id, "created_at": created}
        if turn.thumbup is not None:
            answer["thumbup"] = turn.thumbup
        if turn.feedback:
            answer["feedback"] = turn.feedback
        messages += [
            {"role": "user", "content": turn.input, "id": turn.id, "created_at": created},
            {**answer, "reference": chunks},
        ]
        references.append({"chunks": chunks, "doc_aggs": (turn.reference or {}).get("doc_aggs") or []})
    return {
        "id": session.id,
        "chat_id": session.assistant_id,
        "name": session.name,
        "user_id": session.user_id,
        "messages": messages,
        "reference": references,
        **times(session),
    }


def delta_event(answer: str, message_id: str, session_id: str, chat_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "answer": answer,
        "reference": {"chunks": []},
        "audio_binary": None,
        "final": False,
        "id": message_id,
        "session_id": session_id,
    }
    return {"code": 0, "message": "", "data": _in_chat(data, chat_id)}


def final_event(answer: Answer, chat_id: str | None, legacy: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "answer": answer.text if legacy else "",
        "reference": reference_json(answer.reference),
        "prompt": answer.prompt,
        "created_at": answer.created_at,
        "audio_binary": None,
        "final": True,
        "id": answer.message_id,
        "session_id": answer.session_id,
    }
    return {"code": 0, "message": "", "data": _in_chat(data, chat_id)}


def error_event(message: str) -> dict[str, Any]:
    return {"code": 500, "message": message, "data": {"answer": f"**ERROR**: {message}", "reference": []}}


def completion_json(answer: Answer, chat_id: str | None) -> dict[str, Any]:
    """The non-stream reply's `data`."""
    data = {
        "answer": answer.text,
        "reference": reference_json(answer.reference, with_total=False),
        "prompt": answer.prompt,
        "created_at": answer.created_at,
        "audio_binary": None,
        "id": answer.message_id,
        "session_id": answer.session_id,
    }
    return _in_chat(data, chat_id)


def _in_chat(data: dict[str, Any], chat_id: str | None) -> dict[str, Any]:
    """A chat-less answer (RAGFlow's `/chat/completions` without `chat_id`) carries no `chat_id` key."""
    return data if chat_id is None else {**data, "chat_id": chat_id}
