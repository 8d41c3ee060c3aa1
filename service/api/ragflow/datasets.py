"""`/api/v1/datasets`: knowledge bases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import (
    DatasetCreate,
    DatasetDeleteIds,
    DatasetUpdate,
    dataset_fields,
    dataset_list_query,
    json_body,
    validated,
)
from service.api.ragflow.views import dataset_json
from service.domain import datasets
from service.domain.pages import Page
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Dataset


async def render(db: AsyncSession, rows: list[Dataset], with_parsing: bool = False) -> list[dict[str, Any]]:
    stats = await datasets.dataset_stats(db, [row.id for row in rows])
    return [dataset_json(row, stats[row.id], with_parsing) for row in rows]


class DatasetController(Controller):
    path = "/datasets"

    @post("/", status_code=200)
    async def create_dataset(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        spec = validated(DatasetCreate, await json_body(request, json_only=True))
        fields = dataset_fields(spec)
        dataset = await datasets.create_dataset(db, tenant, fields, settings.default_embedding_model)
        return ok((await render(db, [dataset]))[0])

    @get("/")
    async def list_datasets(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        args = dataset_list_query(request)
        page = Page.numbered(args.page, args.page_size)
        spec = datasets.DatasetQuery(page, args.orderby, args.desc, args.name, args.id, args.ids)
        rows, total = await datasets.list_datasets(db, tenant, spec)
        return ok(await render(db, rows, args.include_parsing_status), total_datasets=total)

    @get("/{dataset_id:str}")
    async def get_dataset(
        self, dataset_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id)
        return ok((await render(db, [dataset], True))[0])

    @put("/{dataset_id:str}", status_code=200)
    async def update_dataset(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        changes = dataset_fields(validated(DatasetUpdate, await json_body(request, json_only=True)))
        dataset = await datasets.update_dataset(db, tenant, dataset_id, changes)
        return ok((await render(db, [dataset]))[0])

    @delete("/", status_code=200)
    async def delete_datasets(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        spec = validated(DatasetDeleteIds, await json_body(request, required=False))
        deleted = await datasets.delete_datasets(db, tenant, spec.ids, spec.delete_all)
        return ok({"success_count": deleted})
