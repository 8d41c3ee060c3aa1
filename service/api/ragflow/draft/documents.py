"""The draft's routes under `/api/v1/dataset/{dataset_id}`: files (`/document`, `/info`), parsing (`/chunk`), a
document's chunks (`/document/{id}/chunk`) and `GET /retrieval`. Each reads the draft's body, hands it to the same
domain call and v0.27 validator as `/datasets/...`, and answers in the draft's shape."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.chunks import chunk_changes, chunk_query
from service.api.ragflow.deps import DATASET, DOCUMENT
from service.api.ragflow.documents import (
    batch_reply,
    document_query,
    file_response,
    guard_read_only,
    legacy_stop_reply,
    uploads,
)
from service.api.ragflow.draft.inputs import id_list, v027_parser_config, validated_draft
from service.api.ragflow.draft.shapes import chunk_view, document_view
from service.api.ragflow.envelope import DATA, Rejected, fail, ok
from service.api.ragflow.retrieval import search_reply
from service.api.ragflow.schemas import DocumentUpdate, flag, given_fields, json_body, shown
from service.api.ragflow.views import chunk_json, document_json
from service.domain import chunks, documents
from service.errors import Invalid
from service.providers.base import EmbedderFor
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Dataset, Document


DRAFT_NAMES = {"name": "document_name", "chunk_method": "parser_method"}


def document_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The draft's `document_name`, `parser_method` and `parser_config` as v0.27's document update names them;
    the other fields of its example (size, type, created_by, ...) are the document echoed back, and ignored."""
    changes = {}
    if "document_name" in body:
        changes["name"] = body["document_name"]
    if "parser_method" in body:
        changes["chunk_method"] = body["parser_method"]
    if "parser_config" in body:
        changes["parser_config"] = v027_parser_config(body["parser_config"])
    return changes


def check_same_document(body: dict[str, Any], document_id: str) -> None:
    """The draft's bodies repeat the document of the path; another one is refused rather than ignored."""
    if "document_id" in body and body["document_id"] != document_id:
        raise Rejected(f"`document_id` {shown(body['document_id'])} is not the document {document_id} of the path")


def retrieval_body(request: Request[Any, Any, Any], body: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    """`query_text` from the body (the draft sends one with its GET) or the query string, searched in the path's
    dataset; the query string may carry the paging, threshold and weight too."""
    given = {**_query_numbers(request), **body}
    text = given.pop("query_text", given.get("question"))
    if text is None:
        raise Rejected("`query_text` is required.")
    if not isinstance(text, str):
        raise Invalid("`query_text` should be a string")
    return {**given, "question": text, "dataset_ids": [dataset.id]}


NUMBERS = ("similarity_threshold", "vector_similarity_weight", "top_k")


def _query_numbers(request: Request[Any, Any, Any]) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params.items())
    for key in NUMBERS:
        with contextlib.suppress(ValueError, KeyError):  # a non-number is refused by the retrieval validator
            args[key] = float(args[key])
    if "highlight" in args:
        args["highlight"] = flag(args["highlight"], False)
    return args


