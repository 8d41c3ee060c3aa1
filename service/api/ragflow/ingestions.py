"""`/api/v1/datasets/{dataset_id}/ingestions`: a dataset's ingestion logs and summary, as RAGFlow v0.27 serves them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import MAX_PAGE_SIZE, orderby, shown, text_arg
from service.api.ragflow.views import rfc1123, times
from service.domain import ingestion_logs
from service.domain.pages import Page
from service.errors import Invalid, NotFound

if TYPE_CHECKING:
    from service.db.models import IngestionLog

# RAGFlow stores a run state as a digit and returns the digit in its logs; a filter may use either spelling.
RUN_CODES = {"UNSTART": "0", "RUNNING": "1", "CANCEL": "2", "DONE": "3", "FAIL": "4"}
RUN_NAMES = {code: name for name, code in RUN_CODES.items()}


def _count(request: Request[Any, Any, Any], key: str) -> int:
    """`page` or `page_size`: 0 (the default) means every log, as RAGFlow's list does."""
    raw = request.query_params.get(key, "0")
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("page and page_size must be integers") from None
    if value < 0:
        raise Invalid(f"{key} must be greater than or equal to 0")
    return value


def _page(request: Request[Any, Any, Any]) -> Page | None:
    page, size = _count(request, "page"), _count(request, "page_size")
    if size > MAX_PAGE_SIZE:
        raise Invalid(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
    return Page.numbered(page, size) if page and size else None


def _date(request: Request[Any, Any, Any], key: str) -> datetime | None:
    """A bound on the log's creation, as RAGFlow compares `create_date` with the text given; naive means UTC."""
    raw = request.query_params.get(key)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"`{key}` should be a date such as 2025-01-31 or 2025-01-31 12:00:00, got {shown(raw)}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def log_query(request: Request[Any, Any, Any]) -> ingestion_logs.LogQuery:
    order, desc = orderby(request, tuple(ingestion_logs.ORDER_COLUMNS))
    args = request.query_params
    statuses = [RUN_NAMES.get(value, value.upper()) for value in map(text_arg, args.getall("operation_status", []))]
    return ingestion_logs.LogQuery(
        page=_page(request),
        orderby=order,
        desc=desc,
        log_type=text_arg(args.get("log_type") or "dataset"),
        statuses=statuses,
        created_from=_date(request, "create_date_from"),
        created_to=_date(request, "create_date_to"),
        keywords=text_arg(args.get("keywords") or "") or None,
    )


def log_json(log: IngestionLog) -> dict[str, Any]:
    """RAGFlow's pipeline-operation-log fields; a Nectar run has no pipeline canvas, so its title is the chunk
    method (RAGFlow's own fallback) and its `dsl` is empty."""
    return {
        "id": log.id,
        "document_id": log.document_id,
        "tenant_id": log.tenant_id,
        "kb_id": log.dataset_id,
        "pipeline_id": None,
        "pipeline_title": log.parser_id,
        "parser_id": log.parser_id,
        "document_name": log.document_name,
        "document_suffix": log.document_suffix,
        "document_type": log.document_type,
        "source_from": "local",
        "progress": log.progress,
        "progress_msg": log.progress_msg,
        "process_begin_at": rfc1123(log.process_begin_at),
        "process_duration": log.process_duration,
        "dsl": {},
        "task_type": log.task_type,
        "operation_status": RUN_CODES.get(log.operation_status, log.operation_status),
        "avatar": None,
        "status": "1",
        **times(log),
    }


class IngestionController(Controller):
    path = "/datasets/{dataset_id:str}/ingestions"

    @get("/")
    async def list_logs(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        spec = log_query(request)
        dataset = await ingestion_logs.accessible_dataset(db, tenant, text_arg(dataset_id))
        if spec.log_type not in ingestion_logs.LOG_TYPES:
            raise NotFound('Invalid "log_type", expected "dataset" or "file"')
        rows, total = await ingestion_logs.list_logs(db, dataset, spec)
        return ok({"total": total, "logs": [log_json(row) for row in rows]})

    @get("/summary")  # a static segment: Litestar matches it before `/{log_id}`
    async def summary(
        self, dataset_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        found = await ingestion_logs.summary(db, tenant, text_arg(dataset_id))
        status = {f"{state.lower()}_count": count for state, count in found.by_run.items()}
        body = {"doc_num": found.document_count, "chunk_num": found.chunk_count, "token_num": found.token_count}
        return ok({**body, "status": status})

    @get("/{log_id:str}")
    async def get_log(
        self,
        dataset_id: FromPath[str],
        log_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await ingestion_logs.accessible_dataset(db, tenant, text_arg(dataset_id))
        return ok(log_json(await ingestion_logs.get_log(db, dataset, text_arg(log_id))))
