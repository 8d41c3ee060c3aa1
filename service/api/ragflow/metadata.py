"""Document metadata routes: a dataset's auto-metadata config, the summary and flattened views of its
documents' `meta_fields`, the batch metadata update, and a document's own metadata config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get, patch, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.deps import DATASET
from service.api.ragflow.documents import RUN_CODES
from service.api.ragflow.envelope import ok
from service.api.ragflow.metadata_schemas import AutoMetadataConfig, metadata_batch
from service.api.ragflow.schemas import json_body, text_arg, validated
from service.api.ragflow.tags import dataset_ids_arg
from service.api.ragflow.views import document_json
from service.domain import datasets, metadata, metadata_edits
from service.errors import Invalid, NotFound

if TYPE_CHECKING:
    from service.db.models import Dataset, Document

CONFIG_PATHS = ["/{dataset_id:str}/metadata/config", "/{dataset_id:str}/auto_metadata"]  # the latter: 0.2x's
RAW_NAMES = {"dataset_id": "kb_id", "chunk_method": "parser_id", "chunk_count": "chunk_num", "token_count": "token_num"}
RUN_DIGITS = {name: digit for digit, name in RUN_CODES.items()}


def raw_document(document: Document) -> dict[str, Any]:
    """The document under its stored field names (`kb_id`, `parser_id`, ...), as RAGFlow's `doc.to_dict()`."""
    shown = {RAW_NAMES.get(key, key): value for key, value in document_json(document).items()}
    shown.pop("knowledgebase_id", None)
    return {**shown, "run": RUN_DIGITS.get(document.run, document.run)}


async def dataset_for_document_config(db: AsyncSession, tenant: str, dataset_id: str) -> Dataset:
    """This route refuses another tenant's (or no) dataset without naming it, in RAGFlow's words."""
    try:
        return await datasets.get_dataset(db, tenant, dataset_id)
    except NotFound:
        raise NotFound("You don't own the dataset.") from None


class MetadataController(Controller):
    path = "/datasets"

    @get("/metadata/flattened")
    async def flattened_metadata(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        dataset_ids = [text_arg(dataset_id) for dataset_id in dataset_ids_arg(request)]
        await metadata.check_owned(db, tenant, dataset_ids)
        return ok(await metadata.flattened(db, tenant, dataset_ids))

    @get(CONFIG_PATHS)
    async def get_auto_metadata(
        self, dataset_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        dataset = await datasets.get_dataset(db, tenant, dataset_id)
        return ok(metadata.auto_metadata(dataset))

    @put(CONFIG_PATHS, status_code=200)
    async def put_auto_metadata(
        self,
        dataset_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        config = validated(AutoMetadataConfig, await json_body(request, json_only=True))
        dataset = await datasets.get_dataset(db, tenant, dataset_id)
        return ok(await metadata.set_auto_metadata(db, dataset, config.model_dump()))

    @get("/{dataset_id:str}/metadata/summary", dependencies=DATASET)
    async def metadata_summary(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        raw = request.query_params.get("doc_ids")
        document_ids = [text_arg(part) for part in raw.split(",")] if raw else None
        return ok({"summary": await metadata.summary(db, dataset, document_ids)})

    @patch("/{dataset_id:str}/documents/metadatas", dependencies=DATASET, status_code=200)
    async def update_metadatas(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], dataset: NamedDependency[Dataset]
    ) -> Response[Any]:
        batch = metadata_batch(await json_body(request, required=False))
        changes = metadata_edits.MetadataChanges(batch.updates, batch.deletes)
        updated, matched = await metadata_edits.update_metadata(
            db, dataset, batch.document_ids, batch.condition, changes
        )
        return ok({"updated": updated, "matched_docs": matched})

    @put("/{dataset_id:str}/documents/{document_id:str}/metadata/config", status_code=200)
    async def put_document_metadata_config(
        self,
        dataset_id: FromPath[str],
        document_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        dataset = await dataset_for_document_config(db, tenant, dataset_id)
        document = await metadata_edits.document_in(db, dataset, document_id)
        body = await json_body(request, required=False)
        if "metadata" not in body:
            raise Invalid("metadata is required")
        document = await metadata_edits.set_document_metadata_config(db, document, body["metadata"])
        return ok(raw_document(document))
