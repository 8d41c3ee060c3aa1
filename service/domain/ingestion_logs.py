"""A dataset's ingestion logs: one row per finished parse run (RAGFlow's `pipeline_operation_log`).

The rows are written by the database when a document's run becomes DONE, FAIL or CANCEL (migration 0011);
this module only reads them, and sums a dataset's documents up for its ingestion summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, IngestionLog
from service.domain.datasets import RUN_STATES, dataset_stats, get_dataset
from service.domain.matching import contains
from service.domain.pages import Page, paged
from service.errors import NotFound

# RAGFlow's two kinds of log: per-document runs ("file") and dataset-wide GraphRAG/RAPTOR/mindmap tasks
# ("dataset"). This server runs no dataset-wide task, so it has file logs only.
LOG_TYPES = ("dataset", "file")
ORDER_COLUMNS = {
    "create_time": IngestionLog.created_at,
    "create_date": IngestionLog.created_at,
    "update_time": IngestionLog.updated_at,
    "update_date": IngestionLog.updated_at,
    "document_name": IngestionLog.document_name,
    "process_begin_at": IngestionLog.process_begin_at,
    "process_duration": IngestionLog.process_duration,
}


@dataclass
class LogQuery:
    page: Page | None = None  # None: every log, as RAGFlow answers without page and page_size
    orderby: str = "create_time"
    desc: bool = True
    log_type: str = "dataset"
    statuses: list[str] = field(default_factory=list)  # run states, e.g. DONE
    created_from: datetime | None = None
    created_to: datetime | None = None
    keywords: str | None = None


async def accessible_dataset(db: AsyncSession, tenant_id: str, dataset_id: str) -> Dataset:
    """The tenant's dataset, refused in the words of RAGFlow's ingestion and embedding routes."""
    dataset = await db.get(Dataset, dataset_id)
    if dataset is None or dataset.tenant_id != tenant_id:
        raise NotFound("no authorization")
    return dataset


def _filtered(query: Select[Any], dataset: Dataset, spec: LogQuery) -> Select[Any]:
    query = query.where(IngestionLog.dataset_id == dataset.id)
    if spec.statuses:
        query = query.where(IngestionLog.operation_status.in_(spec.statuses))
    if spec.created_from:
        query = query.where(IngestionLog.created_at >= spec.created_from)
    if spec.created_to:
        query = query.where(IngestionLog.created_at <= spec.created_to)
    if spec.keywords:
        query = query.where(contains(IngestionLog.document_name, spec.keywords))
    return query


async def list_logs(db: AsyncSession, dataset: Dataset, spec: LogQuery) -> tuple[list[IngestionLog], int]:
    if spec.log_type == "dataset":
        return [], 0
    column = ORDER_COLUMNS[spec.orderby]
    order = (column.desc(), IngestionLog.id.desc()) if spec.desc else (column.asc(), IngestionLog.id.asc())
    query = _filtered(select(IngestionLog), dataset, spec).order_by(*order)
    return await paged(db, query, spec.page or Page(0, 2**62))


async def get_log(db: AsyncSession, dataset: Dataset, log_id: str) -> IngestionLog:
    log = await db.get(IngestionLog, log_id)
    if log is None or log.dataset_id != dataset.id:
        raise NotFound("Log not found")
    return log


@dataclass
class IngestionSummary:
    document_count: int
    chunk_count: int
    token_count: int
    by_run: dict[str, int]


async def summary(db: AsyncSession, tenant_id: str, dataset_id: str) -> IngestionSummary:
    dataset = await get_dataset(db, tenant_id, dataset_id)
    stats = (await dataset_stats(db, [dataset.id]))[dataset.id]
    by_run = {state: stats.by_run.get(state, 0) for state in RUN_STATES}
    return IngestionSummary(stats.document_count, stats.chunk_count, stats.token_num, by_run)
