"""`POST /api/v1/retrieval`: hybrid search over the tenant's datasets."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import ok
from service.api.ragflow.schemas import MAX_PAGE_SIZE, json_body, list_of_strings
from service.api.ragflow.views import hit_json
from service.domain import retrieval
from service.errors import Invalid, Unsupported
from service.providers.base import EmbedderFor


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Invalid(f"`{key}` should be a number between {low} and {high}")
    return float(value)


def retrieval_query(body: dict[str, Any]) -> retrieval.RetrievalQuery:
    if not isinstance(body.get("question"), str):
        raise Invalid("`question` is required.")
    dataset_ids = list_of_strings(body, "dataset_ids")
    if not dataset_ids:
        raise Invalid("`dataset_ids` is required.")
    document_ids = list_of_strings(body, "document_ids")
    page_size = int(_number(body, "page_size", 30, 1, MAX_PAGE_SIZE))
    return retrieval.RetrievalQuery(
        body["question"],
        dataset_ids,
        document_ids,
        int(_number(body, "page", 1, 1, 1e9)),
        page_size,
        # RAGFlow drops the threshold when documents are named explicitly; kept for compatibility.
        0.0 if document_ids else _number(body, "similarity_threshold", 0.2, 0, 1),
        _number(body, "vector_similarity_weight", 0.3, 0, 1),
        int(_number(body, "top_k", 1024, 1, 10000)),
        _metadata_condition(body),
    )


def _metadata_condition(body: dict[str, Any]) -> dict[str, Any] | None:
    condition = body.get("metadata_condition")
    if condition is not None and not isinstance(condition, dict):
        raise Invalid("metadata_condition must be an object.")
    return condition


def check_options(body: dict[str, Any]) -> bool:
    if body.get("rerank_id"):
        raise Unsupported(f"Unsupported rerank model: {body['rerank_id']}; this server has no reranker configured")
    highlight = body.get("highlight", False)
    if not isinstance(highlight, bool):
        raise Invalid("`highlight` should be a boolean")
    return highlight


@post("/retrieval", status_code=200)
async def retrieve(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    embedder: NamedDependency[EmbedderFor],
) -> Response[Any]:
    body = await json_body(request)
    query, highlight = retrieval_query(body), check_options(body)
    model = await retrieval.check_scope(db, tenant, query)
    result = await retrieval.retrieve(db, embedder(model), model, query)
    chunks = [
        hit_json(hit, retrieval.highlight(hit.content, result.terms) if highlight else None) for hit in result.hits
    ]
    aggs = [{"doc_name": name, "doc_id": doc_id, "count": count} for name, doc_id, count in result.doc_aggs]
    return ok({"total": result.total, "chunks": chunks, "doc_aggs": aggs})
