"""The objects a RAGFlow path names, looked up once as controller-level Litestar dependencies.

Each provider depends on `tenant`, so the caller is authenticated (401) before a lookup can say "not yours".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import NotOwned
from service.domain import assistants, datasets, documents
from service.errors import NotFound

if TYPE_CHECKING:
    from service.db.models import Assistant, Dataset, Document


async def owned_chat(db: AsyncSession, tenant: str, chat_id: str) -> Assistant:
    """The caller's chat; anything else (unknown, another tenant's) is RAGFlow's 109 `no authorization`."""
    try:
        return await assistants.get_assistant(db, tenant, chat_id)
    except NotFound:
        raise NotOwned() from None


async def provide_chat(
    db: NamedDependency[AsyncSession], tenant: NamedDependency[str], chat_id: FromPath[str]
) -> Assistant:
    return await owned_chat(db, tenant, chat_id)


async def provide_dataset(
    db: NamedDependency[AsyncSession], tenant: NamedDependency[str], dataset_id: FromPath[str]
) -> Dataset:
    """The dataset of a document or chunk route, refused in those routes' words."""
    return await datasets.get_dataset(db, tenant, dataset_id, for_content=True)


async def provide_document(
    db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset], document_id: FromPath[str]
) -> Document:
    """A chunk route's document; RAGFlow's chunk routes word the refusal their own way."""
    try:
        return await documents.get_document(db, dataset, document_id)
    except NotFound:
        raise NotFound(f"you don't own the document {document_id}") from None


CHAT = {"assistant": Provide(provide_chat)}
DATASET = {"dataset": Provide(provide_dataset)}
DOCUMENT = {**DATASET, "document": Provide(provide_document)}
