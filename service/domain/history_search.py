"""Listing and searching a deployment's histories: OpsBee's `search_query`, sort_by/sort_order, offset/limit.

The query compiles (service.domain.search_query) to SQL with bound values. Tag and metadata terms name sets of
the deployment's messages (`ix_message_tags_tag_assistant`, the md5 indexes of `message_metadata`). Where
such terms are ANDed at the top of the query, their intersection drives the search: in the same statement its
ids are gathered first and the messages looked up by primary key, instead of the whole deployment being
scanned and every row hashed against the sets. A scan costs about 0.3 µs a row before any text matching, a
primary-key lookup about 1.5 µs, so up to `DRIVER_LIMIT` ids the lookups win (1.9-2× on 100k histories,
bench/RESULTS.md); past it (an unselective tag) the statement scans instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    any_,
    cast,
    func,
    intersect,
    not_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, Message, MessageMetadata, MessageTag, Tag
from service.domain.history import STATUSES, History, histories, history_select
from service.domain.pages import Page
from service.domain.search_query import And, Field, Node, Term, compile_node, parse
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
DRIVER_LIMIT = 20_000  # ids looked up by primary key at most (≈ 30 ms); more and scanning is cheaper
# A search no index narrows scans the deployment and evaluates every row for `total`. PostgreSQL's default
# parallel costs (setup 1000, 0.1 a tuple) assume costly workers and keep that scan serial; with cached data a
# worker starts in a millisecond or two, and one more core halves the scan: 60 → 42 ms on 100k histories.
# Set for this transaction only (`is_local`); searches driven by ids plan the same either way (measured).
PARALLEL_SCAN = select(
    func.set_config("parallel_setup_cost", "200", True), func.set_config("parallel_tuple_cost", "0.02", True)
)
MessageSet = Callable[[str], Select[str]]  # a term's value → the ids of the messages it names


@dataclass
class HistoryQuery:
    search_query: str | None = None
    page: Page = field(default_factory=lambda: Page(0, 1000))  # OpsBee's default: up to 1,000 histories
    sort_by: str = "updated_at"
    sort_order: str = "desc"


def check_sort(spec: HistoryQuery, kind: str) -> None:
    allowed = QA_SORTS if kind == "qa" else tuple(SORTS)
    if spec.sort_by not in allowed:
        raise Invalid(f"sort_by must be one of {', '.join(allowed)}")
    if spec.sort_order not in ORDERS:
        raise Invalid("sort_order must be asc or desc")


def _text_match(column: Any, op: str, value: str) -> ColumnElement[bool]:
    """`=` exact; `like` (a `*` in the value) case-insensitive under PostgreSQL's builtin `pg_c_utf8` collation
    (Unicode case mapping like the default ILIKE, at half the cost per row: no libc wide-character round trip).
    Spelled `lower(text) LIKE lower(pattern)`, which is what ILIKE does for UTF-8 anyway, except that ILIKE
    lowers the pattern again on every row: 10-30% of a text term's cost on a scan of a large deployment."""
    if op == "like":
        pattern = func.lower(cast(value, Text).collate(FAST_CASE))  # backslash escapes: LIKE's default
        return func.lower(column.collate(FAST_CASE)).like(pattern)
    return column == value  # type: ignore[no-any-return]


def _equal(column: str, value: str) -> list[ColumnElement[bool]]:
    """`key`/`value` equal to `value`: an index lookup by the stored md5 (long texts), then the exact comparison."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()
    return [getattr(MessageMetadata, f"{column}_md5") == digest, getattr(MessageMetadata, column) == value]


def message_sets(assistant: Assistant) -> dict[str, MessageSet]:
    """The search keys whose terms name a set of the deployment's messages by their tags or metadata."""

    def tagged(tag_id: Any) -> Select[str]:
        """From `ix_message_tags_tag_assistant` alone. Only the organization's tags reach its messages."""
        return select(MessageTag.message_id).where(MessageTag.tag_id == tag_id, MessageTag.assistant_id == assistant.id)

    def named(name: str) -> Any:
        return select(Tag.id).where(Tag.tenant_id == assistant.tenant_id, Tag.name == name).scalar_subquery()

    def with_metadata(*conditions: ColumnElement[bool]) -> Select[str]:
        return select(MessageMetadata.message_id).where(MessageMetadata.assistant_id == assistant.id, *conditions)

    return {
        "tag_id": lambda value: tagged(value),
        "tag_name": lambda value: tagged(named(value)),
        "metadata_id": lambda value: with_metadata(MessageMetadata.id == value),
        "metadata_key": lambda value: with_metadata(*_equal("key", value)),
        "metadata_value": lambda value: with_metadata(*_equal("value", value)),
    }


def _member_of(message_set: MessageSet) -> Field:
    return Field("custom", build=lambda op, value, raw: Message.id.in_(message_set(value)))


def _status(op: str, value: str, raw: str) -> ColumnElement[bool]:
    """`status:error` finds the failed turns; a value that no message can have is a mistake worth saying."""
    if value not in STATUSES:
        raise ValueError(f"expected one of {', '.join(STATUSES)}")
    return Message.status == value


