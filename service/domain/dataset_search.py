"""RAGFlow's dataset search (its UI's retrieval test): hybrid retrieval within one or more datasets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset
from service.domain.retrieval import RetrievalQuery, RetrievalResult, check_scope, retrieve
from service.errors import NotFound
from service.providers.base import EmbedderFor


async def _check_owned(db: AsyncSession, tenant_id: str, dataset_ids: list[str]) -> None:
    owned = set(await db.scalars(select(Dataset.id).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(dataset_ids))))
    for dataset_id in dataset_ids:
        if dataset_id not in owned:
            raise NotFound(f"Only owner of dataset {dataset_id} authorized for this operation.")


async def search(db: AsyncSession, tenant_id: str, embedder_for: EmbedderFor, query: RetrievalQuery) -> RetrievalResult:
    """The datasets must be the tenant's (refused in RAGFlow's words), then as `/retrieval` searches."""
    await _check_owned(db, tenant_id, query.dataset_ids)
    model = await check_scope(db, tenant_id, query)
    return await retrieve(db, embedder_for(model), model, query)
