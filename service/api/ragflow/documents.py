"""`/api/v1/datasets/{dataset_id}/documents`: upload, list, download, update, delete, parse and stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post, route
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.deps import DATASET
from service.api.ragflow.envelope import Rejected, fail, ok, ok_message
from service.api.ragflow.metadata_schemas import condition_query
from service.api.ragflow.schemas import (
    DeleteIds,
    DocumentUpdate,
    given_fields,
    json_body,
    list_of_strings,
    orderby,
    page_of,
    shown,
    text_arg,
    validated,
)
from service.api.ragflow.views import document_json
from service.domain import documents
from service.errors import Conflict, Invalid
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Dataset, Document
    from service.domain.batches import Batch


async def uploads(request: Request[Any, Any, Any]) -> list[documents.Upload]:
    form = await request.form()
    files = [item for item in form.getall("file", []) if isinstance(item, UploadFile)]
    if not files:
        raise Invalid("No file part!")
    return [documents.Upload(item.filename or "", await item.read()) for item in files]


def document_query(request: Request[Any, Any, Any]) -> documents.DocumentQuery:
    page = page_of(request)
    order, desc = orderby(request, ("create_time", "update_time", "name"))
    args = request.query_params
    return documents.DocumentQuery(
        page=page,
        orderby=order,
        desc=desc,
        keywords=_text(args.get("keywords")),
        id=_text(args.get("id")),
        name=_text(args.get("name")),
        run=run_states(args.getall("run", [])),
        metadata_condition=condition_query(args.get("metadata_condition")),
        suffix=[text_arg(value) for value in args.getall("suffix", [])],
        create_time_from=_millis(args, "create_time_from"),
        create_time_to=_millis(args, "create_time_to"),
    )


def _text(value: str | None) -> str | None:
    return None if value is None else text_arg(value)


def _millis(args: Any, key: str) -> int:
    """A time bound in epoch ms; 0 or missing means none. RAGFlow's int() fails with code 100 on `abc`."""
    value = args.get(key) or "0"
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"`{key}` should be an integer (epoch milliseconds), got {shown(value)}") from None


RUN_CODES = {"0": "UNSTART", "1": "RUNNING", "2": "CANCEL", "3": "DONE", "4": "FAIL"}


def run_states(values: list[str]) -> list[str]:
    """RAGFlow takes the names and their digits, and answers 102 naming every other value."""
    states = [RUN_CODES.get(value, value) for value in values]
    invalid = sorted({value for value, state in zip(values, states, strict=True) if state not in RUN_CODES.values()})
    if invalid:
        raise Rejected(f"Invalid filter run status conditions: {', '.join(invalid)}")
    return states


async def document_ids(request: Request[Any, Any, Any]) -> list[str]:
    return list_of_strings(await json_body(request), "document_ids")


async def start_parse(db: AsyncSession, dataset: Dataset, request: Request[Any, Any, Any], legacy: bool) -> Batch:
    """Both parse routes; the legacy one refuses a document that is already running, as RAGFlow's does."""
    return await documents.start_parsing(db, dataset, await document_ids(request), refuse_running=legacy)


async def stop_parse(db: AsyncSession, dataset: Dataset, request: Request[Any, Any, Any]) -> Batch:
    """Both stop routes: how many stopped, the ids not found, and why the others could not be."""
    return await documents.stop_parsing(db, dataset, await document_ids(request))


def batch_reply(batch: Batch, verb: str, plain: dict[str, Any] | None) -> Response[Any]:
    """RAGFlow's answer to a batch once the valid part is done: ids not found are a 102 `Documents not found`;
    other errors (duplicates, refusals) keep code 0 with `success_count` and `errors`."""
    if batch.missing:
        return fail(102, f"Documents not found: {batch.missing}")
    if batch.errors and batch.done:
        message = f"Partially {verb} {batch.done} documents with {len(batch.errors)} errors"
        return ok({"success_count": batch.done, "errors": batch.errors}, message=message)
    if batch.errors:
        return fail(102, ";".join(batch.errors))
    return ok(plain)