def history_fields(assistant: Assistant) -> dict[str, Field]:
    """The search_query keys of a history (OpsBee's list, plus `status` and `error_message`)."""
    return {
        "history_id": Field("id", column=Message.id),
        "input_text": Field(
            "custom", wildcard=True, build=lambda op, value, raw: _text_match(Message.input, op, value)
        ),
        "output_text": Field(
            "custom", wildcard=True, build=lambda op, value, raw: _text_match(Message.output, op, value)
        ),
        "status": Field("custom", build=_status),
        "error_message": Field(
            "custom", wildcard=True, build=lambda op, value, raw: _text_match(Message.error, op, value)
        ),
        "input_token_count": Field("int", column=Message.prompt_tokens),
        "output_token_count": Field("int", column=Message.completion_tokens),
        **{key: _member_of(message_set) for key, message_set in message_sets(assistant).items()},
        "created_at": Field("datetime", column=Message.created_at),
        "updated_at": Field("datetime", column=Message.updated_at),
    }


def _ordered(column: Any, key: Any, ascending: bool) -> tuple[Any, Any]:
    return (column.asc(), key.asc()) if ascending else (column.desc(), key.desc())


async def _unfiltered(db: AsyncSession, where: ColumnElement[bool], spec: HistoryQuery) -> Found:
    """No search: the page straight off `ix_messages_assistant_updated`, the count an index-only scan."""
    order = _ordered(SORTS[spec.sort_by], Message.id, spec.sort_order == "asc")
    page = (
        await db.execute(history_select().where(where).order_by(*order).offset(spec.page.offset).limit(spec.page.limit))
    ).all()
    if (page and len(page) < spec.page.limit) or (not page and spec.page.offset == 0):
        return list(page), spec.page.offset + len(page)  # the last page: no count needed
    return list(page), int(await db.scalar(select(func.count()).select_from(Message).where(where)) or 0)


async def _filtered(db: AsyncSession, matching: Select[Any] | CompoundSelect[Any], spec: HistoryQuery) -> Found:
    """A search evaluates its condition once: the matching (id, sort key) pairs are materialized, counted, and
    the page is cut from them, in one statement (a second scan for the count would double the cost)."""
    await db.execute(PARALLEL_SCAN)
    matched = matching.cte("matched").prefix_with("MATERIALIZED")
    order = _ordered(matched.c.key, matched.c.id, spec.sort_order == "asc")
    page = select(matched.c.id, matched.c.key).order_by(*order).offset(spec.page.offset).limit(spec.page.limit)
    page_ids = page.subquery()
    total = select(func.count()).select_from(matched).scalar_subquery()
    query = history_select().add_columns(total).join(page_ids, page_ids.c.id == Message.id)
    rows = (await db.execute(query.order_by(*_ordered(page_ids.c.key, page_ids.c.id, spec.sort_order == "asc")))).all()
    if not rows:  # past the last match: the count came with no row
        return [], int(await db.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    return [row[:-1] for row in rows], int(rows[0][-1])


def _split_sets(node: Node, sets: dict[str, MessageSet]) -> tuple[list[Select[str]], Node]:
    """The message sets of the terms ANDed at the top of the query, and the rest of it (`And()` is "all")."""
    items = node.items if isinstance(node, And) else (node,)
    named = [item for item in items if isinstance(item, Term) and item.key in sets]
    rest = tuple(item for item in items if not (isinstance(item, Term) and item.key in sets))
    return [sets[term.key](term.value) for term in named], rest[0] if len(rest) == 1 else And(rest)


def _matching(assistant: Assistant, node: Node, sort_key: Any) -> Select[Any] | CompoundSelect[Any]:
    """The (id, sort key) of every visible history matching the query.

    With message sets ANDed at the top, two branches, of which PostgreSQL runs one (the other's one-time filter
    is false): up to DRIVER_LIMIT ids of their intersection looked up by primary key, or the deployment scanned.
    """
    fields = history_fields(assistant)
    condition = compile_node(node, fields)  # validates every term, whichever branch runs

    def pairs(*where: ColumnElement[bool]) -> Select[Any]:
        visible = (Message.assistant_id == assistant.id, Message.deleted_at.is_(None))
        return select(Message.id.label("id"), sort_key.label("key")).where(*visible, *where)

    sets, rest = _split_sets(node, message_sets(assistant))
    if not sets:
        return pairs(condition)
    both = sets[0] if len(sets) == 1 else intersect(*sets)
    driver = select(both.subquery().c[0]).limit(DRIVER_LIMIT + 1).cte("driver").prefix_with("MATERIALIZED")
    few = select(func.count()).select_from(driver).scalar_subquery() <= DRIVER_LIMIT
    by_ids = pairs(
        few, Message.id == any_(func.array(select(driver.c[0]).scalar_subquery())), compile_node(rest, fields)
    )
    return union_all(by_ids, pairs(not_(few), condition))


async def search_histories(db: AsyncSession, assistant: Assistant, spec: HistoryQuery) -> tuple[list[History], int]:
    """One page of the deployment's visible histories matching the query, and how many match in all."""
    check_sort(spec, assistant.kind)
    if (spec.search_query or "").strip():
        matching = _matching(assistant, parse(spec.search_query or ""), SORTS[spec.sort_by])
        page, total = await _filtered(db, matching, spec)
    else:
        page, total = await _unfiltered(
            db, and_(Message.assistant_id == assistant.id, Message.deleted_at.is_(None)), spec
        )
    return await histories(db, page), total
