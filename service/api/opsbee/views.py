"""OpsBee's JSON objects: deployments, threads, histories, metadata, tags, pages (timestamps ISO 8601 with
offset)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from litestar import Response

from service.domain.history import History, HistoryMetadata, HistoryTag
from service.domain.history_search import HistoryQuery
from service.domain.pages import Page

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession, MessageMetadata, Tag


def reply(body: dict[str, Any]) -> Response[Any]:
    """Every answer of this face is a JSON object with status 200, DELETE included (the SDK parses it)."""
    return Response(body, status_code=200)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def stamps(row: Any) -> dict[str, str]:
    return {"created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def deployment_json(assistant: Assistant, history_count: int) -> dict[str, Any]:
    return {
        "id": assistant.id,
        "organization_id": assistant.tenant_id,
        "name": assistant.name,
        "description": assistant.description,
        "type": assistant.kind,
        "history_count": history_count,
        **stamps(assistant),
    }


def thread_json(thread: ChatSession) -> dict[str, Any]:
    return {
        "id": thread.id,
        "organization_id": thread.tenant_id,
        "deployment_id": thread.assistant_id,
        "name": thread.name,
        "description": thread.description,
        **stamps(thread),
    }


def tag_json(tag: Tag) -> dict[str, Any]:
    return {
        "id": tag.id,
        "organization_id": tag.tenant_id,
        "name": tag.name,
        "description": tag.description,
        "color": tag.color,
        **stamps(tag),
    }


def metadata_json(row: MessageMetadata, deployment_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.tenant_id,
        "deployment_id": deployment_id,
        "history_id": row.message_id,
        "key": row.key,
        "value": row.value,
        **stamps(row),
    }


# Spelled out rather than `dataclasses.asdict`, whose recursive deep copy was a third of a 1,000-history page.
def _tag_summary(tag: HistoryTag) -> dict[str, str]:
    return {"id": tag.id, "name": tag.name, "description": tag.description, "color": tag.color}


def _metadata_summary(item: HistoryMetadata) -> dict[str, str]:
    return {"id": item.id, "key": item.key, "value": item.value}


def history_json(history: History) -> dict[str, Any]:
    return {
        "id": history.id,
        "organization_id": history.organization_id,
        "deployment_id": history.deployment_id,
        "thread_id": history.thread_id,
        "thread_name": history.thread_name,
        "input_text": history.input_text,
        "output_text": history.output_text,
        "input_token_count": history.input_token_count,
        "output_token_count": history.output_token_count,
        "tags": [_tag_summary(tag) for tag in history.tags],
        "metadata": [_metadata_summary(item) for item in history.metadata],
        "created_at": iso(history.created_at),
        "updated_at": iso(history.updated_at),
        # Not in OpsBee's object (its SDK hands back the dict, so extra keys reach the user): a failed turn's
        # `output_text` is "" or partial, and only these say it failed.
        "status": history.status,
        "error_message": history.error or None,
    }


def history_page(
    org: str, deployment_id: str, spec: HistoryQuery, rows: list[History], total: int, **extra: Any
) -> dict[str, Any]:
    """A list of histories; `extra` (a QA list's thread) goes before the histories, as the SDK shows it."""
    return {
        "organization_id": org,
        "deployment_id": deployment_id,
        **extra,
        "histories": [history_json(row) for row in rows],
        **page_json(spec.page, len(rows), total),
        "sort_by": spec.sort_by,
        "sort_order": spec.sort_order,
    }


def qa_thread_json(thread: ChatSession | None) -> dict[str, Any]:
    """A QA list names the deployment's one thread (null before the first history)."""
    return {"thread_id": thread.id if thread else None, "thread_name": thread.name if thread else ""}


def page_json(page: Page, shown: int, total: int) -> dict[str, Any]:
    """The paging fields of a list that counts its rows."""
    return {"offset": page.offset, "limit": page.limit, "total": total, "has_next": page.offset + shown < total}


def deleted(kind: str, object_id: str) -> dict[str, str]:
    return {"message": f"{kind} {object_id} was deleted."}
