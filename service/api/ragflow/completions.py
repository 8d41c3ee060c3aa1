"""`POST /api/v1/chat/completions` and its alias `POST /api/v1/chats/{chat_id}/completions` (what ragflow-sdk calls).

Streams `data:{json}` events: answer deltas (cumulative with `"legacy": true`), one `final` event with the
reference, then `data:{"code": 0, "message": "", "data": true}`. Errors become a code-500 event before that.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.chat_views import DONE, completion_json, delta_event, error_event, final_event
from service.api.ragflow.deps import owned_chat
from service.api.ragflow.envelope import Rejected, ok_message
from service.api.ragflow.metadata_schemas import condition_of
from service.api.ragflow.schemas import json_body
from service.api.sse import as_asgi, data_event, event_stream
from service.domain import conversations
from service.domain.answering import Answerer, Delta, Question
from service.domain.assistants import AssistantConfig, check_datasets, check_sampling, config_of
from service.domain.llms import SAMPLING_KEYS, chosen_llm
from service.errors import DomainError, Invalid
from service.providers.llm import ModelRegistry
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession

log = logging.getLogger(__name__)


@dataclass
class Asked:
    """What a completion body asks, validated."""

    text: str
    history: list[tuple[str, str]]  # the client's earlier turns (used with `pass_all_history_messages`)
    stream: bool
    legacy: bool


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value) if value is not None else default


def conversation(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`messages`, or `question` as one user message; system messages and leading assistant ones dropped."""
    messages = body.get("messages")
    if messages is None and isinstance(body.get("question"), str):
        messages = [{"role": "user", "content": body["question"]}]
    if not messages:
        raise Invalid("required argument are missing: messages")
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages
    ):
        raise Invalid("`messages` should be a list of {role, content} with string content")
    kept: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "system" or (message.get("role") == "assistant" and not kept):
            continue
        kept.append(message)
    if not kept or kept[-1].get("role") != "user":
        raise Invalid("The last message must be from user.")
    return kept


def asked(body: dict[str, Any]) -> Asked:
    messages = conversation(body)
    history: list[tuple[str, str]] = []
    for earlier, later in itertools.pairwise(messages[:-1]):
        if earlier.get("role") == "user" and later.get("role") == "assistant":
            history.append((earlier["content"], later["content"]))
    return Asked(messages[-1]["content"], history, _flag(body, "stream", True), _flag(body, "legacy", False))


def chat_id_of(body: dict[str, Any]) -> str | None:
    """The chat a body names; None is RAGFlow's chat-less mode (the default model, no session)."""
    chat_id = body.get("chat_id")
    if not chat_id and (body.get("session_id") or body.get("conversation_id")):
        raise Rejected("`chat_id` is required when `session_id` is provided.")
    if chat_id is None or chat_id == "":
        return None
    if not isinstance(chat_id, str):
        raise Invalid("`chat_id` should be a string.")
    return chat_id


async def selected_datasets(db: AsyncSession, tenant: str, body: dict[str, Any]) -> list[str] | None:
    """`selected_kb_ids`: the datasets to search this once instead of the chat's (checked as a chat's are)."""
    selected = body.get("selected_kb_ids")
    if selected is None:
        return None
    if not isinstance(selected, list) or not all(isinstance(item, str) for item in selected):
        raise Rejected("`selected_kb_ids` should be a list.")
    chosen = [dataset_id for dataset_id in selected if dataset_id]
    await check_datasets(db, tenant, chosen)
    return chosen


async def session_for(db: AsyncSession, tenant: str, assistant: Assistant, body: dict[str, Any]) -> ChatSession:
    """The named session, or a new one (committed by the caller before answering)."""
    session_id = body.get("session_id") or body.get("conversation_id")
    if session_id:
        return await conversations.get_session(db, assistant, str(session_id))
    user_id = body["user_id"] if isinstance(body.get("user_id"), str) else tenant
    return await conversations.create_session(db, assistant, "New session", user_id)


