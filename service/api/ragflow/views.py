"""Domain objects in RAGFlow's JSON shapes (field names, timestamps, run states)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from service.domain.retrieval import dataset_weight

if TYPE_CHECKING:
    from service.db.models import Chunk, Dataset, Document, Timestamped
    from service.domain.datasets import DatasetStats
    from service.domain.retrieval import Hit


def ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def rfc1123(moment: datetime | None) -> str | None:
    return format_datetime(moment, usegmt=True) if moment else None


def times(row: Timestamped) -> dict[str, Any]:
    return {
        "create_time": ms(row.created_at),
        "create_date": rfc1123(row.created_at),
        "update_time": ms(row.updated_at),
        "update_date": rfc1123(row.updated_at),
    }


def dataset_json(dataset: Dataset, stats: DatasetStats, with_parsing: bool = False) -> dict[str, Any]:
    body = {
        "id": dataset.id,
        "name": dataset.name,
        "avatar": dataset.avatar or None,
        "description": dataset.description or None,
        "language": dataset.language,
        "embedding_model": dataset.embedding_model,
        "permission": dataset.permission,
        "chunk_method": dataset.chunk_method,
        "parser_config": dataset.parser_config,
        "pagerank": dataset.pagerank,
        "similarity_threshold": dataset.similarity_threshold,
        "vector_similarity_weight": dataset_weight(dataset),
        "document_count": stats.document_count,
        "chunk_count": stats.chunk_count,
        "token_num": stats.token_num,
        "status": "1",
        "tenant_id": dataset.tenant_id,
        "created_by": dataset.tenant_id,
        **times(dataset),
    }
    for key in ("ext", "auto_metadata_config"):  # returned only when given, so RAGFlow's key set stays exact
        if getattr(dataset, key):
            body[key] = getattr(dataset, key)
    if with_parsing:
        for state in ("UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL"):
            body[f"{state.lower()}_count"] = stats.by_run.get(state, 0)
    return body


def document_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "name": document.name,
        "type": document.doc_type,
        "suffix": document.suffix,
        "size": document.size,
        "location": document.name,
        "source_type": "local",
        "status": "1" if document.enabled else "0",
        "run": document.run,
        "progress": document.progress,
        "progress_msg": document.progress_msg,
        "process_begin_at": rfc1123(document.process_begin_at),
        "process_duration": document.process_duration,
        "dataset_id": document.dataset_id,
        "knowledgebase_id": document.dataset_id,
        "chunk_method": document.chunk_method,
        "parser_config": document.parser_config,
        "pipeline_id": None,
        "chunk_count": document.chunk_count,
        "token_count": document.token_count,
        "meta_fields": document.meta_fields,
        "thumbnail": None,
        "created_by": document.created_by,
        "content_sha256": document.content_sha256,  # Nectar's own: what `nectar ingest` compares to skip a file
        **times(document),
    }


def chunk_json(chunk: Chunk, document: Document) -> dict[str, Any]:
    return {
        "id": chunk.id,
        "content": chunk.content,
        "document_id": chunk.document_id,
        "docnm_kwd": document.name,
        "dataset_id": chunk.dataset_id,
        "important_keywords": chunk.important_keywords,
        "questions": chunk.questions,
        "tag_kwd": chunk.tag_kwd,
        "image_id": "",
        "doc_type_kwd": "text",
        "available": chunk.available,
        "positions": chunk.positions,
    }


def raw_chunk_json(chunk: Chunk, document: Document) -> dict[str, Any]:
    """`GET .../chunks/{id}`: RAGFlow returns its stored field names here."""
    return {
        "id": chunk.id,
        "content_with_weight": chunk.content,
        "doc_id": chunk.document_id,
        "docnm_kwd": document.name,
        "kb_id": chunk.dataset_id,
        "available_int": int(chunk.available),
        "important_kwd": chunk.important_keywords,
        "question_kwd": chunk.questions,
        "tag_kwd": chunk.tag_kwd,
        "img_id": "",
        "position_int": chunk.positions,
    }


def hit_json(hit: Hit, highlighted: str | None) -> dict[str, Any]:
    body = {
        "id": hit.id,
        "content": hit.content,
        "content_ltks": hit.content,
        "document_id": hit.document_id,
        "document_keyword": hit.document_name,
        "document_name": hit.document_name,  # what ragflow-sdk <= 0.22 reads
        "dataset_id": hit.dataset_id,
        "kb_id": hit.dataset_id,
        "important_keywords": hit.important_keywords,
        "questions": hit.questions,
        "tag_kwd": hit.tag_kwd,
        "image_id": "",
        "positions": hit.positions,
        "similarity": round(hit.similarity, 6),
        "vector_similarity": round(hit.vector_similarity, 6),
        "term_similarity": round(hit.term_similarity, 6),
        "doc_type_kwd": "text",
        "mom_id": "",
        "row_id": None,
    }
    if highlighted is not None:
        body["highlight"] = highlighted
    return body
