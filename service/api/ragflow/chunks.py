"""`/api/v1/datasets/{dataset_id}/documents/{document_id}/chunks`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import flag, json_body, list_of_strings, page_args
from service.api.ragflow.views import chunk_json, document_json, raw_chunk_json
from service.db.models import Dataset, Document
from service.domain import chunks, datasets, documents
from service.errors import Invalid
from service.runtime import Runtime


async def scope(
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    dataset_id: FromPath[str],
    document_id: FromPath[str],
) -> tuple[Dataset, Document]:
    dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
    return dataset, await documents.get_document(db, dataset, document_id)


def chunk_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "content" in body:
        if not isinstance(body["content"], str):
            raise Invalid("`content` should be a string")
        changes["content"] = body["content"]
    for key in ("important_keywords", "questions"):
        if key in body:
            changes[key] = list_of_strings(body, key)
    if "available" in body:
        if not isinstance(body["available"], bool | int):
            raise Invalid("`available` should be a boolean")
        changes["available"] = bool(body["available"])
    if "positions" in body:
        changes["positions"] = body["positions"]
    return changes


class ChunkController(Controller):
    path = "/datasets/{dataset_id:str}/documents/{document_id:str}/chunks"

    @get("/")
    async def list_chunks(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        _, document = await scope(db, tenant, dataset_id, document_id)
        page, size = page_args(request)
        args = request.query_params
        available = None if args.get("available") is None else flag(args.get("available"), True)
        spec = chunks.ChunkQuery(page, size, args.get("keywords"), args.get("id"), available)
        rows, total = await chunks.list_chunks(db, document, spec)
        return ok(
            {
                "total": total,
                "chunks": [chunk_json(row, document) for row in rows],
                "doc": document_json(document),
            }
        )

    @get("/{chunk_id:str}")
    async def get_chunk(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        chunk_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        _, document = await scope(db, tenant, dataset_id, document_id)
        return ok(raw_chunk_json(await chunks.get_chunk(db, document, chunk_id), document))

    @post("/", status_code=200)
    async def add_chunk(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        dataset, document = await scope(db, tenant, dataset_id, document_id)
        fields = chunk_changes(await json_body(request))
        chunk = await chunks.add_chunk(
            db, document, dataset.embedding_model, runtime.embedder(dataset.embedding_model), fields
        )
        body = chunk_json(chunk, document) | {
            "create_time": chunk.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "create_timestamp": chunk.created_at.timestamp(),
        }
        return ok({"chunk": body})

    @route("/{chunk_id:str}", http_method=["PATCH", "PUT"], status_code=200)  # PUT: deprecated alias
    async def update_chunk(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        chunk_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        dataset, document = await scope(db, tenant, dataset_id, document_id)
        changes = chunk_changes(await json_body(request))
        await chunks.update_chunk(db, document, chunk_id, runtime.embedder(dataset.embedding_model), changes)
        return ok()

    @patch("/", status_code=200)
    async def set_availability(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        _, document = await scope(db, tenant, dataset_id, document_id)
        body = await json_body(request)
        available = body.get("available", body.get("available_int"))
        if available not in (True, False, 0, 1):
            raise Invalid("`available` should be a boolean")
        await chunks.set_availability(db, document, list_of_strings(body, "chunk_ids"), bool(available))
        return ok(True)

    @delete("/", status_code=200)
    async def delete_chunks(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        _, document = await scope(db, tenant, dataset_id, document_id)
        body = await json_body(request, required=False)
        if not body:
            return ok()
        deleted = await chunks.delete_chunks(
            db, document, list_of_strings(body, "chunk_ids"), bool(body.get("delete_all"))
        )
        return Response({"code": 0, "message": f"deleted {deleted} chunks"})
