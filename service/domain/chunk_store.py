"""Writing chunks: the one place that knows how a chunk row (vector + tsvector) is built."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Document, new_id
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
    id: str = field(default_factory=new_id)


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in vector) + "]"


_INSERT = text(
    f"""
    INSERT INTO chunks (id, tenant_id, dataset_id, document_id, ordinal, content, important_keywords, questions,
                        tag_kwd, available, positions, token_count, embedding_model, embedding, tsv)
    VALUES (:id, :tenant_id, :dataset_id, :document_id, :ordinal, :content, :important_keywords, :questions,
            :tag_kwd, :available, CAST(:positions AS jsonb), :token_count, :embedding_model, CAST(:embedding AS vector),
            to_tsvector('{TS_CONFIG}', :index_text))
    """
)


async def insert_chunks(db: AsyncSession, document: Document, model: str, rows: list[ChunkRow]) -> None:
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
    await insert_chunks(db, document, model, rows)
    document.chunk_count, document.token_count = len(rows), sum(row.token_count for row in rows)
    return document