class DraftDocumentController(Controller):
    path = "/dataset/{dataset_id:str}"
    dependencies = DATASET

    @post("/document", status_code=200)
    async def upload_documents(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        dataset: NamedDependency[Dataset],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The draft shows only `{"code": 0}`; the new documents come with it, as RAGFlow's server of the time
        sent them, since their ids are what the parse route needs."""
        added = await documents.upload(db, dataset, await uploads(request), tenant, settings.max_upload_bytes)
        return ok([document_view(document_json(document)) for document in added])

    @delete("/document", status_code=200)
    async def delete_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        """Not in the draft (RAGFlow's server of the time had it): `{"ids": [...]}`; no ids is refused, not "all"."""
        ids = id_list(await json_body(request, required=False), "ids")
        if not ids:
            raise Rejected("ids are required")
        return batch_reply(await documents.delete_documents(db, dataset, ids, delete_all=False), "deleted", None)

    @get("/document/{document_id:str}")
    async def download_document(
        self, document_id: FromPath[str], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[bytes]:
        return file_response(*await documents.read_file(db, dataset, document_id))

    @get("/info")
    async def list_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        rows, total = await documents.list_documents(db, dataset, document_query(request))
        return ok({"docs": [document_view(document_json(row)) for row in rows], "total": total})

    @put("/info/{document_id:str}", status_code=200)
    async def update_document(
        self,
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
    ) -> Response[Any]:
        body = await json_body(request)
        check_same_document(body, document_id)
        await guard_read_only(db, dataset, document_id, body)
        changes = given_fields(validated_draft(DocumentUpdate, document_changes(body), DRAFT_NAMES))
        await documents.update_document(db, dataset, document_id, changes)
        return ok()

    @post("/chunk", status_code=200)
    async def parse_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        ids = id_list(await json_body(request), "documents", "document_ids")
        if not ids:
            raise Rejected("`documents` is required")
        batch = await documents.start_parsing(db, dataset, ids, refuse_running=True)
        return batch_reply(batch, "parsed", None)

    @delete("/chunk", status_code=200)
    async def stop_parsing(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        ids = id_list(await json_body(request), "documents", "document_ids")
        if not ids:
            raise Rejected("`documents` is required")
        return legacy_stop_reply(await documents.stop_parsing(db, dataset, ids))

    @get("/retrieval")
    async def retrieval_test(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        dataset: NamedDependency[Dataset],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        body = retrieval_body(request, await json_body(request, required=False), dataset)
        return await search_reply(db, tenant, embedder, body)


def availability(body: dict[str, Any]) -> dict[str, Any]:
    """The draft's chunk `status` ("1" available, "0" not) as v0.27's `available`."""
    if "status" not in body:
        return {}
    if body["status"] not in ("0", "1", 0, 1) or isinstance(body["status"], bool):
        raise Invalid('`status` should be "0" or "1"')
    return {"available": body["status"] in ("1", 1)}


EDITABLE = ("content", "important_keywords", "questions")


class DraftChunkController(Controller):
    """The chunks of one document; the draft names the chunk in the body, not the path."""

    path = "/dataset/{dataset_id:str}/document/{document_id:str}/chunk"
    dependencies = DOCUMENT

    @get("/")
    async def list_chunks(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        rows, total = await chunks.list_chunks(db, document, chunk_query(request))
        views = [chunk_view(chunk_json(row, document)) for row in rows]
        return ok({"chunks": views, "doc": document_view(document_json(document)), "total": total})

    @post("/", status_code=200)
    async def insert_chunks(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
        document: NamedDependency[Document],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        """`content` is a list (one chunk each) or one text; the draft shows no reply, the new chunks come with it."""
        body = await json_body(request)
        check_same_document(body, document.id)
        contents = [body["content"]] if isinstance(body.get("content"), str) else body.get("content")
        if not isinstance(contents, list) or not contents:
            raise Rejected("`content` is required")
        extra = {key: body[key] for key in EDITABLE[1:] if key in body}
        model = dataset.embedding_model
        added = [
            await chunks.add_chunk(
                db, document, model, embedder(model), chunk_changes({**extra, "content": text}, True)
            )
            for text in contents
        ]
        return ok({"chunks": [chunk_view(chunk_json(chunk, document)) for chunk in added]})

    @put("/", status_code=200)
    async def update_chunk(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
        document: NamedDependency[Document],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        body = await json_body(request)
        check_same_document(body, document.id)
        chunk_id = body.get("chunk_id")
        if not isinstance(chunk_id, str) or not chunk_id:
            raise Rejected("`chunk_id` is required")
        changes = chunk_changes({key: body[key] for key in EDITABLE if key in body}) | availability(body)
        await chunks.update_chunk(db, document, chunk_id, embedder(dataset.embedding_model), changes)
        return ok()

    @delete("/", status_code=200)
    async def delete_chunks(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], document: NamedDependency[Document]
    ) -> Response[Any]:
        """The chunks found are deleted; the others are named after that, as RAGFlow's batches do."""
        ids = id_list(await json_body(request), "chunks", "chunk_ids")
        if not ids:
            raise Rejected("`chunks` is required")
        batch = await chunks.delete_chunks(db, document, ids, delete_all=False)
        if batch.missing:
            return fail(DATA, f"Chunks not found: {batch.missing}")
        return fail(DATA, "; ".join(batch.errors)) if batch.errors else ok()
