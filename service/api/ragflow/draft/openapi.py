"""The v0.13 draft's operations in the published OpenAPI document (the RAGFlow family's, see ../openapi.py).

The draft's objects are the key sets shapes.py maps the v0.27 views to: each key is published, required, with
any value (the draft document fixes the keys, not their types).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from service.api.openapi import Op, Param
from service.api.ragflow import openapi_bodies as bodies
from service.api.ragflow import openapi_queries as queries
from service.api.ragflow import openapi_shapes as shapes
from service.api.ragflow.draft.chats import DraftChatController, DraftSessionController
from service.api.ragflow.draft.datasets import DraftDatasetController
from service.api.ragflow.draft.documents import DraftChunkController, DraftDocumentController
from service.api.ragflow.draft.inputs import DRAFT_PAGE_SIZE
from service.api.ragflow.draft.shapes import CHUNK_KEYS, DATASET_KEYS, DOCUMENT_KEYS
from service.api.ragflow.schemas import DatasetDeleteIds

Ok = shapes.Ok
Done = shapes.Done


def keyed(name: str, keys: tuple[str, ...]) -> type[BaseModel]:
    """A model with exactly `keys`, each required, of any type."""
    fields: dict[str, Any] = {key: (Any, ...) for key in keys}
    return create_model(name, **fields)


# Built from the key tuples, so they cannot drift from what shapes.py sends; typed Any for mypy, which takes a
# model made at run time for no type.
DraftDataset: Any = keyed("DraftDataset", DATASET_KEYS)
DraftDocument: Any = keyed("DraftDocument", DOCUMENT_KEYS)
DraftChunk: Any = keyed("DraftChunk", CHUNK_KEYS)
DraftDocuments: Any = create_model("DraftDocuments", docs=(list[DraftDocument], ...), total=(int, ...))
DraftChunks: Any = create_model(
    "DraftChunks", chunks=(list[DraftChunk], ...), doc=(DraftDocument, ...), total=(int, ...)
)


class DraftChat(BaseModel):
    avatar: str
    create_date: str | None
    create_time: int | None
    description: str
    do_refer: Literal["0", "1"]
    id: str
    knowledgebases: list[dict[str, Any]]
    language: str
    llm: dict[str, Any]
    name: str
    prompt: dict[str, Any]
    prompt_type: str
    status: str
    tenant_id: str
    top_k: int
    update_date: str | None
    update_time: int | None


class DraftDatasetBody(BaseModel):
    """The draft's names (`parse_method`); the counts may be echoed as they are, the ids not changed."""

    name: str | None = None
    avatar: str | None = None
    description: str | None = None
    language: str | None = None
    permission: Literal["me", "team"] | None = None
    parse_method: str | None = None
    parser_config: dict[str, Any] | None = None
    chunk_count: int | None = None
    document_count: int | None = None


class DraftDocumentBody(BaseModel):
    document_id: str | None = Field(default=None, description="if given, the document of the path")
    document_name: str | None = None
    parser_method: str | None = None
    parser_config: dict[str, Any] | None = None


class DraftDocumentIds(BaseModel):
    documents: list[str] | None = Field(default=None, description="or `document_ids`")
    document_ids: list[str] | None = None


class DraftIds(BaseModel):
    ids: list[str]


class DraftChunkInsert(BaseModel):
    document_id: str | None = None
    content: str | list[str] = Field(description="one chunk, or one chunk per text")
    important_keywords: list[str] | None = None
    questions: list[str] | None = None


class DraftChunkUpdate(BaseModel):
    chunk_id: str
    document_id: str | None = None
    content: str | None = None
    important_keywords: list[str] | None = None
    questions: list[str] | None = None
    status: Literal["0", "1"] | None = Field(default=None, description='"1" available, "0" not')


class DraftChunkIds(BaseModel):
    chunks: list[str] | None = Field(default=None, description="or `chunk_ids`")
    chunk_ids: list[str] | None = None


class DraftQuestion(BaseModel):
    question: str
    stream: bool = True


DRAFT_LIST = (
    Param("page", Annotated[int, Field(ge=1)], "from 1; anything else means 1"),
    Param("page_size", Annotated[int, Field(ge=1, le=DRAFT_PAGE_SIZE)], f"default {DRAFT_PAGE_SIZE}"),
    queries.order("create_time", "update_time"),
    queries.DESC,
    *queries.TEXT_FILTERS,
)
RETRIEVAL = (
    Param("query_text", str, "the question (or in a JSON body, as the draft sends it)"),
    Param("similarity_threshold", Annotated[float, Field(ge=0, le=1)]),
    Param("vector_similarity_weight", Annotated[float, Field(ge=0, le=1)]),
    Param("top_k", Annotated[int, Field(ge=1, le=10000)]),
    Param("highlight", bool),
    *queries.PAGE,
)
BATCH = Done | Ok[shapes.Batch]

DRAFT_OPERATIONS = {
    DraftDatasetController.create_dataset: Op(Ok[DraftDataset], DraftDatasetBody),
    DraftDatasetController.list_datasets: Op(Ok[list[DraftDataset]], query=DRAFT_LIST),
    DraftDatasetController.update_dataset: Op(Done, DraftDatasetBody),
    DraftDatasetController.delete_datasets: Op(Done, DatasetDeleteIds, body_required=False),
    DraftDocumentController.upload_documents: Op(Ok[list[DraftDocument]], queries.UPLOAD, upload=True),
    DraftDocumentController.delete_documents: Op(BATCH, DraftIds, body_required=False),
    DraftDocumentController.download_document: queries.FILE,
    DraftDocumentController.list_documents: Op(Ok[DraftDocuments], query=queries.DOCUMENT_LIST),
    DraftDocumentController.update_document: Op(Done, DraftDocumentBody),
    DraftDocumentController.parse_documents: Op(BATCH, DraftDocumentIds),
    DraftDocumentController.stop_parsing: Op(BATCH, DraftDocumentIds),
    DraftDocumentController.retrieval_test: Op(Ok[shapes.Retrieved], query=RETRIEVAL),
    DraftChunkController.list_chunks: Op(Ok[DraftChunks], query=queries.CHUNK_LIST),
    DraftChunkController.insert_chunks: Op(Ok[dict[str, list[DraftChunk]]], DraftChunkInsert),
    DraftChunkController.update_chunk: Op(Done, DraftChunkUpdate),
    DraftChunkController.delete_chunks: Op(Done, DraftChunkIds),
    DraftChatController.create_chat: Op(Ok[DraftChat], bodies.ChatBody),
    DraftChatController.list_chats: Op(Ok[list[DraftChat]], query=DRAFT_LIST),
    DraftChatController.update_chat: Op(Done, bodies.ChatBody, body_required=False),
    DraftChatController.delete_chats: Op(Done, DraftIds, body_required=False),
    DraftSessionController.create_session: Op(Ok[shapes.Session], bodies.SessionBody, body_required=False),
    DraftSessionController.list_sessions: Op(Ok[list[shapes.Session]], query=queries.SESSION_LIST),
    DraftSessionController.update_session: Op(Done, bodies.SessionBody, body_required=False),
    DraftSessionController.delete_session: Op(Done),
    DraftSessionController.completion: Op(Ok[shapes.Answer], DraftQuestion, stream=True),
}
