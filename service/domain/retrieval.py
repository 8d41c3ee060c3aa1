"""Hybrid retrieval in one SQL statement: HNSW cosine candidates + full-text candidates, fused as RAGFlow does.

score = (1 - w) * term_similarity + w * vector_similarity, thresholded, ranked over the whole candidate set,
then paginated (so a page never depends on a rerank window, unlike RAGFlow #10692/#11038).

term_similarity is BM25 normalised into [0, 1] by the query's maximum attainable score (keyword_scoring.py),
with per-dataset statistics the database keeps as chunks change. Equal scores are ordered by the closer of the
two similarities, then in reading order (document upload time and name, position in the document).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, Document
from service.domain import metadata
from service.domain.chunk_store import vector_literal
from service.domain.keyword_scoring import candidate_terms, keyword_terms, quote, score_params, score_sql
from service.errors import Invalid, NotFound
from service.providers.base import Embedder

# Vector candidates per query: the fused ranking rescans them exactly, so a few hundred are plenty for any page
# a person reads; deeper pages widen it. top_k caps it as in RAGFlow.
VECTOR_CANDIDATES = 256
# The fusion weight of a search that names none, unless its (first) dataset carries its own: the best of a grid
# on NFCorpus dev with BM25 and windowed vectors (bench/quality.py; chosen on dev, never on test).
DEFAULT_VECTOR_WEIGHT = 0.5


@dataclass
class RetrievalQuery:
    question: str
    dataset_ids: list[str]
    document_ids: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = 30
    similarity_threshold: float = 0.2
    vector_similarity_weight: float | None = None  # None: the first dataset's default (dataset_weight)
    top_k: int = 1024
    metadata_condition: dict[str, Any] | None = None  # RAGFlow's filter on documents' meta_fields


@dataclass
class Hit:
    id: str
    content: str
    document_id: str
    dataset_id: str
    document_name: str
    important_keywords: list[str]
    questions: list[str]
    positions: list[Any]
    similarity: float
    vector_similarity: float
    term_similarity: float
    tag_kwd: list[str] = field(default_factory=list)


@dataclass
class RetrievalResult:
    total: int
    hits: list[Hit]
    terms: list[str]
    doc_aggs: list[tuple[str, str, int]]  # (document name, document id, hits on this page)


async def tune_hnsw(db: AsyncSession, candidates: int) -> None:
    """Let the HNSW scan return `candidates` rows even when the tenant/dataset filter rejects most neighbours.

    Without iterative scan an HNSW index yields at most ef_search rows *before* filtering, so a small dataset
    in a large table could come back empty. Relaxed order is fine: the fused score re-ranks exactly.
    """
    await db.execute(
        text(
            "SELECT set_config('hnsw.ef_search', :ef, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
        ),
        {"ef": str(min(1000, max(40, candidates)))},
    )


def _search_sql(dim: int, with_documents: bool, term_count: int, candidates: list[int]) -> Any:
    """The statement; keyword candidates are the chunks holding a term at index `candidates`, cut to top_k by
    those terms' part of the score (the others are common: they move a chunk little), then scored in full.

    `scored` is MATERIALIZED so each row's similarities are computed once: inlined, PostgreSQL re-evaluated
    them in the filter and in every sort key (SQL time 32 -> 26 ms p50 on NFCorpus, page_size 100)."""
    disabled = "ARRAY(SELECT id FROM documents WHERE dataset_id = ANY(:ds) AND NOT enabled)"
    scope = f"available AND embedding_model = :model AND dataset_id = ANY(:ds) AND document_id <> ALL({disabled})"
    if with_documents:
        scope += " AND document_id = ANY(:docs)"
    vec = f"embedding::vector({dim}) <=> CAST(:qvec AS vector({dim}))"
    return text(
        f"""
        WITH vec AS (SELECT id FROM chunks WHERE {scope} ORDER BY {vec} LIMIT :vector_k),
        kw AS (
            SELECT id FROM chunks c
            WHERE {scope} AND :kw_query <> '' AND tsv @@ CAST(:kw_query AS tsquery)
            ORDER BY {score_sql(candidates)} DESC LIMIT :top_k
        ),
        scored AS MATERIALIZED (
            SELECT c.id, c.content, c.document_id, c.dataset_id, c.important_keywords, c.questions, c.tag_kwd,
                   c.positions, c.ordinal, 1 - ({vec}) AS vsim, {score_sql(range(term_count))} AS tsim
            FROM chunks c WHERE c.id IN (SELECT id FROM vec UNION ALL SELECT id FROM kw)
        ),
        fused AS (SELECT *, (1 - CAST(:w AS float8)) * tsim + CAST(:w AS float8) * vsim AS sim FROM scored)
        SELECT fused.*, d.name AS document_name, count(*) OVER () AS total
        FROM fused JOIN documents d ON d.id = fused.document_id
        WHERE sim >= CAST(:threshold AS float8)
        ORDER BY sim DESC, vsim DESC, tsim DESC, d.created_at, d.name, fused.ordinal, fused.id
        OFFSET :offset LIMIT :limit
        """
    )


async def check_scope(db: AsyncSession, tenant_id: str, query: RetrievalQuery) -> str:
    """All datasets must be the tenant's and share one embedding model; returns that model."""
    datasets = list(
        await db.scalars(select(Dataset).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(query.dataset_ids)))
    )
    found = {dataset.id for dataset in datasets}
    for dataset_id in query.dataset_ids:
        if dataset_id not in found:
            raise NotFound(f"You don't own the dataset {dataset_id}.")
    models = {dataset.embedding_model for dataset in datasets}
    if len(models) > 1:
        raise Invalid("Datasets use different embedding models.")
    if query.document_ids:
        owned = set(
            await db.scalars(
                select(Document.id).where(Document.id.in_(query.document_ids), Document.dataset_id.in_(found))
            )
        )
        missing = [doc for doc in query.document_ids if doc not in owned]
        if missing:
            raise NotFound(f"The datasets don't own the document {missing[0]}")
    return models.pop()


