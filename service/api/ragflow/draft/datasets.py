"""The draft's `/api/v1/dataset`: create, list, update and delete, over the domain calls and validators of
`/datasets`. The draft refuses what `/datasets` would rename or change: a duplicate name, and on update any change
of the id, tenant, embedding model or counts it echoes back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.datasets import render
from service.api.ragflow.draft.inputs import draft_page, v027_parser_config, validated_draft
from service.api.ragflow.draft.shapes import dataset_view
from service.api.ragflow.envelope import Rejected, ok
from service.api.ragflow.schemas import (
    DatasetCreate,
    DatasetDeleteIds,
    DatasetUpdate,
    dataset_fields,
    json_body,
    orderby,
    text_arg,
    validated,
)
from service.domain import datasets
from service.domain.pages import Page
from service.errors import NotFound
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Dataset

ECHOED = ("id", "tenant_id", "embedding_model")  # the draft's read-only fields: never on create, unchanged on update
COUNTS = ("chunk_count", "document_count")
DRAFT_NAMES = {"chunk_method": "parse_method"}


class DraftDatasetCreate(DatasetCreate):
    """v0.27's create body, plus the `language` the draft also takes on create."""

    language: str | None = Field(default=None, max_length=32)


def v027_body(body: dict[str, Any]) -> dict[str, Any]:
    """The draft's body in v0.27's words, for v0.27's validators: `parse_method` is `chunk_method`, the read-only
    fields (checked before) are left out."""
    fields = {key: value for key, value in body.items() if key not in (*ECHOED, *COUNTS, "parse_method")}
    if "parse_method" in body:
        fields["chunk_method"] = body["parse_method"]
    if "parser_config" in fields:
        fields["parser_config"] = v027_parser_config(fields["parser_config"])
    return fields


def check_new(body: dict[str, Any]) -> None:
    """The draft's create example sends the counts of the new dataset (0); anything else is refused."""
    for key in ECHOED:
        if key in body:
            raise Rejected(f"`{key}` must not be provided")
    for key in COUNTS:
        if key in body and body[key] != 0:
            raise Rejected(f"`{key}` of a new dataset must be 0")


async def check_echoes(db: AsyncSession, tenant: str, dataset: Dataset, body: dict[str, Any]) -> None:
    """An update may send the read-only fields back unchanged; `parse_method` changes only while there are no chunks."""
    stats = (await datasets.dataset_stats(db, [dataset.id]))[dataset.id]
    current = {
        "id": dataset.id,
        "tenant_id": tenant,
        "embedding_model": dataset.embedding_model,
        "chunk_count": stats.chunk_count,
        "document_count": stats.document_count,
    }
    for key, value in current.items():
        if key in body and body[key] != value:
            raise Rejected(f"Can't change {key}.")
    if body.get("parse_method", dataset.chunk_method) != dataset.chunk_method and stats.chunk_count:
        raise Rejected("If chunk_count is not 0, parse_method is not changeable.")


async def name_holder(db: AsyncSession, tenant: str, name: str) -> str | None:
    """The id of the tenant's dataset of this name (in any case), if there is one."""
    try:
        rows, _ = await datasets.list_datasets(db, tenant, datasets.DatasetQuery(Page.numbered(1, 1), name=name))
    except NotFound:  # the domain's answer to a name filter that matches nothing
        return None
    return rows[0].id


class DraftDatasetController(Controller):
    path = "/dataset"

    @post("/", status_code=200)
    async def create_dataset(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        body = await json_body(request, json_only=True)
        check_new(body)
        fields = dataset_fields(validated_draft(DraftDatasetCreate, v027_body(body), DRAFT_NAMES))
        if await name_holder(db, tenant, fields["name"]):
            raise Rejected("Duplicated knowledgebase name in creating dataset.")
        language = fields.pop("language", None)
        dataset = await datasets.create_dataset(db, tenant, fields, settings.default_embedding_model)
        if language:  # the domain's create leaves it at the default; set it as an update does
            dataset = await datasets.update_dataset(db, tenant, dataset.id, {"language": language})
        return ok(dataset_view((await render(db, [dataset]))[0]))

    @get("/")
    async def list_datasets(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        order, desc = orderby(request, ("create_time", "update_time"))
        name, dataset_id = (text_arg(request.query_params.get(key) or "") or None for key in ("name", "id"))
        spec = datasets.DatasetQuery(draft_page(request), order, desc, name, dataset_id)
        try:
            rows, _ = await datasets.list_datasets(db, tenant, spec)
        except NotFound:
            raise NotFound("The dataset doesn't exist") from None
        return ok([dataset_view(view) for view in await render(db, rows)])

    @put("/{dataset_id:str}", status_code=200)
    async def update_dataset(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        body = await json_body(request, json_only=True)
        await check_echoes(db, tenant, dataset, body)
        changes = dataset_fields(validated_draft(DatasetUpdate, v027_body(body), DRAFT_NAMES))
        if "name" in changes and await name_holder(db, tenant, changes["name"]) not in (None, dataset.id):
            raise Rejected("Duplicated knowledgebase name in updating dataset.")
        await datasets.update_dataset(db, tenant, dataset.id, changes)
        return ok()

    @delete("/", status_code=200)
    async def delete_datasets(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        """All or nothing, as the draft describes it: one id the caller does not own and none is deleted."""
        spec = validated(DatasetDeleteIds, await json_body(request, required=False))
        if not spec.ids:
            raise Rejected("ids are required")
        try:
            await datasets.delete_datasets(db, tenant, spec.ids, delete_all=False)
        except NotFound:
            raise NotFound("You don't own the dataset.") from None
        return ok()
