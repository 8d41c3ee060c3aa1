"""Threads (OpsBee's name for sessions) of a deployment, and the one implicit thread of a QA deployment."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, ChatSession, utcnow
from service.domain.names import description, required_name
from service.domain.pages import Page, paged
from service.errors import NotFound

QA_THREAD_NAME = "QA thread"
_QA_NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")


async def create_thread(db: AsyncSession, assistant: Assistant, name: Any, text: Any = None) -> ChatSession:
    thread = ChatSession(
        tenant_id=assistant.tenant_id,
        assistant_id=assistant.id,
        name=required_name(name),
        description=description(text),
    )
    db.add(thread)
    await db.flush()
    await db.refresh(thread)
    return thread


async def get_thread(db: AsyncSession, assistant: Assistant, thread_id: str) -> ChatSession:
    thread = await db.scalar(
        select(ChatSession).where(ChatSession.id == thread_id, ChatSession.assistant_id == assistant.id)
    )
    if thread is None:
        raise NotFound(f"thread {thread_id} not found")
    return thread


async def list_threads(db: AsyncSession, assistant: Assistant, page: Page) -> tuple[list[ChatSession], int]:
    query = select(ChatSession).where(ChatSession.assistant_id == assistant.id)
    return await paged(db, query.order_by(ChatSession.created_at.desc(), ChatSession.id.desc()), page)


async def update_thread(db: AsyncSession, thread: ChatSession, name: Any = None, text: Any = None) -> ChatSession:
    """None leaves a field unchanged."""
    if name is not None:
        thread.name = required_name(name)
    if text is not None:
        thread.description = description(text)
    thread.updated_at = utcnow()
    await db.flush()
    await db.refresh(thread)
    return thread


async def delete_thread(db: AsyncSession, thread: ChatSession) -> None:
    """The thread goes with its histories (what RAGFlow does when a session is deleted)."""
    await db.delete(thread)
    await db.flush()


def qa_thread_id(assistant_id: str) -> str:
    """The implicit thread's id is derived from the deployment's, so two first uses cannot make two."""
    return uuid.uuid5(_QA_NAMESPACE, assistant_id).hex


async def find_qa_thread(db: AsyncSession, assistant: Assistant) -> ChatSession | None:
    return await db.get(ChatSession, qa_thread_id(assistant.id))


async def qa_thread(db: AsyncSession, assistant: Assistant) -> ChatSession:
    """The QA deployment's one thread, created on first use."""
    thread = await find_qa_thread(db, assistant)
    if thread is not None:
        return thread
    values = {
        "id": qa_thread_id(assistant.id),
        "tenant_id": assistant.tenant_id,
        "assistant_id": assistant.id,
        "name": QA_THREAD_NAME,
    }
    await db.execute(insert(ChatSession).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    thread = await find_qa_thread(db, assistant)
    if thread is None:  # the deployment was deleted meanwhile
        raise NotFound(f"deployment {assistant.id} not found")
    return thread
