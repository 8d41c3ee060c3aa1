"""The RAGFlow family's operations in the published OpenAPI document (see service/api/openapi.py).

Bodies reuse the validating models of schemas.py, dataset_search.py and metadata_schemas.py where a route has one;
the other shapes are in openapi_shapes.py. Errors: RAGFlow's `{"code", "message"}`, with HTTP 200 except for a
missing key (401), an unknown route (404) and a wrong method (405). The v0.13 draft's routes are in
draft/openapi.py.
"""

from __future__ import annotations

from typing import Any

from service.api.openapi import Family, Op, Param, params_of
from service.api.ragflow import openapi_bodies as bodies
from service.api.ragflow import openapi_shapes as shapes
from service.api.ragflow.agent_openapi import AGENT_OPERATIONS
from service.api.ragflow.chats import ChatController
from service.api.ragflow.chunks import ChunkController
from service.api.ragflow.completions import chat_completions, chat_completions_alias
from service.api.ragflow.dataset_search import DatasetSearchController, MultiSearchBody, SearchBody
from service.api.ragflow.datasets import DatasetController
from service.api.ragflow.documents import DocumentController, LegacyParsingController
from service.api.ragflow.draft.openapi import DRAFT_OPERATIONS
from service.api.ragflow.embedding import EmbeddingController
from service.api.ragflow.ingestions import IngestionController
from service.api.ragflow.metadata import MetadataController
from service.api.ragflow.metadata_schemas import AutoMetadataConfig
from service.api.ragflow.openapi_queries import (
    CHAT_LIST,
    CHUNK_LIST,
    DATASET_IDS,
    DOCUMENT_LIST,
    FILE,
    LOG_LIST,
    SESSION_LIST,
    UPLOAD,
)
from service.api.ragflow.questions import chat_recommendation, session_related_questions
from service.api.ragflow.raw_documents import RawDocumentController
from service.api.ragflow.retrieval import retrieve
from service.api.ragflow.schemas import (
    DatasetCreate,
    DatasetDeleteIds,
    DatasetListQuery,
    DatasetUpdate,
    DeleteIds,
    DocumentUpdate,
)
from service.api.ragflow.sessions import SessionController
from service.api.ragflow.system import ping, system_status, system_version
from service.api.ragflow.tags import TagController

Ok = shapes.Ok

DATASETS = {
    DatasetController.create_dataset: Op(Ok[shapes.Dataset], DatasetCreate),
    DatasetController.list_datasets: Op(Ok[list[shapes.Dataset]], query=params_of(DatasetListQuery)),
    DatasetController.get_dataset: Op(Ok[shapes.Dataset]),
    DatasetController.update_dataset: Op(Ok[shapes.Dataset], DatasetUpdate),
    DatasetController.delete_datasets: Op(Ok[shapes.Batch], DatasetDeleteIds, body_required=False),
    TagController.aggregate_tags: Op(Ok[list[shapes.TagCount]], query=(DATASET_IDS,)),
    TagController.list_tags: Op(Ok[list[tuple[str, int]]]),
    TagController.delete_tags: Op(Ok[dict[str, Any]], bodies.TagsDelete),
    TagController.rename_tag: Op(Ok[dict[str, str]], bodies.TagRename),
    MetadataController.flattened_metadata: Op(Ok[dict[str, Any]], query=(DATASET_IDS,)),
    MetadataController.get_auto_metadata: Op(Ok[AutoMetadataConfig]),
    MetadataController.put_auto_metadata: Op(Ok[AutoMetadataConfig], AutoMetadataConfig),
    MetadataController.metadata_summary: Op(
        Ok[dict[str, Any]], query=(Param("doc_ids", str, "comma-separated document ids"),)
    ),
    MetadataController.update_metadatas: Op(Ok[shapes.MetadataUpdated], bodies.MetadataBatch, body_required=False),
    MetadataController.put_document_metadata_config: Op(Ok[dict[str, Any]], bodies.DocumentMetadataConfig),
    IngestionController.list_logs: Op(Ok[shapes.IngestionPage], query=LOG_LIST),
    IngestionController.summary: Op(Ok[shapes.IngestionSummary]),
    IngestionController.get_log: Op(Ok[shapes.IngestionLog]),
    EmbeddingController.run_embedding: Op(Ok[dict[str, int]]),
    EmbeddingController.check_embedding: Op(Ok[shapes.EmbeddingCheck], bodies.EmbeddingCheckBody),
    DatasetSearchController.search_datasets: Op(Ok[shapes.Searched], MultiSearchBody),
    DatasetSearchController.search_dataset: Op(Ok[shapes.Searched], SearchBody),
}

