"""Chunks of a document: listed, read, added, edited and deleted by hand. Edits are re-embedded at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Document
from service.domain.chunk_store import ChunkRow, insert_chunks, refresh_document_counts, vector_literal
from service.domain.matching import contains
from service.domain.pages import Page, paged
from service.errors import Invalid, NotFound
from service.providers.base import Embedder
from service.text.chunk import count_tokens
from service.text.search_text import TS_CONFIG, index_text


@dataclass
class ChunkQuery:
    page: Page = field(default_factory=Page)
    keywords: str | None = None
    id: str | None = None
    available: bool | None = None


def _filtered(query: Select[Any], document: Document, spec: ChunkQuery) -> Select[Any]:
    query = query.where(Chunk.document_id == document.id)
    if spec.id:
        query = query.where(Chunk.id == spec.id)
    if spec.available is not None:
        query = query.where(Chunk.available == spec.available)
    if spec.keywords:
        tsquery = func.plainto_tsquery(TS_CONFIG, index_text(spec.keywords))
        query = query.where(or_(Chunk.tsv.op("@@")(tsquery), contains(Chunk.content, spec.keywords)))
    return query


async def list_chunks(db: AsyncSession, document: Document, spec: ChunkQuery) -> tuple[list[Chunk], int]:
    query = _filtered(select(Chunk), document, spec).order_by(Chunk.ordinal, Chunk.created_at, Chunk.id)
    rows, total = await paged(db, query, spec.page)
    if spec.id and total == 0:
        raise NotFound(f"Chunk not found: {document.dataset_id}/{spec.id}")
    return rows, total


async def get_chunk(db: AsyncSession, document: Document, chunk_id: str) -> Chunk:
    chunk = await db.get(Chunk, chunk_id)
    if chunk is None or chunk.document_id != document.id:
        raise NotFound("Chunk not found!")
    return chunk


async def add_chunk(
    db: AsyncSession, document: Document, model: str, embedder: Embedder, fields: dict[str, Any]
) -> Chunk:
    content = str(fields.get("content") or "").strip()
    if not content:
        raise Invalid("`content` is required")
    questions = list(fields.get("questions") or [])
    [vector] = await embedder.embed([content])
    last = await db.scalar(select(func.coalesce(func.max(Chunk.ordinal), -1)).where(Chunk.document_id == document.id))
    row = ChunkRow(
        content,
        vector,
        int(last or 0) + 1,
        count_tokens(content),
        important_keywords=list(fields.get("important_keywords") or []),
        questions=questions,
    )
    await insert_chunks(db, document, model, [row])
    await refresh_document_counts(db, document.id)
    return await get_chunk(db, document, row.id)


async def update_chunk(
    db: AsyncSession, document: Document, chunk_id: str, embedder: Embedder, changes: dict[str, Any]
) -> Chunk:
    chunk = await db.get(Chunk, chunk_id)
    if chunk is None or chunk.document_id != document.id:
        raise NotFound(f"Can't find this chunk {chunk_id}")
    if "content" in changes:
        chunk.content = str(changes["content"])
        chunk.token_count = count_tokens(chunk.content)
        if document.chunk_method == "qa" and "\t" not in chunk.content and "\n" not in chunk.content:
            raise Invalid("Q&A must be separated by TAB/ENTER key.")
    for key in ("important_keywords", "questions", "available", "positions"):
        if key in changes:
            setattr(chunk, key, changes[key])
    await db.flush()
    if {"content", "important_keywords", "questions"} & changes.keys():
        await _reindex(db, chunk, embedder if "content" in changes else None)
    await refresh_document_counts(db, document.id)
    return chunk


async def _reindex(db: AsyncSession, chunk: Chunk, embedder: Embedder | None) -> None:
    values: dict[str, Any] = {
        "id": chunk.id,
        "t": index_text(chunk.content, " ".join(chunk.important_keywords), " ".join(chunk.questions)),
    }
    assignments = f"tsv = to_tsvector('{TS_CONFIG}', :t)"
    if embedder is not None:
        [vector] = await embedder.embed([chunk.content])
        values["v"] = vector_literal(vector)
        assignments += ", embedding = CAST(:v AS vector)"
    await db.execute(text(f"UPDATE chunks SET {assignments} WHERE id = :id"), values)


async def set_availability(db: AsyncSession, document: Document, chunk_ids: list[str], available: bool) -> None:
    await db.execute(
        update(Chunk).where(Chunk.document_id == document.id, Chunk.id.in_(chunk_ids)).values(available=available)
    )


async def delete_chunks(db: AsyncSession, document: Document, chunk_ids: list[str] | None, delete_all: bool) -> int:
    query = delete(Chunk).where(Chunk.document_id == document.id)
    if not delete_all:
        ids = list(dict.fromkeys(chunk_ids or []))
        found = int(
            await db.scalar(select(func.count()).where(Chunk.document_id == document.id, Chunk.id.in_(ids))) or 0
        )
        if found != len(ids):
            raise NotFound(f"rm_chunk deleted chunks {found}, expect {len(ids)}")
        query = query.where(Chunk.id.in_(ids))
    deleted = (await db.execute(query)).rowcount  # type: ignore[attr-defined]
    await refresh_document_counts(db, document.id)
    return int(deleted or 0)
