"""Chunks of a document: listed, read, added, edited and deleted by hand. Edits are re-embedded at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Document
from service.domain.batches import Batch, unique_ids
from service.domain.chunk_store import (
    ChunkRow,
    adjust_document_counts,
    chunk_id_for,
    insert_chunks,
    lock_document,
    vector_literal,
)
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
    tags: list[str] = field(default_factory=list)  # chunks carrying any of these tags (`tag_kwd`)


def _filtered(query: Select[Any], document: Document, spec: ChunkQuery) -> Select[Any]:
    query = query.where(Chunk.document_id == document.id)
    if spec.id:
        query = query.where(Chunk.id == spec.id)
    if spec.available is not None:
        query = query.where(Chunk.available == spec.available)
    if spec.tags:
        query = query.where(Chunk.tag_kwd.overlap(spec.tags))
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
    content = fields.get("content")
    if not isinstance(content, str) or not content.strip():
        raise Invalid("`content` is required")  # stored as given, a leading newline included
    [vector] = await embedder.embed([content])
    tokens = count_tokens(content)
    row_id = chunk_id_for(content, document.id)
    # Locked first, so the replaced-or-new decision and the next ordinal are ours until commit.
    await lock_document(db, document.id)
    # The same text twice in one document is one chunk (RAGFlow's id): the later add replaces it, counted once.
    replaced = await db.scalar(select(Chunk.token_count).where(Chunk.id == row_id))
    await adjust_document_counts(db, document.id, 0 if replaced is not None else 1, tokens - (replaced or 0))
    last = await db.scalar(select(func.coalesce(func.max(Chunk.ordinal), -1)).where(Chunk.document_id == document.id))
    row = ChunkRow(
        content,
        vector,
        int(last or 0) + 1,
        tokens,
        important_keywords=list(fields.get("important_keywords") or []),
        questions=list(fields.get("questions") or []),
        tag_kwd=list(fields.get("tag_kwd") or []),
        id=row_id,
    )
    await insert_chunks(db, document, model, [row])
    return await get_chunk(db, document, row.id)


async def update_chunk(
    db: AsyncSession, document: Document, chunk_id: str, embedder: Embedder, changes: dict[str, Any]
) -> Chunk:
    chunk = await db.get(Chunk, chunk_id)
    if chunk is None or chunk.document_id != document.id:
        raise NotFound(f"Can't find this chunk {chunk_id}")
    tokens_before = chunk.token_count
    if "content" in changes:
        chunk.content = str(changes["content"])
        chunk.token_count = count_tokens(chunk.content)
        if document.chunk_method == "qa" and "\t" not in chunk.content and "\n" not in chunk.content:
            raise Invalid("Q&A must be separated by TAB/ENTER key.")
    for key in ("important_keywords", "questions", "tag_kwd", "available", "positions"):
        if key in changes:
            setattr(chunk, key, changes[key])
    await db.flush()
    if {"content", "important_keywords", "questions"} & changes.keys():
        await _reindex(db, chunk, embedder if "content" in changes else None)
    if chunk.token_count != tokens_before:
        await adjust_document_counts(db, document.id, 0, chunk.token_count - tokens_before)
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


async def delete_chunks(db: AsyncSession, document: Document, chunk_ids: list[str] | None, delete_all: bool) -> Batch:
    """Deletes the document's chunks among `chunk_ids` (all with `delete_all`); the ids it does not hold are
    reported (`missing`), as RAGFlow does after deleting the others."""
    query = delete(Chunk).where(Chunk.document_id == document.id)
    unique: list[str] = []
    duplicates: list[str] = []
    if not delete_all:
        unique, duplicates = unique_ids(chunk_ids or [], "chunk")
        query = query.where(Chunk.id.in_(unique))
    rows = (await db.execute(query.returning(Chunk.id, Chunk.token_count))).all()
    await adjust_document_counts(db, document.id, -len(rows), -sum(tokens for _, tokens in rows))
    gone = {chunk_id for chunk_id, _ in rows}
    return Batch(len(rows), [chunk_id for chunk_id in unique if chunk_id not in gone], duplicates)
