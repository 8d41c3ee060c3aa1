"""Listing and searching a deployment's histories: OpsBee's `search_query`, sort_by/sort_order, offset/limit.

The query compiles (service.domain.search_query) to one SQL condition with bound values. Tag and metadata
terms are uncorrelated `message.id IN (...)` subqueries, which PostgreSQL runs as semi-joins driven by
`ix_message_tags_tag_id`, `ix_tags_tenant_name` and the md5 indexes of `message_metadata`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, Message, MessageMetadata, MessageTag, Tag
from service.domain.history import History, histories, history_select
from service.domain.search_query import Field, compile_query
from service.errors import Invalid

SORTS: dict[str, Any] = {
    "id": Message.id,
    "thread_id": Message.session_id,
    "input_text": Message.input,
    "output_text": Message.output,
    "input_token_count": Message.prompt_tokens,
    "output_token_count": Message.completion_tokens,
    "created_at": Message.created_at,
    "updated_at": Message.updated_at,
}
QA_SORTS = tuple(key for key in SORTS if key != "thread_id")  # a QA deployment has one thread
ORDERS = ("asc", "desc")
Found = tuple[list[Sequence[Any]], int]  # (rows of history_select(), total)
FAST_CASE = "pg_c_utf8"  # PostgreSQL ≥ 17 (the embedded server is 18, docker's 17)


@dataclass
class HistoryQuery:
    search_query: str | None = None
    offset: int = 0
    limit: int = 1000
    sort_by: str = "updated_at"
    sort_order: str = "desc"


def check_sort(spec: HistoryQuery, kind: str) -> None:
    allowed = QA_SORTS if kind == "qa" else tuple(SORTS)
    if spec.sort_by not in allowed:
        raise Invalid(f"sort_by must be one of {', '.join(allowed)}")
    if spec.sort_order not in ORDERS:
        raise Invalid("sort_order must be asc or desc")


def _text(value: str) -> ColumnElement[str]:
    return cast(literal(value), Text)


def _text_match(column: Any, op: str, value: str) -> ColumnElement[bool]:
    """`=` exact; `like` (a `*` in the value) case-insensitive under PostgreSQL's builtin `pg_c_utf8` collation:
    Unicode case mapping like the default ILIKE, at half the cost per row (it lowercases without libc's
    wide-character round trip), which is what a scan of a large deployment spends its time on."""
    if op == "like":
        return column.collate(FAST_CASE).ilike(value, escape="\\")  # type: ignore[no-any-return]
    return column == value  # type: ignore[no-any-return]


def _tagged(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return Message.id.in_(select(MessageTag.message_id).join(Tag, Tag.id == MessageTag.tag_id).where(*conditions))


def _with_metadata(tenant_id: str, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return Message.id.in_(select(MessageMetadata.message_id).where(MessageMetadata.tenant_id == tenant_id, *conditions))


def _hashed(column: Any, value: str) -> list[ColumnElement[bool]]:
    """Index lookup by md5 (long keys and values), then the exact comparison."""
    return [func.md5(column) == func.md5(_text(value)), column == value]


def history_fields(tenant_id: str) -> dict[str, Field]:
    """The search_query keys of a history (OpsBee's list)."""
    return {
        "history_id": Field("id", column=Message.id),
        "input_text": Field(
            "custom", wildcard=True, build=lambda op, value, raw: _text_match(Message.input, op, value)
        ),
        "output_text": Field(
            "custom", wildcard=True, build=lambda op, value, raw: _text_match(Message.output, op, value)
        ),
        "input_token_count": Field("int", column=Message.prompt_tokens),
        "output_token_count": Field("int", column=Message.completion_tokens),
        "tag_id": Field("custom", build=lambda op, value, raw: _tagged(Tag.tenant_id == tenant_id, Tag.id == value)),
        "tag_name": Field(
            "custom", build=lambda op, value, raw: _tagged(Tag.tenant_id == tenant_id, Tag.name == value)
        ),
        "metadata_id": Field(
            "custom", build=lambda op, value, raw: _with_metadata(tenant_id, MessageMetadata.id == value)
        ),
        "metadata_key": Field(
            "custom", build=lambda op, value, raw: _with_metadata(tenant_id, *_hashed(MessageMetadata.key, value))
        ),
        "metadata_value": Field(
            "custom", build=lambda op, value, raw: _with_metadata(tenant_id, *_hashed(MessageMetadata.value, value))
        ),
        "created_at": Field("datetime", column=Message.created_at),
        "updated_at": Field("datetime", column=Message.updated_at),
    }


def _ordered(column: Any, key: Any, ascending: bool) -> tuple[Any, Any]:
    return (column.asc(), key.asc()) if ascending else (column.desc(), key.desc())


async def _unfiltered(db: AsyncSession, where: ColumnElement[bool], spec: HistoryQuery) -> Found:
    """No search: the page straight off `ix_messages_assistant_updated`, the count an index-only scan."""
    order = _ordered(SORTS[spec.sort_by], Message.id, spec.sort_order == "asc")
    page = (
        await db.execute(history_select().where(where).order_by(*order).offset(spec.offset).limit(spec.limit))
    ).all()
    if (page and len(page) < spec.limit) or (not page and spec.offset == 0):
        return list(page), spec.offset + len(page)  # the last page: no count needed
    return list(page), int(await db.scalar(select(func.count()).select_from(Message).where(where)) or 0)


async def _filtered(db: AsyncSession, where: ColumnElement[bool], spec: HistoryQuery) -> Found:
    """A search evaluates its condition once: the matching (id, sort key) pairs are materialized, counted, and
    the page is cut from them, in one statement (a second scan for the count would double the cost)."""
    matched = (
        select(Message.id.label("id"), SORTS[spec.sort_by].label("key"))
        .where(where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    order = _ordered(matched.c.key, matched.c.id, spec.sort_order == "asc")
    page_ids = select(matched.c.id, matched.c.key).order_by(*order).offset(spec.offset).limit(spec.limit).subquery()
    total = select(func.count()).select_from(matched).scalar_subquery()
    query = history_select().add_columns(total).join(page_ids, page_ids.c.id == Message.id)
    rows = (await db.execute(query.order_by(*_ordered(page_ids.c.key, page_ids.c.id, spec.sort_order == "asc")))).all()
    if not rows:  # past the last match: the count came with no row
        return [], int(await db.scalar(select(func.count()).select_from(Message).where(where)) or 0)
    return [row[:-1] for row in rows], int(rows[0][-1])


async def search_histories(db: AsyncSession, assistant: Assistant, spec: HistoryQuery) -> tuple[list[History], int]:
    """One page of the deployment's visible histories matching the query, and how many match in all."""
    check_sort(spec, assistant.kind)
    condition = compile_query(spec.search_query or "", history_fields(assistant.tenant_id))
    where = and_(Message.assistant_id == assistant.id, Message.deleted_at.is_(None), condition)
    search = _filtered if (spec.search_query or "").strip() else _unfiltered
    page, total = await search(db, where, spec)
    return await histories(db, page), total
