"""Knowledge bases (RAGFlow "datasets")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, Document
from service.domain.pages import Page, count, paged
from service.errors import Conflict, NotFound
from service.providers.embedding import canonical_name
from service.text.chunk import check_method

NAIVE_DEFAULTS: dict[str, Any] = {
    "auto_keywords": 0,
    "auto_questions": 0,
    "chunk_token_num": 512,
    "delimiter": "\n",
    "html4excel": False,
    "layout_recognize": "DeepDOC",
    "overlapped_percent": 0,
    "filename_embd_weight": 0.1,
    "topn_tags": 3,
    "tag_kb_ids": [],
    "raptor": {"use_raptor": False},
    "graphrag": {"use_graphrag": False},
}
OTHER_DEFAULTS: dict[str, Any] = {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}
RUN_STATES = ("UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL")


def default_parser_config(chunk_method: str) -> dict[str, Any]:
    base = NAIVE_DEFAULTS if chunk_method in ("naive", "book", "manual", "laws") else OTHER_DEFAULTS
    return {key: (dict(value) if isinstance(value, dict) else value) for key, value in base.items()}


def merged_parser_config(chunk_method: str, given: dict[str, Any] | None) -> dict[str, Any]:
    config = default_parser_config(chunk_method)
    for key, value in (given or {}).items():
        config[key] = (
            {**config[key], **value} if isinstance(config.get(key), dict) and isinstance(value, dict) else value
        )
    return config


@dataclass
class DatasetStats:
    document_count: int = 0
    chunk_count: int = 0
    token_num: int = 0
    by_run: dict[str, int] = field(default_factory=dict)


@dataclass
class DatasetQuery:
    page: Page = field(default_factory=Page)
    orderby: str = "create_time"
    desc: bool = True
    name: str | None = None
    id: str | None = None
    ids: list[str] = field(default_factory=list)


def lacks_permission(tenant_id: str, what: str) -> NotFound:
    return NotFound(f"User '{tenant_id}' lacks permission for dataset '{what}'")


async def _free_name(db: AsyncSession, tenant_id: str, name: str, exclude_id: str | None = None) -> str:
    """RAGFlow renames a duplicate (case-insensitive) to `name(1)`, `name(2)`, ... instead of failing."""
    stem = re.sub(r"\(\d+\)$", "", name)
    query = select(func.lower(Dataset.name)).where(
        Dataset.tenant_id == tenant_id, func.lower(Dataset.name).like(func.lower(stem) + "%")
    )
    if exclude_id:
        query = query.where(Dataset.id != exclude_id)
    taken = set(await db.scalars(query))
    if name.lower() not in taken:
        return name
    n = 1
    while f"{stem}({n})".lower() in taken:
        n += 1
    return f"{stem}({n})"


async def create_dataset(db: AsyncSession, tenant_id: str, fields: dict[str, Any], default_model: str) -> Dataset:
    chunk_method = fields.get("chunk_method") or "naive"
    check_method(chunk_method)
    model = canonical_name(fields.get("embedding_model") or default_model)
    dataset = Dataset(
        tenant_id=tenant_id,
        name=await _free_name(db, tenant_id, fields["name"]),
        avatar=fields.get("avatar") or "",
        description=fields.get("description") or "",
        embedding_model=model,
        permission=fields.get("permission") or "me",
        chunk_method=chunk_method,
        parser_config=merged_parser_config(chunk_method, fields.get("parser_config")),
        pagerank=fields.get("pagerank") or 0,
        ext=fields.get("ext") or {},
        auto_metadata_config=fields.get("auto_metadata_config"),
        vector_similarity_weight=fields.get("vector_similarity_weight"),
    )
    db.add(dataset)
    await db.flush()
    return dataset


async def get_dataset(db: AsyncSession, tenant_id: str, dataset_id: str, for_content: bool = False) -> Dataset:
    """The tenant's dataset; `for_content` words the refusal as RAGFlow's document and chunk routes do."""
    dataset = await db.get(Dataset, dataset_id)
    if dataset is None or dataset.tenant_id != tenant_id:
        raise (
            NotFound(f"You don't own the dataset {dataset_id}.")
            if for_content
            else lacks_permission(tenant_id, dataset_id)
        )
    return dataset


def _filtered(query: Select[Any], tenant_id: str, spec: DatasetQuery) -> Select[Any]:
    query = query.where(Dataset.tenant_id == tenant_id)
    if spec.name:
        query = query.where(func.lower(Dataset.name) == spec.name.lower())
    if spec.id:
        query = query.where(Dataset.id == spec.id)
    if spec.ids:
        query = query.where(Dataset.id.in_(spec.ids))
    return query


async def _check_named(db: AsyncSession, tenant_id: str, spec: DatasetQuery) -> None:
    """RAGFlow refuses an `id` or `name` filter the tenant has no dataset for, instead of listing nothing."""
    for what, only in ((spec.id, DatasetQuery(id=spec.id)), (spec.name, DatasetQuery(name=spec.name))):
        if what and not await count(db, _filtered(select(Dataset.id), tenant_id, only)):
            raise lacks_permission(tenant_id, what)


async def list_datasets(db: AsyncSession, tenant_id: str, spec: DatasetQuery) -> tuple[list[Dataset], int]:
    if spec.id and spec.ids:
        raise Conflict("`id` and `ids` cannot be given together")
    await _check_named(db, tenant_id, spec)
    column = Dataset.updated_at if spec.orderby == "update_time" else Dataset.created_at
    order = (column.desc(), Dataset.id.desc()) if spec.desc else (column.asc(), Dataset.id.asc())
    return await paged(db, _filtered(select(Dataset), tenant_id, spec).order_by(*order), spec.page)


async def dataset_stats(db: AsyncSession, dataset_ids: list[str]) -> dict[str, DatasetStats]:
    """Counts are derived from the documents, never stored twice."""
    stats = {dataset_id: DatasetStats() for dataset_id in dataset_ids}
    if not dataset_ids:
        return stats
    rows = await db.execute(
        select(
            Document.dataset_id,
            func.count(),
            func.coalesce(func.sum(Document.chunk_count), 0),
            func.coalesce(func.sum(Document.token_count), 0),
            *[func.count(case((Document.run == state, 1))) for state in RUN_STATES],
        )
        .where(Document.dataset_id.in_(dataset_ids))
        .group_by(Document.dataset_id)
    )
    for dataset_id, documents, chunks, tokens, *runs in rows:
        stats[dataset_id] = DatasetStats(documents, chunks, tokens, dict(zip(RUN_STATES, runs, strict=True)))
    return stats


async def _check_model_change(db: AsyncSession, dataset: Dataset, model: str) -> None:
    """A dataset's vectors all come from one model: it changes only while there are none."""
    if model != dataset.embedding_model and (await dataset_stats(db, [dataset.id]))[dataset.id].chunk_count > 0:
        raise Conflict("When chunk_num > 0, embedding_model must remain unchanged")


