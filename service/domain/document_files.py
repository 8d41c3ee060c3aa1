"""A document's uploaded bytes by the document's id alone (RAGFlow's `/documents/{id}`), within the caller's tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Document, DocumentFile
from service.errors import NotFound


async def read_owned_file(db: AsyncSession, tenant_id: str, document_id: str) -> tuple[Document, bytes]:
    """The tenant's document and its bytes; another tenant's document is as unknown as a missing one."""
    document = await db.get(Document, document_id)
    if document is None or document.tenant_id != tenant_id:
        raise NotFound("document not found")
    data = await db.scalar(select(DocumentFile.data).where(DocumentFile.document_id == document.id))
    if not data:
        raise NotFound("This file is empty.")
    return document, data
