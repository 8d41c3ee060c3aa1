"""`/opsbee-llm/organizations/{org}/datasets/{dataset_id}/runs`: evaluation runs (our extension of OpsBee).

`POST` `{deployment_id, name?, metrics?, concurrency?}` queues a run (the worker answers it); `GET /` lists them,
`GET /{run_id}` shows status, progress, per-metric mean/p50/p90 and the first failures, `GET /{run_id}/items`
pages its items (`?status=pending|ok|error`), `GET /{run_id}/items/export?format=csv|jsonl` streams them all,
`PATCH /{run_id} {"status": "cancelled"}` stops it, `DELETE /{run_id}` removes it, and
`GET /compare?ids=<baseline>,<candidate>` compares two (`&limit=`: how many most-changed items, default 20).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.body import json_object
from service.api.opsbee.deps import EVAL_DATASET
from service.api.opsbee.run_views import comparison_json, run_item_json, run_json
from service.api.opsbee.schemas import BODY, _integer, page_of
from service.api.opsbee.views import page_json, reply
from service.domain import eval_runs, eval_summary, exports
from service.providers.llm import ModelRegistry
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import EvalDataset, EvalRun

RUN = "/{run_id:str}"


async def provide_run(
    run_id: FromPath[str], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
) -> EvalRun:
    return await eval_runs.get_run(db, dataset, run_id)


RUN_LOOKUPS = {**EVAL_DATASET, "run": Provide(provide_run)}


def export_response(sessions: async_sessionmaker[AsyncSession], export: exports.Export) -> Stream:
    """The export streamed from its own unit of work (the request's transaction ends when the handler returns)."""
    disposition = f'attachment; filename="{export.file_name}"'
    return Stream(
        exports.stream(sessions, export), media_type=export.media_type, headers={"Content-Disposition": disposition}
    )


async def _shown(db: AsyncSession, run: EvalRun) -> Response[Any]:
    summary = await eval_summary.summary_of(db, run)
    return reply(run_json(run, summary.progress, summary))


class RunController(Controller):
    path = "/organizations/{organization_id:str}/datasets/{dataset_id:str}/runs"
    dependencies = RUN_LOOKUPS

    @get("/")
    async def list_runs(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await eval_runs.list_runs(db, dataset, page)
        progress = await eval_summary.progress_of(db, rows)
        runs = [run_json(row, progress[row.id]) for row in rows]
        return reply(
            {
                "organization_id": dataset.tenant_id,
                "dataset_id": dataset.id,
                "runs": runs,
                **page_json(page, len(rows), total),
            }
        )

    @post("/", status_code=200)
    async def create_run(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[EvalDataset],
        models: NamedDependency[ModelRegistry],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        run = await eval_runs.create_run(db, dataset, body, models, settings.eval_judge_llm)
        return await _shown(db, run)

    @get("/compare")
    async def compare_runs(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        ids = eval_summary.compared_ids(request.query_params.get("ids"))
        limit = _integer(request, "limit", eval_summary.DEFAULT_CHANGED, 1, eval_summary.MAX_CHANGED)
        return reply(comparison_json(await eval_summary.compare_runs(db, dataset, ids, limit)))

    @get(RUN)
    async def get_run(self, db: NamedDependency[AsyncSession], run: NamedDependency[EvalRun]) -> Response[Any]:
        return await _shown(db, run)

    @patch(RUN, status_code=200)
    async def update_run(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], run: NamedDependency[EvalRun]
    ) -> Response[Any]:
        """`{"status": "cancelled"}` stops a queued or running run (the only change a run takes)."""
        body = await json_object(request, BODY)
        return await _shown(db, await eval_runs.update_run(db, run, body))

    @delete(RUN, status_code=200)
    async def delete_run(self, db: NamedDependency[AsyncSession], run: NamedDependency[EvalRun]) -> Response[Any]:
        """Answers with the run as it was; the histories it recorded stay."""
        summary = await eval_summary.summary_of(db, run)
        body = run_json(run, summary.progress, summary)
        await eval_runs.delete_run(db, run)
        return reply(body)

    @get(RUN + "/items")
    async def list_run_items(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], run: NamedDependency[EvalRun]
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await eval_runs.list_run_items(db, run, page, request.query_params.get("status"))
        items = [run_item_json(row) for row in rows]
        return reply(
            {"organization_id": run.tenant_id, "run_id": run.id, "items": items, **page_json(page, len(rows), total)}
        )

    @get(RUN + "/items/export")
    async def export_run_items(
        self,
        request: Request[Any, Any, Any],
        run: NamedDependency[EvalRun],
        sessions: NamedDependency[async_sessionmaker[AsyncSession]],
    ) -> Stream:
        return export_response(sessions, exports.run_item_export(run, request.query_params.get("format")))
