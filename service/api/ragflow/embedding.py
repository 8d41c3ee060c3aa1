"""`/api/v1/datasets/{dataset_id}/embedding`: re-embed a dataset, and check a model against its stored vectors."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import Rejected, fail, ok
from service.api.ragflow.schemas import json_body, text_arg
from service.domain import dataset_embedding, ingestion_logs
from service.providers.base import EmbedderFor

NOT_EFFECTIVE = 10  # RAGFlow's RetCode.NOT_EFFECTIVE: the check ran, and the model is not a safe switch
INCOMPATIBLE = (
    "Embedding model switch failed: the average similarity between old and new vectors is below 0.9, "
    "indicating incompatible vector spaces."
)


def check_request(body: dict[str, Any]) -> tuple[str, int]:
    """`embd_id` (required, before anything else, as RAGFlow checks it) and `check_num` (default 5)."""
    model = body.get("embd_id")
    if not model:
        raise Rejected("`embd_id` is required.")
    if not isinstance(model, str):
        raise Rejected("`embd_id` should be a string")
    count = body.get("check_num", 5)
    try:
        if isinstance(count, bool) or not isinstance(count, int | str):
            raise TypeError
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise Rejected("`check_num` should be a positive integer")
    return model, count


class EmbeddingController(Controller):
    path = "/datasets/{dataset_id:str}/embedding"

    @post("/", status_code=200)
    async def run_embedding(
        self, dataset_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        dataset = await ingestion_logs.accessible_dataset(db, tenant, text_arg(dataset_id))
        return ok({"scheduled_count": await dataset_embedding.reembed_dataset(db, dataset)})

    @post("/check", status_code=200)
    async def check_embedding(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        model, count = check_request(await json_body(request, required=False))
        dataset = await ingestion_logs.accessible_dataset(db, tenant, text_arg(dataset_id))
        check = await dataset_embedding.check_embedding(db, dataset, model, count, embedder)
        data = {"summary": check.summary(), "results": check.results}
        return ok(data) if check.compatible else fail(NOT_EFFECTIVE, INCOMPATIBLE, data=data)