@dataclass
class SearchPlan:
    """The one statement that ranks chunks, with everything it needs bound."""

    statement: Any
    params: dict[str, Any]
    terms: list[str]


async def plan_search(db: AsyncSession, embedder: Embedder, model: str, query: RetrievalQuery) -> SearchPlan:
    # The question's terms and their statistics (the database) and its embedding (an encoder thread) overlap; a
    # task group so that neither outlives the other's failure (the session must be idle when the request ends).
    async with asyncio.TaskGroup() as group:
        keyword = group.create_task(keyword_terms(db, query.question, query.dataset_ids))
        embedded = group.create_task(embedder.embed([query.question]))
    keywords, [vector] = keyword.result(), embedded.result()
    query = await _with_weight(db, query)
    candidates = candidate_terms(keywords)
    params: dict[str, Any] = {
        "model": model,
        "ds": query.dataset_ids,
        "qvec": vector_literal(vector),
        "top_k": query.top_k,
        "vector_k": min(query.top_k, max(VECTOR_CANDIDATES, query.page * query.page_size)),
        **score_params(keywords),
        "kw_query": " | ".join(quote(term) for term in candidates),
        "w": query.vector_similarity_weight,
        "threshold": query.similarity_threshold,
        "offset": (query.page - 1) * query.page_size,
        "limit": query.page_size,
    }
    if query.document_ids:
        params["docs"] = query.document_ids
    chosen = set(candidates)
    indices = [i for i, term in enumerate(keywords.terms) if term in chosen]
    statement = _search_sql(embedder.dim, bool(query.document_ids), len(keywords.terms), indices)
    return SearchPlan(statement, params, keywords.terms)


def dataset_weight(dataset: Dataset) -> float:
    """The weight a search of this dataset uses when it names none."""
    own = dataset.vector_similarity_weight
    return DEFAULT_VECTOR_WEIGHT if own is None else own


async def _with_weight(db: AsyncSession, query: RetrievalQuery) -> RetrievalQuery:
    if query.vector_similarity_weight is not None:
        return query
    own = await db.scalar(select(Dataset.vector_similarity_weight).where(Dataset.id == query.dataset_ids[0]))
    return replace(query, vector_similarity_weight=DEFAULT_VECTOR_WEIGHT if own is None else own)


async def retrieve(db: AsyncSession, embedder: Embedder, model: str, query: RetrievalQuery) -> RetrievalResult:
    if query.metadata_condition is not None:
        matching = await metadata.matching_documents(db, query.dataset_ids, query.metadata_condition)
        if query.document_ids:
            matching = [doc for doc in matching if doc in set(query.document_ids)]
        if not matching:  # as RAGFlow: a filter nothing passes gives nothing, not everything
            return RetrievalResult(0, [], [], [])
        query = replace(query, document_ids=matching, metadata_condition=None)
    if not query.question.strip():
        return RetrievalResult(0, [], [], [])
    plan = await plan_search(db, embedder, model, query)
    await tune_hnsw(db, plan.params["vector_k"])
    rows = (await db.execute(plan.statement, plan.params)).mappings().all()
    hits = [
        Hit(
            r["id"],
            r["content"],
            r["document_id"],
            r["dataset_id"],
            r["document_name"],
            r["important_keywords"],
            r["questions"],
            r["positions"],
            float(r["sim"]),
            float(r["vsim"]),
            float(r["tsim"]),
            r["tag_kwd"],
        )
        for r in rows
    ]
    aggs: dict[str, tuple[str, str, int]] = {}
    for hit in hits:
        name, doc_id, count = aggs.get(hit.document_id, (hit.document_name, hit.document_id, 0))
        aggs[hit.document_id] = (name, doc_id, count + 1)
    total = int(rows[0]["total"]) if rows else 0
    return RetrievalResult(total, hits, plan.terms, sorted(aggs.values(), key=lambda agg: -agg[2]))


def highlight(content: str, terms: list[str]) -> str:
    """Wrap the words that match a query lexeme (a stem, so prefix match) or CJK bigram in <em>."""
    latin = sorted({t for t in terms if t.isascii() and len(t) > 1}, key=len, reverse=True)
    cjk = sorted({t for t in terms if not t.isascii()}, key=len, reverse=True)
    patterns = [rf"\b{re.escape(t)}\w*" for t in latin] + [re.escape(t) for t in cjk]
    if not patterns:
        return content
    return re.sub("|".join(patterns), lambda m: f"<em>{m.group()}</em>", content, flags=re.IGNORECASE)
