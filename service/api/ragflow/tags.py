"""`/api/v1/datasets/{dataset_id}/tags` and `/datasets/tags/aggregation`: the tags (`tag_kwd`) of a dataset's chunks.

As RAGFlow does, the body of a change is checked before the dataset is looked up, and a dataset that is
unknown or another tenant's is refused with the same text.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import Rejected, ok
from service.api.ragflow.schemas import json_body
from service.domain import chunk_tags
from service.errors import Invalid


def dataset_ids_arg(request: Request[Any, Any, Any]) -> list[str]:
    """`?dataset_ids=a,b`: empty entries dropped, nothing else trimmed (RAGFlow looks each one up as given)."""
    dataset_ids = [item for item in request.query_params.get("dataset_ids", "").split(",") if item]
    if not dataset_ids:
        raise Rejected("Lack of dataset_ids in query parameters")
    return dataset_ids


def tags_to_remove(body: dict[str, Any]) -> list[str]:
    if "tags" not in body:
        raise Rejected("Lack of tags in request body")
    tags = body["tags"]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise Invalid("tags must be a list of strings")
    return tags


def renaming(body: dict[str, Any]) -> tuple[str, str]:
    """`from_tag` and `to_tag`, both non-blank strings."""
    if "from_tag" not in body or "to_tag" not in body:
        raise Rejected("Lack of from_tag or to_tag in request body")
    old, new = body["from_tag"], body["to_tag"]
    if not isinstance(old, str) or not isinstance(new, str):
        raise Invalid("from_tag and to_tag must be strings")
    if not old.strip() or not new.strip():
        raise Invalid("from_tag and to_tag must not be empty")
    return old, new


class TagController(Controller):
    path = "/datasets"

    @get("/tags/aggregation")  # a static segment: Litestar never reads it as `/datasets/{dataset_id}`
    async def aggregate_tags(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        counts = await chunk_tags.aggregate_tags(db, tenant, dataset_ids_arg(request))
        return ok([{"value": tag, "count": count} for tag, count in counts])

    @get("/{dataset_id:str}/tags")
    async def list_tags(
        self, dataset_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        counts = await chunk_tags.dataset_tags(db, tenant, dataset_id)
        return ok([[tag, count] for tag, count in counts])  # RAGFlow's (tag, count) pairs

    @delete("/{dataset_id:str}/tags", status_code=200)
    async def delete_tags(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        tags = tags_to_remove(await json_body(request, required=False))
        await chunk_tags.remove_tags(db, tenant, dataset_id, tags)
        return ok({})

    @put("/{dataset_id:str}/tags", status_code=200)
    async def rename_tag(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        old, new = renaming(await json_body(request, required=False))
        await chunk_tags.rename_tag(db, tenant, dataset_id, old, new.strip())  # stored trimmed
        return ok({"from": old, "to": new})