def file_response(document: Document, data: bytes) -> Response[bytes]:
    """A document's bytes as an attachment (also what the v0.13 draft's download route answers)."""
    disposition = f"attachment; filename*=UTF-8''{quote(document.name)}"
    return Response(data, media_type=documents.media_type(document.name), headers={"Content-Disposition": disposition})


def legacy_stop_reply(batch: Batch) -> Response[Any]:
    """`DELETE /datasets/{id}/chunks` (and the v0.13 draft's stop route): RAGFlow's older reply shapes."""
    if batch.missing:
        return fail(102, f"you don't own the document {batch.missing[0]}")
    refused = [error for error in batch.errors if not error.startswith("Duplicate ")]
    if refused:
        return fail(102, refused[0], data={"error_code": "DOC_STOP_PARSING_INVALID_STATE"})
    if batch.errors:
        message = f"Partially stopped {batch.done} documents with {len(batch.errors)} errors"
        return ok({"success_count": batch.done, "errors": batch.errors}, message=message)
    return ok()


class DocumentController(Controller):
    path = "/datasets/{dataset_id:str}/documents"
    dependencies = DATASET

    @post("/", status_code=200)
    async def upload_documents(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        dataset: NamedDependency[Dataset],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        files = await uploads(request)
        added = await documents.upload(db, dataset, files, tenant, settings.max_upload_bytes)
        return ok([document_json(document) for document in added])

    @get("/")
    async def list_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        rows, total = await documents.list_documents(db, dataset, document_query(request))
        return ok_message({"total": total, "docs": [document_json(row) for row in rows]})

    @get("/{document_id:str}")
    async def download_document(
        self, document_id: FromPath[str], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[bytes]:
        return file_response(*await documents.read_file(db, dataset, document_id))

    @route("/{document_id:str}", http_method=["PATCH", "PUT"], status_code=200)  # PUT: deprecated alias
    async def update_document(
        self,
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dataset: NamedDependency[Dataset],
    ) -> Response[Any]:
        body = await json_body(request)
        changes = given_fields(validated(DocumentUpdate, body))
        await guard_read_only(db, dataset, document_id, body)
        if "enabled" in changes and changes["enabled"] not in (0, 1):
            raise Conflict("`enabled` value invalid, only accept 0 or 1")
        document = await documents.update_document(db, dataset, document_id, changes)
        return ok(document_json(document))

    @delete("/", status_code=200)
    async def delete_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        spec = validated(DeleteIds, await json_body(request, required=False))
        batch = await documents.delete_documents(db, dataset, spec.ids, spec.delete_all)
        return batch_reply(batch, "deleted", {"deleted": batch.done})

    @post("/parse", status_code=200)
    async def parse_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        batch = await start_parse(db, dataset, request, legacy=False)
        return batch_reply(batch, "parsed", {"success_count": batch.done})

    @post("/stop", status_code=200)
    async def stop_documents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        batch = await stop_parse(db, dataset, request)
        if batch.missing:  # RAGFlow names the first document it could not find, after stopping the others
            return fail(102, f"You don't own the document {batch.missing[0]}.")
        return ok({"success_count": batch.done, **({"errors": batch.errors} if batch.errors else {})})


async def guard_read_only(db: AsyncSession, dataset: Dataset, document_id: str, body: dict[str, Any]) -> None:
    """RAGFlow lets a client send chunk_count/token_count/progress only unchanged."""
    document = await documents.get_document(db, dataset, document_id)
    for key in ("chunk_count", "token_count", "progress"):
        if key in body and body[key] != getattr(document, key):
            raise Conflict(f"Can't change `{key}`.")


class LegacyParsingController(Controller):
    """`/datasets/{id}/chunks` POST (parse) and DELETE (stop): what ragflow-sdk still calls. Same work as
    `.../documents/parse` and `/stop`, in the older reply shapes."""

    path = "/datasets/{dataset_id:str}/chunks"
    dependencies = DATASET

    @post("/", status_code=200)
    async def parse_legacy(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        return batch_reply(await start_parse(db, dataset, request, legacy=True), "parsed", None)

    @delete("/", status_code=200)
    async def stop_legacy(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        return legacy_stop_reply(await stop_parse(db, dataset, request))
