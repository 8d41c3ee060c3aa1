"""A dataset's chunk tags (`tag_kwd`): counted, removed and renamed across all its chunks.

Each change is one UPDATE over the tenant's chunks of one dataset, computed by PostgreSQL from the row it
updates, so two concurrent edits never overwrite each other's result (no read-modify-write in Python).
Tags do not feed the full-text index (see chunk_store.insert_chunks), so no `tsv` is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Result, Text, all_, any_, case, distinct, func, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Dataset
from service.errors import NotFound

# RAGFlow orders tag counts as its search engine's terms aggregation does: most chunks first, then by the
# tag's bytes. The "C" collation compares bytes whatever the database's locale.
BYTE_ORDER = "C"
TAGS = ARRAY(Text)


async def _first_not_owned(db: AsyncSession, tenant_id: str, dataset_ids: Sequence[str]) -> str | None:
    """The first of `dataset_ids` that is not one of the tenant's datasets (unknown or another tenant's).
    An id with a NUL character names none (and PostgreSQL could not even compare it)."""
    comparable = [dataset_id for dataset_id in dataset_ids if "\x00" not in dataset_id]
    query = select(Dataset.id).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(comparable))
    owned = set(await db.scalars(query))
    return next((dataset_id for dataset_id in dataset_ids if dataset_id not in owned), None)


async def check_owned(db: AsyncSession, tenant_id: str, dataset_id: str) -> None:
    """RAGFlow answers the same for a dataset that does not exist and for one the caller may not use."""
    if await _first_not_owned(db, tenant_id, [dataset_id]) is not None:
        raise NotFound("No authorization.")


async def _counts(db: AsyncSession, tenant_id: str, dataset_ids: Sequence[str]) -> list[tuple[str, int]]:
    """Each tag of these datasets' chunks and how many chunks carry it (a tag repeated in one chunk counts once)."""
    tags = func.unnest(Chunk.tag_kwd).table_valued("tag").render_derived().lateral()
    tag, chunks = tags.c.tag, func.count(distinct(Chunk.id))
    query = (
        select(tag, chunks)
        .select_from(Chunk)
        .join(tags, true())
        .where(Chunk.tenant_id == tenant_id, Chunk.dataset_id.in_(list(dataset_ids)))
        .group_by(tag)
        .order_by(chunks.desc(), tag.collate(BYTE_ORDER))
    )
    return [(name, int(n)) for name, n in (await db.execute(query)).all()]


async def dataset_tags(db: AsyncSession, tenant_id: str, dataset_id: str) -> list[tuple[str, int]]:
    await check_owned(db, tenant_id, dataset_id)
    return await _counts(db, tenant_id, [dataset_id])


async def aggregate_tags(db: AsyncSession, tenant_id: str, dataset_ids: Sequence[str]) -> list[tuple[str, int]]:
    """Tag counts over several datasets, all of which must be the caller's (the first that is not is named)."""
    wanted = list(dict.fromkeys(dataset_ids))
    refused = await _first_not_owned(db, tenant_id, wanted)
    if refused is not None:
        raise NotFound(f"No authorization for dataset '{refused}'")
    return await _counts(db, tenant_id, wanted)


def _scoped(tenant_id: str, dataset_id: str) -> list[ColumnElement[bool]]:
    return [Chunk.tenant_id == tenant_id, Chunk.dataset_id == dataset_id]


def _carries(tag: str) -> ColumnElement[bool]:
    return literal(tag, Text) == any_(Chunk.tag_kwd)


def _changed(result: Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _without(tags: list[str]) -> ColumnElement[Any]:
    """The row's own tags minus `tags`, in their order (an empty array when none is left)."""
    kept = func.unnest(Chunk.tag_kwd).table_valued("tag", with_ordinality="position").render_derived()
    remaining = select(kept.c.tag).where(kept.c.tag != all_(literal(tags, TAGS))).order_by(kept.c.position)
    return func.array(remaining.scalar_subquery())


async def remove_tags(db: AsyncSession, tenant_id: str, dataset_id: str, tags: Sequence[str]) -> int:
    """Take every one of `tags` off every chunk of the dataset that has one; how many chunks changed."""
    await check_owned(db, tenant_id, dataset_id)
    if not tags:
        return 0
    doomed = list(tags)
    statement = (
        update(Chunk)
        .where(*_scoped(tenant_id, dataset_id), Chunk.tag_kwd.overlap(literal(doomed, TAGS)))
        .values(tag_kwd=_without(doomed))
    )
    return _changed(await db.execute(statement))


async def rename_tag(db: AsyncSession, tenant_id: str, dataset_id: str, old: str, new: str) -> int:
    """Replace `old` by `new` in every chunk of the dataset that has `old`; a chunk that already carries `new`
    just loses `old`, so no chunk ends up with the same tag twice. How many chunks changed."""
    await check_owned(db, tenant_id, dataset_id)
    if old == new:
        return 0
    renamed = case(
        (_carries(new), func.array_remove(Chunk.tag_kwd, old)),
        else_=func.array_replace(Chunk.tag_kwd, old, new),
    )
    statement = update(Chunk).where(*_scoped(tenant_id, dataset_id), _carries(old)).values(tag_kwd=renamed)
    return _changed(await db.execute(statement))