DOCUMENTS = {
    RawDocumentController.download: FILE,
    RawDocumentController.preview: FILE,
    DocumentController.upload_documents: Op(Ok[list[shapes.Document]], UPLOAD, upload=True),
    DocumentController.list_documents: Op(Ok[shapes.DocumentPage], query=DOCUMENT_LIST),
    DocumentController.download_document: FILE,
    DocumentController.update_document: Op(Ok[shapes.Document], DocumentUpdate),
    DocumentController.delete_documents: Op(Ok[shapes.Batch] | shapes.Done, DeleteIds, body_required=False),
    DocumentController.parse_documents: Op(Ok[shapes.Batch], bodies.DocumentIds),
    DocumentController.stop_documents: Op(Ok[shapes.Batch], bodies.DocumentIds),
    LegacyParsingController.parse_legacy: Op(shapes.Done | Ok[shapes.Batch], bodies.DocumentIds),
    LegacyParsingController.stop_legacy: Op(shapes.Done | Ok[shapes.Batch], bodies.DocumentIds),
    ChunkController.list_chunks: Op(Ok[shapes.ChunkPage], query=CHUNK_LIST),
    ChunkController.get_chunk: Op(Ok[shapes.RawChunk]),
    ChunkController.add_chunk: Op(Ok[dict[str, shapes.AddedChunk]], bodies.ChunkBody),
    ChunkController.update_chunk: Op(shapes.Done, bodies.ChunkBody),
    ChunkController.set_availability: Op(Ok[bool], bodies.ChunkAvailability),
    ChunkController.delete_chunks: Op(shapes.Done | Ok[shapes.Batch], bodies.ChunkDelete, body_required=False),
    retrieve: Op(Ok[shapes.Retrieved], bodies.RetrievalBody),
}

ANSWER = Ok[shapes.Answer]
CHATS = {
    ChatController.create_chat: Op(Ok[shapes.Chat], bodies.ChatBody),
    ChatController.list_chats: Op(Ok[shapes.ChatPage], query=CHAT_LIST),
    ChatController.get_chat: Op(Ok[shapes.Chat]),
    ChatController.update_chat: Op(Ok[shapes.Chat], bodies.ChatBody, body_required=False),
    ChatController.delete_chat: Op(Ok[bool]),
    ChatController.delete_chats: Op(Ok[Any], bodies.ChatDelete, body_required=False),
    SessionController.create_session: Op(Ok[shapes.Session], bodies.SessionBody, body_required=False),
    SessionController.list_sessions: Op(Ok[list[shapes.Session]], query=SESSION_LIST),
    SessionController.get_session: Op(Ok[shapes.Session]),
    SessionController.update_session: Op(Ok[shapes.Session], bodies.SessionBody, body_required=False),
    SessionController.delete_sessions: Op(Ok[Any], bodies.IdsDelete, body_required=False),
    SessionController.delete_message: Op(Ok[shapes.Session]),
    SessionController.set_feedback: Op(Ok[shapes.Session], bodies.Feedback),
    chat_completions: Op(ANSWER, bodies.CompletionBody, stream=True),
    chat_completions_alias: Op(ANSWER, bodies.CompletionBody, stream=True),
    session_related_questions: Op(Ok[list[str]], bodies.RelatedQuestions),
    chat_recommendation: Op(Ok[list[str]], bodies.RelatedQuestions),
}

SYSTEM = {
    ping: Op({"type": "string", "const": "pong"}, reply_media="text/plain", public=True),
    system_version: Op(Ok[str], public=True),
    system_status: Op(Ok[dict[str, dict[str, Any]]]),
}

RAGFLOW = Family(
    name="ragflow",
    operations={**DATASETS, **DOCUMENTS, **CHATS, **AGENT_OPERATIONS, **SYSTEM, **DRAFT_OPERATIONS},
    error=shapes.Failure,
    error_statuses={401: "No valid API key", 404: "No such route", 405: "Wrong method"},
    errors_in_200=True,
)
