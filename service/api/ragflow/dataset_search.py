"""`POST /api/v1/datasets/search` and `POST /api/v1/datasets/{dataset_id}/search`: RAGFlow v0.27's dataset search
(the retrieval test of its UI), answered with the chunk fields of RAGFlow's retriever (`chunk_id`, `doc_id`, …).

Options that need what this server has not are refused clearly: a reranker (`rerank_id`), search apps
(`search_id`), an LLM-chosen metadata filter (`meta_data_filter`; `/retrieval` takes `metadata_condition`).
`keyword`, `cross_languages` and `use_kg` (LLM keyword expansion, translation, knowledge graph) are not run.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import Rejected, ok
from service.api.ragflow.schemas import MAX_PAGE_SIZE, json_body, text_arg, validated
from service.domain import dataset_search
from service.domain.retrieval import Hit, RetrievalQuery
from service.errors import Invalid, NotFound, Unsupported
from service.providers.base import EmbedderFor

MAX_PAGE = 1_000_000_000
MAX_TOP_K = 2048  # RAGFlow clamps the vector candidates to this


class SearchBody(BaseModel):
    """RAGFlow's search body; unknown keys are ignored. A missing `question` is RAGFlow's 102."""

    model_config = ConfigDict(extra="ignore")
    question: str | None = None
    doc_ids: list[str] = Field(default_factory=list)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=30, ge=1, le=MAX_PAGE_SIZE)
    page_size: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    similarity_threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    vector_similarity_weight: float | None = Field(default=None, ge=0.0, le=1.0)  # None: the dataset's
    top_k: int | None = Field(default=None, ge=1)
    knn_top_k: int | None = Field(default=None, ge=1)
    rerank_id: str | None = None
    search_id: str | None = None
    meta_data_filter: dict[str, Any] | None = None
    keyword: bool = False
    use_kg: bool = False
    cross_languages: list[str] = Field(default_factory=list)


class MultiSearchBody(SearchBody):
    dataset_ids: list[str] = Field(min_length=1)


def search_query(spec: SearchBody, dataset_ids: list[str]) -> RetrievalQuery:
    if spec.question is None:
        raise Rejected("`question` is required.")
    if spec.rerank_id:
        raise Unsupported(f"Unsupported rerank model: {spec.rerank_id}; this server has no reranker configured")
    if spec.search_id:
        raise NotFound("Invalid search_id")  # this server has no search apps, so no search_id names one
    if spec.meta_data_filter:
        raise Invalid("`meta_data_filter` is not supported here; POST /retrieval takes `metadata_condition`")
    return RetrievalQuery(
        spec.question,
        [text_arg(dataset_id) for dataset_id in dataset_ids],
        [text_arg(doc_id) for doc_id in spec.doc_ids],
        spec.page,
        spec.page_size or spec.size,
        spec.similarity_threshold,
        spec.vector_similarity_weight,
        min(spec.knn_top_k or spec.top_k or 1024, MAX_TOP_K),
    )


def search_chunk_json(hit: Hit) -> dict[str, Any]:
    """A chunk as RAGFlow's retriever returns it to the search routes (its stored field names)."""
    return {
        "chunk_id": hit.id,
        "content_ltks": hit.content,
        "content_with_weight": hit.content,
        "doc_id": hit.document_id,
        "docnm_kwd": hit.document_name,
        "kb_id": hit.dataset_id,
        "important_kwd": hit.important_keywords,
        "question_kwd": hit.questions,
        "tag_kwd": hit.tag_kwd,
        "image_id": "",
        "similarity": round(hit.similarity, 6),
        "vector_similarity": round(hit.vector_similarity, 6),
        "term_similarity": round(hit.term_similarity, 6),
        "positions": hit.positions,
        "doc_type_kwd": "text",
        "mom_id": "",
    }


async def run_search(db: AsyncSession, tenant: str, embedder: EmbedderFor, query: RetrievalQuery) -> Response[Any]:
    result = await dataset_search.search(db, tenant, embedder, query)
    aggs = [{"doc_name": name, "doc_id": doc_id, "count": count} for name, doc_id, count in result.doc_aggs]
    chunks = [search_chunk_json(hit) for hit in result.hits]
    return ok({"total": result.total, "chunks": chunks, "doc_aggs": aggs, "labels": None})


class DatasetSearchController(Controller):
    path = "/datasets"

    @post("/search", status_code=200)
    async def search_datasets(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        spec = validated(MultiSearchBody, await json_body(request, json_only=True))
        return await run_search(db, tenant, embedder, search_query(spec, spec.dataset_ids))

    @post("/{dataset_id:str}/search", status_code=200)
    async def search_dataset(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        spec = validated(SearchBody, await json_body(request, json_only=True))
        return await run_search(db, tenant, embedder, search_query(spec, [dataset_id]))
