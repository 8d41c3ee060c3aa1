"""`POST /api/v1/retrieval`: hybrid search over the tenant's datasets."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import Rejected, ok
from service.api.ragflow.metadata_schemas import condition_of
from service.api.ragflow.schemas import MAX_PAGE_SIZE, json_body, list_of_strings, shown
from service.api.ragflow.views import hit_json
from service.domain import retrieval
from service.errors import Invalid, Unsupported
from service.providers.base import EmbedderFor

MAX_PAGE = 1_000_000_000  # beyond this a page number is refused (RAGFlow's search engine fails with code 100)


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Invalid(f"`{key}` should be a number between {low} and {high}")
    return float(value)


def _integer(body: dict[str, Any], key: str) -> int | None:
    """`key` read as RAGFlow's int() does: a number or a numeric string; None if absent, refused if not one."""
    value = body.get(key)
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid(f"`{key}` should be an integer, got {shown(value)}") from None


def _lax(body: dict[str, Any], key: str, default: int) -> int:
    """RAGFlow's validate_rest_api_page(_size): anything int() refuses, or below 1, is the default."""
    try:
        value = _integer(body, key)
    except Invalid:
        return default
    return value if value is not None and value >= 1 else default


def _page(body: dict[str, Any]) -> tuple[int, int]:
    """`page` and `page_size` as RAGFlow reads them (numbers or numeric strings, silent defaults); a size above
    100 is RAGFlow's error, and a page past MAX_PAGE a clear one (RAGFlow's search engine fails on it)."""
    page, size = _lax(body, "page", 1), _lax(body, "page_size", 30)
    if page > MAX_PAGE:
        raise Invalid(f"`page` should be at most {MAX_PAGE}, got {page}")
    if size > MAX_PAGE_SIZE:
        raise Invalid(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
    return page, size


def _weight(body: dict[str, Any]) -> float | None:
    """RAGFlow takes any float() for `vector_similarity_weight` (10 answers code 0); a weight outside [0, 1]
    would make the keyword share negative, so it is held to the nearest bound. None: the dataset's default."""
    value = body.get("vector_similarity_weight")
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        weight = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"`vector_similarity_weight` should be a number, got {shown(value)}") from None
    if weight != weight:  # NaN
        raise Invalid("`vector_similarity_weight` should be a number, got nan")
    return min(max(weight, 0.0), 1.0)


def retrieval_query(body: dict[str, Any]) -> retrieval.RetrievalQuery:
    if not body.get("dataset_ids"):
        raise Rejected("`dataset_ids` is required.")
    if not isinstance(body["dataset_ids"], list):
        raise Rejected("`dataset_ids` should be a list")
    dataset_ids = list_of_strings(body, "dataset_ids")
    if "question" not in body:
        raise Rejected("`question` is required.")
    if not isinstance(body["question"], str):
        raise Invalid("`question` should be a string")
    document_ids = list_of_strings(body, "document_ids")
    page, page_size = _page(body)
    return retrieval.RetrievalQuery(
        body["question"],
        dataset_ids,
        document_ids,
        page,
        page_size,
        # RAGFlow drops the threshold when documents are named explicitly; kept for compatibility.
        0.0 if document_ids else _number(body, "similarity_threshold", 0.2, 0, 1),
        _weight(body),
        int(_number(body, "top_k", 1024, 1, 10000)),
        condition_of(body.get("metadata_condition")),
    )


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
    return await search_reply(db, tenant, embedder, await json_body(request))


async def search_reply(db: AsyncSession, tenant: str, embedder: EmbedderFor, body: dict[str, Any]) -> Response[Any]:
    """A retrieval body answered (also by the v0.13 draft's `GET /dataset/{id}/retrieval`)."""
    query, highlight = retrieval_query(body), check_options(body)
    model = await retrieval.check_scope(db, tenant, query)
    result = await retrieval.retrieve(db, embedder(model), model, query)
    chunks = [
        hit_json(hit, retrieval.highlight(hit.content, result.terms) if highlight else None) for hit in result.hits
    ]
    aggs = [{"doc_name": name, "doc_id": doc_id, "count": count} for name, doc_id, count in result.doc_aggs]
    return ok({"total": result.total, "chunks": chunks, "doc_aggs": aggs})
