"""`/api/v1/datasets/{dataset_id}/documents`: upload, list, download, update, delete, parse and stop."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post, route
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import (
    DeleteIds,
    DocumentUpdate,
    json_body,
    list_of_strings,
    orderby,
    page_args,
    validated,
)
from service.api.ragflow.views import document_json
from service.domain import datasets, documents
from service.errors import Conflict, Invalid
from service.runtime import Runtime


async def uploads(request: Request[Any, Any, Any]) -> list[documents.Upload]:
    form = await request.form()
    files = [item for item in form.getall("file", []) if isinstance(item, UploadFile)]
    if not files:
        raise Invalid("No file part!")
    return [documents.Upload(item.filename or "", await item.read()) for item in files]


def document_query(request: Request[Any, Any, Any]) -> documents.DocumentQuery:
    page, size = page_args(request)
    order, desc = orderby(request, ("create_time", "update_time", "name"))
    args = request.query_params
    return documents.DocumentQuery(
        page,
        size,
        order,
        desc,
        args.get("keywords"),
        args.get("id"),
        args.get("name"),
        [run_state(value) for value in args.getall("run", [])],
        args.getall("suffix", []),
        int(args.get("create_time_from") or 0),
        int(args.get("create_time_to") or 0),
    )


RUN_CODES = {"0": "UNSTART", "1": "RUNNING", "2": "CANCEL", "3": "DONE", "4": "FAIL"}


def run_state(value: str) -> str:
    state = RUN_CODES.get(value, value.upper())
    if state not in RUN_CODES.values():
        raise Invalid(f"Invalid filter run status conditions: {value}")
    return state


class DocumentController(Controller):
    path = "/datasets/{dataset_id:str}/documents"

    @post("/", status_code=200)
    async def upload_documents(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        files = await uploads(request)
        added = await documents.upload(db, dataset, files, tenant, runtime.settings.max_upload_bytes)
        return ok([document_json(document) for document in added])

    @get("/")
    async def list_documents(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        rows, total = await documents.list_documents(db, dataset, document_query(request))
        return ok({"total": total, "docs": [document_json(row) for row in rows]})

    @get("/{document_id:str}")
    async def download_document(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[bytes]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        document, data = await documents.read_file(db, dataset, document_id)
        disposition = f"attachment; filename*=UTF-8''{quote(document.name)}"
        return Response(
            data, media_type=documents.media_type(document.name), headers={"Content-Disposition": disposition}
        )

    @route("/{document_id:str}", http_method=["PATCH", "PUT"], status_code=200)  # PUT: deprecated alias
    async def update_document(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        body = await json_body(request)
        changes = validated(DocumentUpdate, body).model_dump(exclude_unset=True)
        await _guard_read_only(db, dataset, document_id, body)
        if "enabled" in changes and changes["enabled"] not in (0, 1):
            raise Conflict("`enabled` value invalid, only accept 0 or 1")
        document = await documents.update_document(db, dataset, document_id, changes)
        return ok(document_json(document))

    @delete("/", status_code=200)
    async def delete_documents(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        spec = validated(DeleteIds, await json_body(request, required=False))
        return ok({"deleted": await documents.delete_documents(db, dataset, spec.ids, spec.delete_all)})

    @post("/parse", status_code=200)
    async def parse_documents(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        ids = list_of_strings(await json_body(request), "document_ids")
        return ok({"success_count": await documents.start_parsing(db, dataset, ids)})

    @post("/stop", status_code=200)
    async def stop_documents(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        stopped, errors = await documents.stop_parsing(
            db, dataset, list_of_strings(await json_body(request), "document_ids")
        )
        return ok({"success_count": stopped, **({"errors": errors} if errors else {})})


async def _guard_read_only(
    db: NamedDependency[AsyncSession], dataset: Any, document_id: FromPath[str], body: dict[str, Any]
) -> None:
    """RAGFlow lets a client send chunk_count/token_count/progress only unchanged."""
    document = await documents.get_document(db, dataset, document_id)
    for key in ("chunk_count", "token_count", "progress"):
        if key in body and body[key] != getattr(document, key):
            raise Conflict(f"Can't change `{key}`.")


class LegacyParsingController(Controller):
    """`/datasets/{id}/chunks` POST (parse) and DELETE (stop): what ragflow-sdk still calls."""

    path = "/datasets/{dataset_id:str}/chunks"

    @post("/", status_code=200)
    async def parse_legacy(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        ids = list_of_strings(await json_body(request), "document_ids")
        await documents.start_parsing(db, dataset, ids, refuse_running=True)
        return ok()

    @delete("/", status_code=200)
    async def stop_legacy(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id, for_content=True)
        stopped, errors = await documents.stop_parsing(
            db, dataset, list_of_strings(await json_body(request), "document_ids")
        )
        if errors and not stopped:
            return Response(
                {"code": 102, "message": errors[0], "data": {"error_code": "DOC_STOP_PARSING_INVALID_STATE"}}
            )
        return ok()
