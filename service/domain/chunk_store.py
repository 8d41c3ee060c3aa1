"""Writing chunks: the one place that knows how a chunk row (vector + tsvector) is built."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import xxhash
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Document
from service.text.search_text import TS_CONFIG, index_text


@dataclass
class ChunkRow:
    content: str
    embedding: list[float]
    ordinal: int = 0
    token_count: int = 0
    important_keywords: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    tag_kwd: list[str] = field(default_factory=list)
    positions: list[Any] = field(default_factory=list)
    available: bool = True
    id: str = ""  # empty: derived from the content and the document (`chunk_id_for`)


def chunk_id_for(content: str, document_id: str) -> str:
    """RAGFlow's chunk id: xxh64 of the content followed by the document id, in hex.

    So the same text added to the same document twice is one chunk (the later write wins), as in RAGFlow.
    """
    return xxhash.xxh64((content + document_id).encode("utf-8")).hexdigest()


def distinct_rows(document_id: str, rows: list[ChunkRow]) -> list[ChunkRow]:
    """`rows` with their ids filled in, one per id: a repeated text keeps its last copy (RAGFlow's overwrite)."""
    by_id: dict[str, ChunkRow] = {}
    for row in rows:
        row.id = row.id or chunk_id_for(row.content, document_id)
        by_id.pop(row.id, None)
        by_id[row.id] = row
    return list(by_id.values())


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in vector) + "]"


_INSERT = text(
    f"""
    INSERT INTO chunks (id, tenant_id, dataset_id, document_id, ordinal, content, important_keywords, questions,
                        tag_kwd, available, positions, token_count, embedding_model, embedding, tsv)
    VALUES (:id, :tenant_id, :dataset_id, :document_id, :ordinal, :content, :important_keywords, :questions,
            :tag_kwd, :available, CAST(:positions AS jsonb), :token_count, :embedding_model, CAST(:embedding AS vector),
            to_tsvector('{TS_CONFIG}', :index_text))
    ON CONFLICT (id) DO UPDATE SET
        ordinal = EXCLUDED.ordinal, content = EXCLUDED.content, important_keywords = EXCLUDED.important_keywords,
        questions = EXCLUDED.questions, tag_kwd = EXCLUDED.tag_kwd, available = EXCLUDED.available,
        positions = EXCLUDED.positions, token_count = EXCLUDED.token_count,
        embedding_model = EXCLUDED.embedding_model, embedding = EXCLUDED.embedding, tsv = EXCLUDED.tsv
    """
)


async def insert_chunks(db: AsyncSession, document: Document, model: str, rows: list[ChunkRow]) -> None:
    """Write `rows` (ids derived where empty); a row whose id exists already replaces that chunk."""
    rows = distinct_rows(document.id, rows)
    if not rows:
        return
    await db.execute(
        _INSERT,
        [
            {
                "id": row.id,
                "tenant_id": document.tenant_id,
                "dataset_id": document.dataset_id,
                "document_id": document.id,
                "ordinal": row.ordinal,
                "content": row.content,
                "important_keywords": row.important_keywords,
                "questions": row.questions,
                "tag_kwd": row.tag_kwd,
                "available": row.available,
                "positions": json.dumps(row.positions),
                "token_count": row.token_count,
                "embedding_model": model,
                "embedding": vector_literal(row.embedding),
                "index_text": index_text(row.content, " ".join(row.important_keywords), " ".join(row.questions)),
            }
            for row in rows
        ],
    )


async def lock_document(db: AsyncSession, document_id: str) -> None:
    """Serialise writers of one document's chunks until the transaction ends (a row lock on the document)."""
    await db.execute(select(Document.id).where(Document.id == document_id).with_for_update())


async def adjust_document_counts(db: AsyncSession, document_id: str, chunks: int, tokens: int) -> None:
    """Add to a document's chunk and token counts in one statement.

    An increment, not a recount: concurrent writers each add their own change (a recount by one transaction
    cannot see another's uncommitted chunk, so 20 concurrent adds used to leave 19). The row lock it takes also
    serialises what the caller does next on this document until it commits.
    """
    await db.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(chunk_count=Document.chunk_count + chunks, token_count=Document.token_count + tokens)
    )


async def replace_chunks(
    db: AsyncSession, document_id: str, run_id: str, model: str, rows: list[ChunkRow]
) -> Document | None:
    """Swap in a parse's chunks in one transaction, only if that parse is still the document's current run.

    The row lock serialises this with stop/re-parse, so a stale or re-picked job can never leave
    duplicates or resurrect chunks of a cancelled run. Returns None when the run is no longer current.
    """
    document = await db.scalar(select(Document).where(Document.id == document_id).with_for_update())
    if document is None or document.run_id != run_id:
        return None
    await db.execute(delete(Chunk).where(Chunk.document_id == document_id))
    rows = distinct_rows(document_id, rows)
    await insert_chunks(db, document, model, rows)
    document.chunk_count, document.token_count = len(rows), sum(row.token_count for row in rows)
    return document
