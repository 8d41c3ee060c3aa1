"""Hybrid retrieval in one SQL statement: HNSW cosine candidates + full-text candidates, fused as RAGFlow does.

score = (1 - w) * term_similarity + w * vector_similarity, thresholded, ranked over the whole candidate set,
then paginated (so a page never depends on a rerank window, unlike RAGFlow #10692/#11038).

term_similarity is RAGFlow-like weighted coverage: the IDF-weighted share of the query's terms the chunk
contains. IDF comes from the GIN index at query time; very common terms are counted only up to a cap.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, Document
from service.domain import metadata
from service.domain.chunk_store import vector_literal
from service.errors import Invalid, NotFound
from service.providers.base import Embedder
from service.text.search_text import TS_CONFIG, index_text

# Vector candidates per query: the fused ranking rescans them exactly, so a few hundred are plenty for any page
# a person reads; deeper pages widen it. top_k caps it as in RAGFlow.
VECTOR_CANDIDATES = 256
DF_CAP = 5000  # counting a term's documents stops here; such a term is near-stopword anyway
COMMON_IDF = math.log(1 + 0.7 / 0.3)  # the IDF of a term found in ~30% of chunks
MAX_QUERY_TERMS = 256  # two bind parameters each in the search statement; asyncpg allows 32,767 in all


@dataclass
class RetrievalQuery:
    question: str
    dataset_ids: list[str]
    document_ids: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = 30
    similarity_threshold: float = 0.2
    vector_similarity_weight: float = 0.3
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


async def query_terms(db: AsyncSession, question: str) -> list[str]:
    """The stemmed lexemes PostgreSQL would index for the question (CJK as bigrams), the first MAX_QUERY_TERMS
    in the order they appear: a question is a question, and a pasted document must not cost a count per word."""
    sql = text(
        f"SELECT ARRAY(SELECT lexeme FROM unnest(to_tsvector('{TS_CONFIG}', :q))"
        " ORDER BY positions[1], lexeme LIMIT :cap)"
    )
    return list(await db.scalar(sql, {"q": index_text(question), "cap": MAX_QUERY_TERMS}) or [])


async def _term_weights(db: AsyncSession, terms: list[str], dataset_ids: list[str]) -> tuple[list[float], int]:
    """Each term's IDF over the datasets' chunks, and their number: one round trip whatever the term count."""
    sql = text(
        "SELECT (SELECT coalesce(sum(chunk_count), 0) FROM documents WHERE dataset_id = ANY(:ds)),"
        " ARRAY(SELECT (SELECT count(*) FROM (SELECT 1 FROM chunks WHERE tsv @@ CAST(t.q AS tsquery)"
        " AND dataset_id = ANY(:ds) LIMIT :cap) AS s)"
        " FROM unnest(CAST(:quoted AS text[])) WITH ORDINALITY AS t(q, i) ORDER BY t.i)"
    )
    quoted = [_quote(term) for term in terms]
    total, dfs = (await db.execute(sql, {"ds": dataset_ids, "quoted": quoted, "cap": DF_CAP})).one()
    n = max(int(total or 0), 1)
    return [_idf(n, df) if df else 0.0 for df in dfs], n


def _idf(corpus: int, df: int) -> float:
    return math.log(1 + (corpus - df + 0.5) / (df + 0.5))


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


def _quote(term: str) -> str:
    return "'" + term.replace("'", "''").replace("\\", "\\\\") + "'"


def _coverage(term_count: int) -> str:
    """The IDF-weighted share of the query's terms chunk `c` contains, one `@@` per term written out: the
    subquery over the terms it replaces cost 9 µs a chunk, most of a query whose terms match 45k chunks."""
    case = "CASE WHEN c.tsv @@ CAST(:term{i} AS tsquery) THEN CAST(:weight{i} AS float8) ELSE 0 END"
    cases = [case.format(i=i) for i in range(term_count)]
    return f"({' + '.join(cases) or '0'}) / CAST(:weight_total AS float8)"


def _search_sql(dim: int, with_documents: bool, term_count: int) -> Any:
    disabled = "ARRAY(SELECT id FROM documents WHERE dataset_id = ANY(:ds) AND NOT enabled)"
    scope = f"available AND embedding_model = :model AND dataset_id = ANY(:ds) AND document_id <> ALL({disabled})"
    if with_documents:
        scope += " AND document_id = ANY(:docs)"
    vec = f"embedding::vector({dim}) <=> CAST(:qvec AS vector({dim}))"
    coverage = _coverage(term_count)
    return text(
        f"""
        WITH vec AS (SELECT id FROM chunks WHERE {scope} ORDER BY {vec} LIMIT :vector_k),
        kw AS (
            SELECT id FROM chunks c
            WHERE {scope} AND :kw_query <> '' AND tsv @@ CAST(:kw_query AS tsquery)
            ORDER BY {coverage} DESC LIMIT :top_k
        ),
        scored AS (
            SELECT c.id, c.content, c.document_id, c.dataset_id, c.important_keywords, c.questions, c.tag_kwd,
                   c.positions, 1 - ({vec}) AS vsim, {coverage} AS tsim
            FROM chunks c WHERE c.id IN (SELECT id FROM vec UNION SELECT id FROM kw)
        ),
        fused AS (SELECT *, (1 - CAST(:w AS float8)) * tsim + CAST(:w AS float8) * vsim AS sim FROM scored)
        SELECT fused.*, d.name AS document_name, count(*) OVER () AS total
        FROM fused JOIN documents d ON d.id = fused.document_id
        WHERE sim >= CAST(:threshold AS float8)
        ORDER BY sim DESC, fused.id
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


