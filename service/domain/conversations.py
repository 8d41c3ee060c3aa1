"""Sessions (RAGFlow sessions, OpsBee threads, apps conversations) and the messages recorded in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, ChatSession, Message, utcnow
from service.domain.batches import Batch, unique_ids
from service.domain.pages import Page, paged
from service.errors import Invalid, NotFound


@dataclass
class SessionQuery:
    page: Page = field(default_factory=Page)
    orderby: str = "create_time"
    desc: bool = True
    id: str | None = None
    name: str | None = None
    user_id: str | None = None


@dataclass
class Record:
    """Everything known about one answered (or failed, or abandoned) question."""

    tenant_id: str
    assistant_id: str | None
    session_id: str | None
    channel: str
    input: str
    output: str = ""
    reference: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    status: str = "ok"
    error: str = ""
    id: str | None = None


def session_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("`name` can not be empty.")
    return name.strip()[:255]


async def create_session(db: AsyncSession, assistant: Assistant, name: str, user_id: str = "") -> ChatSession:
    session = ChatSession(tenant_id=assistant.tenant_id, assistant_id=assistant.id, name=name, user_id=user_id)
    db.add(session)
    await db.flush()
    await db.refresh(session)
    return session


async def get_session(db: AsyncSession, assistant: Assistant, session_id: str) -> ChatSession:
    session = await db.scalar(
        select(ChatSession).where(ChatSession.id == session_id, ChatSession.assistant_id == assistant.id)
    )
    if session is None:
        raise NotFound("Session not found!")
    return session


async def rename_session(db: AsyncSession, session: ChatSession, name: Any) -> ChatSession:
    session.name = session_name(name)
    await db.flush()
    await db.refresh(session)
    return session


def _filtered(query: Select[Any], assistant: Assistant, spec: SessionQuery) -> Select[Any]:
    query = query.where(ChatSession.assistant_id == assistant.id)
    for column, value in (
        (ChatSession.id, spec.id),
        (ChatSession.name, spec.name),
        (ChatSession.user_id, spec.user_id),
    ):
        if value:
            query = query.where(column == value)
    return query


async def list_sessions(db: AsyncSession, assistant: Assistant, spec: SessionQuery) -> tuple[list[ChatSession], int]:
    column = {"update_time": ChatSession.updated_at, "name": ChatSession.name}.get(spec.orderby, ChatSession.created_at)
    query = _filtered(select(ChatSession), assistant, spec).order_by(
        column.desc() if spec.desc else column.asc(), ChatSession.id
    )
    return await paged(db, query, spec.page)


async def delete_sessions(db: AsyncSession, assistant: Assistant, ids: list[str] | None, delete_all: bool) -> Batch:
    """Deletes the chat's sessions among `ids` (all of them with `delete_all`); the others become errors
    `The chat doesn't own the session <id>`, followed by RAGFlow's `Duplicate session ids: <id>` lines."""
    query = delete(ChatSession).where(ChatSession.assistant_id == assistant.id)
    if delete_all:
        return Batch(len((await db.execute(query.returning(ChatSession.id))).all()))
    unique, duplicates = unique_ids(ids or [], "session")
    owned = set(
        await db.scalars(
            select(ChatSession.id).where(ChatSession.assistant_id == assistant.id, ChatSession.id.in_(unique))
        )
    )
    missing = [session_id for session_id in unique if session_id not in owned]
    result = await db.execute(query.where(ChatSession.id.in_(owned)).returning(ChatSession.id)) if owned else None
    errors = [f"The chat doesn't own the session {session_id}" for session_id in missing]
    return Batch(len(result.all()) if result else 0, missing, errors + duplicates)


async def turns(db: AsyncSession, session_ids: list[str]) -> dict[str, list[Message]]:
    """Each session's visible messages, oldest first."""
    if not session_ids:
        return {}
    rows = await db.scalars(
        select(Message)
        .where(Message.session_id.in_(session_ids), Message.deleted_at.is_(None))
        .order_by(Message.created_at, Message.id)
    )
    grouped: dict[str, list[Message]] = {session_id: [] for session_id in session_ids}
    for message in rows:
        grouped[str(message.session_id)].append(message)
    return grouped


async def recent_turns(db: AsyncSession, session_id: str, rounds: int) -> list[tuple[str, str]]:
    """The last `rounds` answered turns (question, answer), oldest first: what the next prompt repeats."""
    if rounds <= 0:
        return []
    rows = await db.execute(
        select(Message.input, Message.output)
        .where(Message.session_id == session_id, Message.deleted_at.is_(None), Message.status == "ok")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(rounds)
    )
    return [(question, answer) for question, answer in reversed(rows.all())]


async def get_message(db: AsyncSession, session: ChatSession, message_id: str) -> Message:
    message = await db.scalar(
        select(Message).where(Message.id == message_id, Message.session_id == session.id, Message.deleted_at.is_(None))
    )
    if message is None:
        raise NotFound(f"Message {message_id} not found in this session.")
    return message


async def delete_message(db: AsyncSession, session: ChatSession, message_id: str) -> None:
    """Soft delete: the LLMOps history keeps what happened; the session stops showing (and repeating) it."""
    message = await get_message(db, session, message_id)
    message.deleted_at = utcnow()


async def record(db: AsyncSession, entry: Record) -> Message:
    values = {key: value for key, value in entry.__dict__.items() if value is not None}
    message = Message(**values)
    db.add(message)
    if entry.session_id:  # a session's update time is its last activity
        session = await db.get(ChatSession, entry.session_id)
        if session is not None:
            session.updated_at = utcnow()
    await db.flush()
    return message
