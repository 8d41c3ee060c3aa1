"""The answer's reference as clients see it, shared by every face that chats (RAGFlow native, OpenAI-compatible).

`Answer.reference["chunks"]` holds `retrieval.Hit` fields; RAGFlow's `chunks_format` turns them into the
formatted chunk below (`id, content, document_id, document_name, dataset_id, image_id, positions, url,
similarity, vector_similarity, term_similarity, row_id, doc_type, document_metadata`). The order of the list
is the order of the passages in the prompt, so `[ID:n]` in the answer is index n of this list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Document


def _score(value: Any) -> float:
    """Rounded, and never NaN/Inf (RAGFlow scrubs those to null; a score of 0 says the same)."""
    if not isinstance(value, int | float) or value != value or value in (float("inf"), float("-inf")):
        return 0.0
    return round(float(value), 6)


def reference_chunk(hit: dict[str, Any], row: int, document_metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """One retrieved chunk (a `Hit` as a dict) in RAGFlow's formatted-reference shape; `row` is its `[ID:n]`."""
    return {
        "id": hit.get("id", ""),
        "content": hit.get("content", ""),
        "document_id": hit.get("document_id", ""),
        "document_name": hit.get("document_name", ""),
        "dataset_id": hit.get("dataset_id", ""),
        "image_id": "",
        "positions": hit.get("positions") or [],
        "url": None,
        "similarity": _score(hit.get("similarity")),
        "vector_similarity": _score(hit.get("vector_similarity")),
        "term_similarity": _score(hit.get("term_similarity")),
        "row_id": row,
        "doc_type": "",  # RAGFlow's doc_type_kwd: empty for text, "image"/"table" otherwise
        "document_metadata": document_metadata,
    }


def reference_chunks(
    reference: dict[str, Any], metadata: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """`Answer.reference` → the formatted list; `metadata` (document id → fields) fills `document_metadata`."""
    chunks = reference.get("chunks") or []
    return [
        reference_chunk(hit, row, None if metadata is None else metadata.get(str(hit.get("document_id")), {}))
        for row, hit in enumerate(chunks)
    ]


async def document_metadata(
    db: AsyncSession, reference: dict[str, Any], fields: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The `meta_fields` of the documents a reference cites (RAGFlow's `reference_metadata.include`).

    With `fields`, only those keys are kept.
    """
    document_ids = {str(hit["document_id"]) for hit in reference.get("chunks") or [] if hit.get("document_id")}
    if not document_ids:
        return {}
    rows = await db.execute(select(Document.id, Document.meta_fields).where(Document.id.in_(document_ids)))
    found: dict[str, dict[str, Any]] = {}
    for document_id, meta in rows:
        meta = meta or {}
        found[document_id] = {key: meta[key] for key in fields if key in meta} if fields is not None else dict(meta)
    return found