def candidate_terms(terms: list[str], weights: list[float], corpus: int) -> list[str]:
    """The terms whose chunks become keyword candidates. Common terms, found in over ~30% of the chunks or in
    DF_CAP of them (where counting stops), are skipped: they still count in the score, but a chunk holding only
    those rarely makes a page, and scoring every such chunk was most of a slow query (57k of 100k chunks: 0.5 s).
    """
    common = max(COMMON_IDF, _idf(corpus, DF_CAP))
    return [term for term, w in zip(terms, weights, strict=True) if w > 0 and (w > common or corpus < 50)]


async def _keyword_terms(db: AsyncSession, question: str, dataset_ids: list[str]) -> tuple[list[str], list[float], int]:
    terms = await query_terms(db, question)
    return terms, *await _term_weights(db, terms, dataset_ids)


async def plan_search(db: AsyncSession, embedder: Embedder, model: str, query: RetrievalQuery) -> SearchPlan:
    # The question's terms and their counts (the database) and its embedding (an encoder thread) overlap; a
    # task group so that neither outlives the other's failure (the session must be idle when the request ends).
    async with asyncio.TaskGroup() as group:
        keyword = group.create_task(_keyword_terms(db, query.question, query.dataset_ids))
        embedded = group.create_task(embedder.embed([query.question]))
    (terms, weights, corpus), [vector] = keyword.result(), embedded.result()
    kw_terms = candidate_terms(terms, weights, corpus)
    params: dict[str, Any] = {
        "model": model,
        "ds": query.dataset_ids,
        "qvec": vector_literal(vector),
        "top_k": query.top_k,
        "vector_k": min(query.top_k, max(VECTOR_CANDIDATES, query.page * query.page_size)),
        **{f"term{i}": _quote(term) for i, term in enumerate(terms)},
        **{f"weight{i}": weight for i, weight in enumerate(weights)},
        "weight_total": sum(weights) or 1.0,
        "kw_query": " | ".join(_quote(t) for t in kw_terms),
        "w": query.vector_similarity_weight,
        "threshold": query.similarity_threshold,
        "offset": (query.page - 1) * query.page_size,
        "limit": query.page_size,
    }
    if query.document_ids:
        params["docs"] = query.document_ids
    return SearchPlan(_search_sql(embedder.dim, bool(query.document_ids), len(terms)), params, terms)


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