async def update_dataset(db: AsyncSession, tenant_id: str, dataset_id: str, changes: dict[str, Any]) -> Dataset:
    dataset = await get_dataset(db, tenant_id, dataset_id)
    if not changes:
        raise Conflict("no properties were modified")
    if "name" in changes:
        changes["name"] = await _free_name(db, tenant_id, changes["name"], exclude_id=dataset_id)
    if "chunk_method" in changes:
        check_method(changes["chunk_method"])
    if changes.get("embedding_model"):
        changes["embedding_model"] = canonical_name(changes["embedding_model"])
        await _check_model_change(db, dataset, changes["embedding_model"])
    method = changes.get("chunk_method", dataset.chunk_method)
    if "parser_config" in changes or method != dataset.chunk_method:
        base = (
            changes.get("parser_config")
            if method != dataset.chunk_method
            else {**dataset.parser_config, **(changes.get("parser_config") or {})}
        )
        changes["parser_config"] = merged_parser_config(method, base)
    for key, value in changes.items():
        setattr(dataset, key, value)
    await db.flush()
    await db.refresh(dataset)
    return dataset


async def delete_datasets(db: AsyncSession, tenant_id: str, ids: list[str] | None, delete_all: bool) -> int:
    if delete_all:
        ids = list(await db.scalars(select(Dataset.id).where(Dataset.tenant_id == tenant_id)))
    if not ids:
        return 0
    owned = set(await db.scalars(select(Dataset.id).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(ids))))
    missing = [dataset_id for dataset_id in dict.fromkeys(ids) if dataset_id not in owned]
    if missing:
        raise NotFound(f"User '{tenant_id}' lacks permission for datasets: '{', '.join(missing)}'")
    # Chunks hang off documents (cascade); deleting them first keeps the cascade from doing row-by-row work.
    from service.db.models import Chunk

    await db.execute(delete(Chunk).where(Chunk.dataset_id.in_(owned)))
    await db.execute(delete(Dataset).where(Dataset.id.in_(owned)))
    return len(owned)
