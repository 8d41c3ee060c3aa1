"""`/api/v1/datasets/{dataset_id}/documents/{document_id}/chunks`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.deps import DOCUMENT
from service.api.ragflow.envelope import Rejected, fail, ok
from service.api.ragflow.schemas import flag, json_body, list_of_strings, page_of, text_arg
from service.api.ragflow.views import chunk_json, document_json, raw_chunk_json
from service.domain import chunks
from service.errors import Invalid
from service.providers.base import EmbedderFor

if TYPE_CHECKING:
    from service.db.models import Dataset, Document


LISTS = ("important_keywords", "questions", "tag_kwd")


def _strings(body: dict[str, Any], key: str, adding: bool) -> list[str]:
    """RAGFlow answers a bad list (null included) with 102, worded one way on add and another on update."""
    value = body[key]
    if not isinstance(value, list):
        raise Rejected(f"`{key}` is required to be a list" if adding else f"`{key}` should be a list")
    if not all(isinstance(item, str) for item in value):
        raise Rejected(f"`{key}` must be a list of strings")  # RAGFlow itself fails here with code 100
    return value


def chunk_changes(body: dict[str, Any], adding: bool = False) -> dict[str, Any]:
    """The fields a chunk body sets. Content is kept verbatim; blank questions are dropped, as RAGFlow does."""
    changes: dict[str, Any] = {}
    content = body.get("content")
    if adding and (not isinstance(content, str) or not content.strip()):
        raise Rejected("`content` is required")
    if "content" in body:
        if not isinstance(content, str):
            raise Invalid("`content` should be a string")
        changes["content"] = content
    for key in LISTS:
        if key in body:
            changes[key] = _strings(body, key, adding)
    if "questions" in changes:
        changes["questions"] = [question.strip() for question in changes["questions"] if question.strip()]
    if "available" in body:
        if not isinstance(body["available"], bool | int):
            raise Invalid("`available` should be a boolean")
        changes["available"] = bool(body["available"])
    if "positions" in body:
        changes["positions"] = body["positions"]
    return changes


def chunk_query(request: Request[Any, Any, Any]) -> chunks.ChunkQuery:
    args = {key: text_arg(value) for key, value in request.query_params.items()}
    available = None if args.get("available") is None else flag(args.get("available"), True)
    tags = [text_arg(tag) for tag in request.query_params.getall("tag_kwd", []) if tag]  # repeatable: any of them
    return chunks.ChunkQuery(page_of(request), args.get("keywords"), args.get("id"), available, tags)


class ChunkController(Controller):
    """Every route names a document of one of the caller's datasets: both are dependencies, looked up first."""

    path = "/datasets/{dataset_id:str}/documents/{document_id:str}/chunks"
    dependencies = DOCUMENT

    @get("/")
    async def list_chunks(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        rows, total = await chunks.list_chunks(db, document, chunk_query(request))
        body = {"total": total, "chunks": [chunk_json(row, document) for row in rows], "doc": document_json(document)}
        return ok(body)

    @get("/{chunk_id:str}")
    async def get_chunk(
        self, chunk_id: FromPath[str], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        return ok(raw_chunk_json(await chunks.get_chunk(db, document, chunk_id), document))

    @post("/", status_code=200)
    async def add_chunk(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
        document: NamedDependency[Document],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        fields = chunk_changes(await json_body(request), adding=True)
        model = dataset.embedding_model
        chunk = await chunks.add_chunk(db, document, model, embedder(model), fields)
        body = chunk_json(chunk, document) | {
            "create_time": chunk.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "create_timestamp": chunk.created_at.timestamp(),
        }
        return ok({"chunk": body})

    @route("/{chunk_id:str}", http_method=["PATCH", "PUT"], status_code=200)  # PUT: deprecated alias
    async def update_chunk(
        self,
        chunk_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
        document: NamedDependency[Document],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        changes = chunk_changes(await json_body(request))
        await chunks.update_chunk(db, document, chunk_id, embedder(dataset.embedding_model), changes)
        return ok()

    @patch("/", status_code=200)
    async def set_availability(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        body = await json_body(request)
        available = body.get("available", body.get("available_int"))
        if available not in (True, False, 0, 1):
            raise Invalid("`available` should be a boolean")
        await chunks.set_availability(db, document, list_of_strings(body, "chunk_ids"), bool(available))
        return ok(True)

    @delete("/", status_code=200)
    async def delete_chunks(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        body = await json_body(request, required=False)
        if not body:
            return ok()
        batch = await chunks.delete_chunks(
            db, document, list_of_strings(body, "chunk_ids"), bool(body.get("delete_all"))
        )
        if batch.missing:  # the others are deleted all the same
            return fail(102, f"rm_chunk deleted chunks {batch.done}, expect {batch.done + len(batch.missing)}")
        if batch.errors:
            message = f"Partially deleted {batch.done} chunks with {len(batch.errors)} errors"
            return ok({"success_count": batch.done, "errors": batch.errors}, message=message)
        return Response({"code": 0, "message": f"deleted {batch.done} chunks"})