def llm_override(models: ModelRegistry, body: dict[str, Any]) -> str | None:
    """The model a body's `llm_id` means, decided before a session is made or anything is recorded (unknown → 102)."""
    llm_id = body.get("llm_id") or None
    return chosen_llm(models, str(llm_id)) if llm_id is not None else None


def sampling_of(body: dict[str, Any]) -> dict[str, Any]:
    """The request's own sampling settings (overrides of the chat's llm_setting), refused when out of range."""
    chosen = {key: body[key] for key in SAMPLING_KEYS if body.get(key) is not None}
    check_sampling(chosen)
    return chosen


def question_of(
    tenant: str,
    config: AssistantConfig,
    session: ChatSession | None,
    body: dict[str, Any],
    ask: Asked,
    llm_id: str | None,
) -> Question:
    documents = body.get("doc_ids") or []
    documents = [d for d in documents.split(",") if d] if isinstance(documents, str) else list(documents)
    # Chat-less: the client's messages are the whole conversation, as RAGFlow answers them.
    own_history = session is None or _flag(body, "pass_all_history_messages", False)
    return Question(
        tenant,
        session.assistant_id if session else None,
        config,
        ask.text,
        channel="ragflow",
        session_id=session.id if session else None,
        history=ask.history if own_history else None,
        llm_id=llm_id,
        sampling=sampling_of(body),
        document_ids=[str(d) for d in documents],
        metadata_condition=condition_of(body.get("metadata_condition")),
    )


async def ragflow_events(
    answerer: Answerer, question: Question, chat_id: str | None, legacy: bool
) -> AsyncIterator[bytes]:
    session_id = question.session_id or ""
    text = ""
    try:
        async for event in answerer.ask(question):
            if isinstance(event, Delta):
                text += event.text
                yield data_event(delta_event(text if legacy else event.text, question.message_id, session_id, chat_id))
            else:
                yield data_event(final_event(event, chat_id, legacy))
    except DomainError as exc:
        yield data_event(error_event(exc.message))
    except Exception as exc:
        log.exception("answer stream failed")
        yield data_event(error_event(f"Internal error ({type(exc).__name__}); see the server log"))
    yield data_event(DONE)


async def complete(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    tenant: str,
    body: dict[str, Any],
    models: ModelRegistry,
    answerer: Answerer,
    default_llm: str,
) -> ASGIApp:
    ask = asked(body)
    chat_id = chat_id_of(body)
    assistant = await owned_chat(db, tenant, chat_id) if chat_id else None
    # An unpublished app cannot answer here: 102 before a session is made.
    config = config_of(assistant) if assistant else AssistantConfig(llm_id=default_llm)
    llm_id = llm_override(models, body)
    datasets = await selected_datasets(db, tenant, body)
    if datasets is not None:
        config = replace(config, dataset_ids=datasets)
    session = await session_for(db, tenant, assistant, body) if assistant else None
    question = question_of(tenant, config, session, body, ask, llm_id)
    # The answer is recorded in its own transaction (so a new session must exist by then), and an answer can
    # take a minute: commit and hand the connection back first.
    await db.commit()
    if ask.stream:
        return event_stream(ragflow_events(answerer, question, chat_id, ask.legacy))
    answer = await answerer.complete(question)
    return as_asgi(request, ok_message(completion_json(answer, chat_id)))


@post("/chat/completions", status_code=200)
async def chat_completions(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    models: NamedDependency[ModelRegistry],
    answerer: NamedDependency[Answerer],
    settings: NamedDependency[Settings],
) -> ASGIApp:
    body = await json_body(request)
    return await complete(request, db, tenant, body, models, answerer, settings.default_llm)


@post("/chats/{chat_id:str}/completions", status_code=200)
async def chat_completions_alias(
    chat_id: FromPath[str],
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    models: NamedDependency[ModelRegistry],
    answerer: NamedDependency[Answerer],
    settings: NamedDependency[Settings],
) -> ASGIApp:
    """Deprecated alias (ragflow-sdk's Session.ask): chat_id from the path, `question` for `messages`."""
    body = {**await json_body(request), "chat_id": chat_id}
    return await complete(request, db, tenant, body, models, answerer, settings.default_llm)
