"""The objects an OpsBee history path names, each checked against the one before it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.opsbee.views import history_json
from service.db.models import Assistant, Message
from service.domain import history, threads
from service.domain.deployments import require_kind
from service.domain.history import History
from service.domain.history_search import HistoryQuery


async def chat_history(db: AsyncSession, org: str, deployment_id: str, thread_id: str, history_id: str) -> Message:
    assistant = await require_kind(db, org, deployment_id, "chat")
    thread = await threads.get_thread(db, assistant, thread_id)
    return await history.get_history(db, assistant, history_id, thread)


async def qa_history(db: AsyncSession, org: str, deployment_id: str, history_id: str) -> Message:
    assistant = await require_kind(db, org, deployment_id, "qa")
    return await history.get_history(db, assistant, history_id)


async def qa_thread_info(db: AsyncSession, assistant: Assistant) -> dict[str, Any]:
    """A QA list names the deployment's one thread (null before the first history)."""
    thread = await threads.find_qa_thread(db, assistant)
    return {"thread_id": thread.id if thread else None, "thread_name": thread.name if thread else ""}


def history_page(
    org: str, deployment_id: str, spec: HistoryQuery, rows: list[History], total: int, **extra: Any
) -> dict[str, Any]:
    return {
        "organization_id": org,
        "deployment_id": deployment_id,
        **extra,
        "histories": [history_json(row) for row in rows],
        "offset": spec.offset,
        "limit": spec.limit,
        "sort_by": spec.sort_by,
        "sort_order": spec.sort_order,
        "total": total,
        "has_next": spec.offset + len(rows) < total,
    }
