"""The answer's reference as clients see it, shared by every face that chats (RAGFlow native, OpenAI-compatible).

`Answer.reference["chunks"]` holds `retrieval.Hit` fields; RAGFlow's `chunks_format` turns them into the
formatted chunk below (`id, content, document_id, document_name, dataset_id, image_id, positions, url,
similarity, vector_similarity, term_similarity, row_id, doc_type, document_metadata`). The order of the list
is the order of the passages in the prompt, so `[ID:n]` in the answer is index n of this list.
"""

from __future__ import annotations

from typing import Any


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


def cited_documents(reference: dict[str, Any]) -> set[str]:
    """The ids of the documents an answer's reference cites."""
    return {str(hit["document_id"]) for hit in reference.get("chunks") or [] if hit.get("document_id")}
