"""Exports as CSV or JSON Lines, streamed in constant memory: histories, evaluation-dataset items, run items.

`*_export()` checks the request (in the caller's transaction, so bad input is an error reply) and returns an
`Export`: a statement and how to render its rows. `stream()` then runs the statement in a unit of work of its
own, through a server-side cursor read `BATCH` rows at a time, and yields the rendered bytes batch by batch:
memory stays that of one batch whatever the number of rows (bench/history_export.py measures it).

CSV: a header row, then one row per object; lists and objects (tags, metadata, inputs, scores) are JSON text.
JSON Lines: one JSON object per line, lists and objects as they are. Times are ISO 8601 (CSV: in UTC).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Select, String, Text, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import (
    Assistant,
    ChatSession,
    EvalDataset,
    EvalItem,
    EvalRun,
    EvalRunItem,
    Message,
    MessageMetadata,
    MessageTag,
    Tag,
)
from service.domain.evaluation import ITEM_FIELDS
from service.domain.history_search import history_fields
from service.domain.search_query import compile_query
from service.errors import Invalid

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
BATCH = 2000  # rows per cursor fetch and per chunk written


@dataclass
class Export:
    """What to export: `source` (its FROM, WHERE and ORDER BY) and the columns, each rendered by PostgreSQL
    itself (a JSON object per row, or CSV cells as text): Python only joins the lines, which keeps 100k rows
    at the speed of the database (rendering them in Python was two thirds of the time)."""

    source: Select[Any]
    columns: dict[str, Any]
    file_name: str
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    @property
    def statement(self) -> Select[Any]:
        if self.format == "jsonl":
            pairs = [part for name, column in self.columns.items() for part in (literal(name), column)]
            return self.source.with_only_columns(cast(func.json_build_object(*pairs), Text))
        return self.source.with_only_columns(*(_csv_cell(column) for column in self.columns.values()))


def check_format(value: str | None) -> str:
    if value not in FORMATS:
        raise Invalid(f"`format` must be one of {', '.join(FORMATS)}")
    return value


def _csv_cell(column: Any) -> Any:
    """Lists and objects as JSON text, times as ISO 8601 in UTC, the rest as they are."""
    if isinstance(column.type, JSONB | ARRAY):
        return cast(column, Text)
    if isinstance(column.type, DateTime):
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
    return column


def _history_columns() -> dict[str, Any]:
    tags = (
        select(func.array_agg(aggregate_order_by(Tag.name, Tag.name)))
        .join(MessageTag, MessageTag.tag_id == Tag.id)
        .where(MessageTag.message_id == Message.id)
        .scalar_subquery()
    )
    metadata = (
        select(func.jsonb_object_agg(MessageMetadata.key, MessageMetadata.value))
        .where(MessageMetadata.message_id == Message.id)
        .scalar_subquery()
    )
    rating = case(
        (Message.thumbup.is_(True), "like"), (Message.thumbup.is_(False), "dislike"), else_=literal(None, String)
    )
    return {
        "id": Message.id,
        "thread_id": Message.session_id,
        "thread_name": func.coalesce(ChatSession.name, ""),
        "input_text": Message.input,
        "output_text": Message.output,
        "input_token_count": Message.prompt_tokens,
        "output_token_count": Message.completion_tokens,
        "latency_ms": Message.latency_ms,
        "model": Message.model,
        "status": Message.status,
        "error_message": Message.error,
        "channel": Message.channel,
        "tags": func.coalesce(func.to_jsonb(tags), func.jsonb_build_array(), type_=JSONB),
        "metadata": func.coalesce(metadata, func.jsonb_build_object(), type_=JSONB),
        "feedback": rating,
        "feedback_comment": Message.feedback,
        "created_at": Message.created_at,
        "updated_at": Message.updated_at,
    }


def history_export(assistant: Assistant, search_query: str | None, fmt: str | None) -> Export:
    """Every visible history of the deployment matching `search_query` (OpsBee's syntax), oldest first."""
    chosen = check_format(fmt)
    condition = compile_query(search_query or "", history_fields(assistant))
    columns = _history_columns()
    source = (
        select(Message.id)
        .outerjoin(ChatSession, ChatSession.id == Message.session_id)
        .where(Message.assistant_id == assistant.id, Message.deleted_at.is_(None), condition)
        .order_by(Message.created_at, Message.id)
    )
    return Export(source, columns, f"histories-{assistant.id}.{chosen}", chosen)


def item_export(dataset: EvalDataset, search_query: str | None, fmt: str | None) -> Export:
    chosen = check_format(fmt)
    columns = {
        "id": EvalItem.id,
        "dataset_id": EvalItem.dataset_id,
        "inputs": EvalItem.inputs,
        "outputs": EvalItem.outputs,
        "tags": EvalItem.tags,
        "metadata": EvalItem.metadata_,
        "source_history_id": EvalItem.source_message_id,
        "created_at": EvalItem.created_at,
        "updated_at": EvalItem.updated_at,
    }
    source = (
        select(EvalItem.id)
        .where(EvalItem.dataset_id == dataset.id, compile_query(search_query or "", ITEM_FIELDS))
        .order_by(EvalItem.created_at, EvalItem.id)
    )
    return Export(source, columns, f"dataset-items-{dataset.id}.{chosen}", chosen)


def run_item_export(run: EvalRun, fmt: str | None) -> Export:
    chosen = check_format(fmt)
    columns = {
        "id": EvalRunItem.id,
        "run_id": EvalRunItem.run_id,
        "item_id": EvalRunItem.item_id,
        "history_id": EvalRunItem.message_id,
        "status": EvalRunItem.status,
        "question": EvalRunItem.question,
        "expected_output": EvalRunItem.expected,
        "answer": EvalRunItem.answer,
        "scores": EvalRunItem.scores,
        "judge_reason": EvalRunItem.judge_reason,
        "latency_ms": EvalRunItem.latency_ms,
        "input_token_count": EvalRunItem.prompt_tokens,
        "output_token_count": EvalRunItem.completion_tokens,
        "error_message": EvalRunItem.error,
        "created_at": EvalRunItem.created_at,
        "updated_at": EvalRunItem.updated_at,
    }
    source = select(EvalRunItem.id).where(EvalRunItem.run_id == run.id).order_by(EvalRunItem.ordinal)
    return Export(source, columns, f"run-items-{run.id}.{chosen}", chosen)


# --- rendering ------------------------------------------------------------------------------------------------


def _csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _jsonl(columns: Sequence[str], rows: Sequence[Sequence[Any]], header: bool) -> bytes:
    return "".join(row[0] + "\n" for row in rows).encode()


RENDERERS: dict[str, Callable[[Sequence[str], Sequence[Sequence[Any]], bool], bytes]] = {"csv": _csv, "jsonl": _jsonl}


async def stream(sessions: async_sessionmaker[AsyncSession], export: Export) -> AsyncIterator[bytes]:
    """The export's bytes, one batch of rows at a time, read through a server-side cursor."""
    render, names = RENDERERS[export.format], list(export.columns)
    first = True
    async with sessions() as db:
        result = await db.stream(export.statement.execution_options(yield_per=BATCH))
        async for rows in result.partitions():
            yield render(names, rows, first)
            first = False
    if first and export.format == "csv":  # nothing matched: the header alone
        yield render(names, [], True)
