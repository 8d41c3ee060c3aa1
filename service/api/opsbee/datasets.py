"""`/opsbee-llm/organizations/{org}/datasets`: evaluation datasets and items, and histories added to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.deps import EVAL_DATASET, ITEM
from service.api.opsbee.histories import DEPLOYMENT
from service.api.opsbee.schemas import BODY, page_of, raw_search_query
from service.api.opsbee.views import page_json, reply, stamps
from service.domain import evaluation
from service.domain.deployments import require_kind

if TYPE_CHECKING:
    from service.db.models import EvalDataset, EvalItem


def dataset_json(dataset: EvalDataset, item_count: int) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "organization_id": dataset.tenant_id,
        "name": dataset.name,
        "description": dataset.description,
        "type": dataset.type,
        "item_count": item_count,
        **stamps(dataset),
    }


def item_json(item: EvalItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "organization_id": item.tenant_id,
        "dataset_id": item.dataset_id,
        "inputs": item.inputs,
        "outputs": item.outputs,
        "tags": item.tags,
        "metadata": item.metadata_,
        "source_history_id": item.source_message_id,
        **stamps(item),
    }


async def _with_count(db: AsyncSession, dataset: EvalDataset) -> dict[str, Any]:
    return dataset_json(dataset, (await evaluation.item_counts(db, [dataset.id])).get(dataset.id, 0))


class EvalDatasetController(Controller):
    path = "/organizations/{organization_id:str}/datasets"
    dependencies = EVAL_DATASET

    @get("/")
    async def list_datasets(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await evaluation.list_datasets(db, org, page)
        counts = await evaluation.item_counts(db, [row.id for row in rows])
        datasets = [dataset_json(row, counts.get(row.id, 0)) for row in rows]
        return reply({"organization_id": org, "datasets": datasets, **page_json(page, len(rows), total)})

    @post("/", status_code=200)
    async def create_dataset(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        dataset = await evaluation.create_dataset(db, org, body.get("name"), body.get("type"), body.get("description"))
        return reply(dataset_json(dataset, 0))

    @get("/{dataset_id:str}")
    async def get_dataset(
        self, db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        return reply(await _with_count(db, dataset))

    @patch("/{dataset_id:str}", status_code=200)
    async def update_dataset(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        dataset = await evaluation.update_dataset(db, dataset, body.get("name"), body.get("description"))
        return reply(await _with_count(db, dataset))

    @delete("/{dataset_id:str}", status_code=200)
    async def delete_dataset(
        self, db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        """Answers with the deleted dataset, as the SDK's documentation shows."""
        body = await _with_count(db, dataset)
        await evaluation.delete_dataset(db, dataset)
        return reply(body)


class EvalItemController(Controller):
    path = "/organizations/{organization_id:str}/datasets/{dataset_id:str}/items"
    dependencies = ITEM

    @get("/")
    async def list_items(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
        dataset: NamedDependency[EvalDataset],
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await evaluation.list_items(db, dataset, raw_search_query(request), page)
        items = [item_json(row) for row in rows]
        return reply(
            {"organization_id": org, "dataset_id": dataset.id, "items": items, **page_json(page, len(rows), total)}
        )

    @post("/", status_code=200)
    async def create_item(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        fields = (body.get(key) for key in ("inputs", "outputs", "tags", "metadata"))
        return reply(item_json(await evaluation.create_item(db, dataset, *fields)))

    @get("/{item_id:str}")
    async def get_item(self, item: NamedDependency[EvalItem]) -> Response[Any]:
        return reply(item_json(item))

    @delete("/{item_id:str}", status_code=200)
    async def delete_item(self, db: NamedDependency[AsyncSession], item: NamedDependency[EvalItem]) -> Response[Any]:
        body = item_json(item)
        await evaluation.delete_item(db, item)
        return reply(body)


async def _add(
    db: AsyncSession, org: str, deployment_id: str, kind: str, dataset_id: str, body: dict[str, Any]
) -> Response[Any]:
    assistant = await require_kind(db, org, deployment_id, kind)
    dataset = await evaluation.get_dataset(db, org, dataset_id)
    items = await evaluation.add_histories(db, assistant.id, dataset, body.get("history_ids"))
    label = "qa histories" if kind == "qa" else "chat histories"
    return reply({"message": f"Successfully added {label} to dataset {dataset.id}", "item_ids": [i.id for i in items]})


class AddHistoriesController(Controller):
    """Histories of one `kind` made into dataset items: abeja-sdk's path (history ids in the body), and the seed's
    per-history path as an alias. The body is read before the deployment is checked, as it always was."""

    kind: ClassVar[str]

    @post("/datasets/{dataset_id:str}/items", status_code=200)
    async def add_histories(
        self,
        deployment_id: FromPath[str],
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        return await _add(db, org, deployment_id, self.kind, dataset_id, body)

    @post("/{history_id:str}/datasets/{dataset_id:str}/items", status_code=200)
    async def add_one_history(
        self,
        deployment_id: FromPath[str],
        history_id: FromPath[str],
        dataset_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        return await _add(db, org, deployment_id, self.kind, dataset_id, {"history_ids": [history_id]})


class AddChatHistories(AddHistoriesController):
    path = DEPLOYMENT + "/histories"
    kind = "chat"


class AddQaHistories(AddHistoriesController):
    path = DEPLOYMENT + "/qa_histories"
    kind = "qa"
