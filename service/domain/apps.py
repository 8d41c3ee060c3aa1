"""Apps (the LLMOps console's face of an assistant): draft and publish, the debug conversation, its memory.

An app is an `Assistant`. Its `draft_config` is what the debug chat answers with (falling back to the published
one); `published_config` is what every other face answers with, None while unpublished. Each publish appends
the config it made live to `published_configs` (versions 1, 2, …). The debug conversation is one `ChatSession`
per app, made on first use and remembered in `assistants.debug_session_id`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, ChatSession, Message, PublishedConfig, utcnow
from service.domain import assistants, conversations
from service.domain.answering import Question
from service.domain.assistants import MEMORY_MODES, AssistantConfig, config_of
from service.domain.llms import chosen_llm
from service.domain.pages import Page, paged
from service.errors import Conflict, Invalid, NotFound, Unsupported
from service.providers.llm import ModelRegistry

CHANNEL = "apps"
DEBUG_SESSION_NAME = "Debug conversation"
MAX_DIALOG_ROUND = 100
SHOWN_STATUSES = ("ok", "cancelled")  # answered turns (a stopped answer keeps what it said); failures are not shown


class InvalidField(Invalid):
    """A bad value of one named request field (`field` as the client spells it, e.g. `model_config.dialog_round`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ConfigChanges:
    """What the console may change in a draft; None = keep."""

    dialog_round: int | None = None
    memory_mode: str | None = None
    llm_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def check_dialog_round(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIALOG_ROUND:
        message = f"`model_config.dialog_round` must be an integer between 0 and {MAX_DIALOG_ROUND}"
        raise InvalidField("model_config.dialog_round", message)
    return value


def check_memory_mode(value: Any) -> str:
    if value not in MEMORY_MODES:
        raise InvalidField("memory_mode", f"`memory_mode` must be one of {', '.join(MEMORY_MODES)}")
    return str(value)


def check_llm(models: ModelRegistry, llm_id: str) -> str:
    """The model an app's config names, as its canonical `name@provider` (what gets stored)."""
    try:
        return chosen_llm(models, llm_id)
    except Unsupported:
        raise InvalidField("model_config.llm_id", f"`model_config.llm_id` {llm_id} is not a known model") from None


def check_text(field: str, value: Any, max_length: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(field, f"`{field}` is required and must be a non-empty string")
    if max_length is not None and len(value) > max_length:
        raise InvalidField(field, f"`{field}` must be at most {max_length} characters")
    return value


def config_id(app: Assistant, kind: str) -> str:
    """A stable id for a config that has no row of its own (the draft; a config published by another face)."""
    return uuid.uuid5(uuid.NAMESPACE_OID, f"{app.id}/{kind}").hex


# --- apps and their configs ---------------------------------------------------------------------------------


async def create_app(db: AsyncSession, tenant_id: str, name: str, config: AssistantConfig, **info: Any) -> Assistant:
    """A new app starts with a draft only: it answers in debug, and on the other faces once published."""
    return await assistants.create_assistant(db, tenant_id, name, config, published=False, **info)


async def get_app(db: AsyncSession, tenant_id: str, app_id: str) -> Assistant:
    # An agent runs its canvas, not an app's config: it is no app (the RAGFlow and OpsBee faces serve it).
    mine = (Assistant.id == app_id, Assistant.tenant_id == tenant_id, assistants.NOT_AN_AGENT)
    app = await db.scalar(select(Assistant).where(*mine))
    if app is None:
        raise NotFound(f"App {app_id} not found")
    return app


def draft_of(app: Assistant) -> AssistantConfig:
    """The draft, or (for an app without one) the published config it would start from."""
    return config_of(app, draft=True)


async def update_draft(db: AsyncSession, app: Assistant, changes: ConfigChanges) -> Assistant:
    """Edit the draft; an app without a draft gets one made from its published config first."""
    app.draft_config = draft_of(app).merged(changes.as_dict()).dump()
    app.updated_at = utcnow()
    await db.flush()
    return app


async def latest_published(db: AsyncSession, app: Assistant) -> PublishedConfig | None:
    query = select(PublishedConfig).where(PublishedConfig.assistant_id == app.id)
    return await db.scalar(query.order_by(PublishedConfig.version.desc()).limit(1))


async def publish(db: AsyncSession, app: Assistant) -> PublishedConfig:
    """The draft goes live (and stays the draft); the history keeps every config ever published."""
    await db.refresh(app, with_for_update=True)  # one publish at a time per app: versions stay unique
    if app.draft_config is None:
        raise Conflict("The app has no draft config to publish")
    config = AssistantConfig.load(app.draft_config)
    config.validate()
    await assistants.check_datasets(db, app.tenant_id, config.dataset_ids)
    latest = await latest_published(db, app)
    entry = PublishedConfig(
        tenant_id=app.tenant_id, assistant_id=app.id, config=config.dump(), version=latest.version + 1 if latest else 1
    )
    db.add(entry)
    app.published_config = config.dump()
    app.updated_at = utcnow()
    await db.flush()
    await db.refresh(entry)
    return entry


async def cancel_publish(db: AsyncSession, app: Assistant) -> Assistant:
    """Back to unpublished; the live config becomes the draft if there was none, so debug still answers."""
    if app.published_config is None:
        raise Conflict("The app is not published")
    if app.draft_config is None:
        app.draft_config = app.published_config
    app.published_config = None
    app.updated_at = utcnow()
    await db.flush()
    return app


async def publish_history(db: AsyncSession, app: Assistant, page: Page) -> tuple[list[PublishedConfig], int]:
    """Newest version first."""
    query = select(PublishedConfig).where(PublishedConfig.assistant_id == app.id)
    return await paged(db, query.order_by(PublishedConfig.version.desc()), page)


# --- the debug conversation -----------------------------------------------------------------------------------


async def debug_session(db: AsyncSession, app: Assistant) -> ChatSession | None:
    if app.debug_session_id is None:
        return None
    return await db.scalar(
        select(ChatSession).where(ChatSession.id == app.debug_session_id, ChatSession.assistant_id == app.id)
    )


async def ensure_debug_session(db: AsyncSession, app: Assistant) -> ChatSession:
    """The app's debug conversation, made on first use (the app row is locked so two first calls make one)."""
    session = await debug_session(db, app)
    if session is not None:
        return session
    await db.refresh(app, with_for_update=True)
    session = await debug_session(db, app)
    if session is None:
        session = await conversations.create_session(db, app, DEBUG_SESSION_NAME, user_id=app.tenant_id)
        app.debug_session_id = session.id
        await db.flush()
    return session


async def debug_question(db: AsyncSession, app: Assistant, text: Any) -> Question:
    """A question for the debug chat: the draft config (published if no draft), in the debug conversation."""
    query = check_text("query", text)
    config = draft_of(app)
    session = await ensure_debug_session(db, app)
    return Question(app.tenant_id, app.id, config, query, channel=CHANNEL, session_id=session.id)


async def recorded(db: AsyncSession, message_id: str) -> Message:
    message = await db.get(Message, message_id)
    if message is None:
        raise NotFound(f"Message {message_id} not found")
    return message


# --- long-term memory -----------------------------------------------------------------------------------------


def check_memory_on(app: Assistant) -> None:
    """The console's switch is the draft config's `memory_mode`."""
    if draft_of(app).memory_mode != "long_term_memory":
        raise Conflict("Long-term memory is not enabled for this app (set `memory_mode` to long_term_memory)")


async def read_summary(db: AsyncSession, app: Assistant) -> str:
    check_memory_on(app)
    session = await debug_session(db, app)
    return session.summary if session is not None else ""


async def write_summary(db: AsyncSession, app: Assistant, summary: Any) -> None:
    check_memory_on(app)
    if not isinstance(summary, str):
        raise InvalidField("summary", "`summary` must be a string")
    session = await ensure_debug_session(db, app)
    session.summary = summary
    await db.flush()


# --- debug messages -------------------------------------------------------------------------------------------


def _debug_messages(app: Assistant) -> tuple[ColumnElement[bool], ...]:
    return (
        Message.assistant_id == app.id,
        Message.session_id == app.debug_session_id,
        Message.deleted_at.is_(None),
        Message.status.in_(SHOWN_STATUSES),
    )


async def list_messages(db: AsyncSession, app: Assistant, page: Page) -> tuple[list[Message], int]:
    """The debug conversation's visible messages, newest first."""
    if app.debug_session_id is None:
        return [], 0
    query = select(Message).where(*_debug_messages(app))
    return await paged(db, query.order_by(Message.created_at.desc(), Message.id.desc()), page)


async def delete_message(db: AsyncSession, app: Assistant, message_id: str) -> None:
    """Soft delete, only of a message of this app's debug conversation; it also leaves the dialog window."""
    message = await db.scalar(
        select(Message).where(
            Message.id == message_id,
            Message.assistant_id == app.id,
            Message.session_id == app.debug_session_id,
            Message.deleted_at.is_(None),
        )
    )
    if message is None or app.debug_session_id is None:
        raise NotFound(f"Message {message_id} not found in the debug conversation of app {app.id}")
    message.deleted_at = utcnow()
    await db.flush()
