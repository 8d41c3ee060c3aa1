"""`/api/v1/documents/{document_id}`: a document's file by its id alone, as RAGFlow v0.27 serves it (GET only).

`GET /documents/{id}` downloads it (attachment); `GET /documents/{id}/preview` serves it inline for a viewer.
Either is the caller's own document or RAGFlow's 102 `document not found`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.schemas import text_arg
from service.domain import document_files
from service.domain.documents import media_type


async def file_response(db: AsyncSession, tenant: str, document_id: str, disposition: str) -> Response[Any]:
    document, data = await document_files.read_owned_file(db, tenant, text_arg(document_id))
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(document.name)}"}
    return Response(data, media_type=media_type(document.name), headers=headers)


class RawDocumentController(Controller):
    path = "/documents/{document_id:str}"

    @get("/")
    async def download(
        self, document_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        return await file_response(db, tenant, document_id, "attachment")

    @get("/preview")
    async def preview(
        self, document_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        return await file_response(db, tenant, document_id, "inline")
