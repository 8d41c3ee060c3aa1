"""The RAGFlow family's JSON shapes for the published OpenAPI document: replies as views.py, chat_views.py and
the controllers build them (the request bodies are in openapi_bodies.py).

Documentation only: no handler validates with these (the bodies are read as RAGFlow reads them). Keys a view
sends only sometimes are optional here.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


# --- envelopes -------------------------------------------------------------------------------------------------


class Ok(BaseModel, Generic[T]):
    """`{"code": 0, "data": ...}`; the chat and session routes add `"message": "success"`."""

    code: Literal[0]
    data: T
    message: str | None = None


class Done(BaseModel):
    """`{"code": 0}`: done, nothing to return."""

    code: Literal[0]
    message: str | None = None


class Failure(BaseModel):
    """Every RAGFlow error, mostly with HTTP 200: 101 bad argument, 102 data error (not found, not yours, ...),
    109 no authorization, 10 a check that ran and failed; 401 (HTTP 401) no valid key, 404 (HTTP 404) no such
    route, 405 (HTTP 405) wrong method, 100 an internal error."""

    code: int
    message: str
    data: Any = None
    error: str | None = None


# --- objects ---------------------------------------------------------------------------------------------------


class Times(BaseModel):
    create_time: int | None = Field(description="epoch milliseconds")
    create_date: str | None = Field(description="RFC 1123")
    update_time: int | None
    update_date: str | None


class Dataset(Times):
    id: str
    name: str
    avatar: str | None
    description: str | None
    language: str
    embedding_model: str
    permission: str
    chunk_method: str
    parser_config: dict[str, Any]
    pagerank: int
    similarity_threshold: float
    vector_similarity_weight: float
    document_count: int
    chunk_count: int
    token_num: int
    status: str
    tenant_id: str
    created_by: str
    ext: dict[str, Any] | None = Field(default=None, description="only when set")
    auto_metadata_config: dict[str, Any] | None = Field(default=None, description="only when set")
    unstart_count: int | None = Field(default=None, description="with include_parsing_status, and on GET by id")
    running_count: int | None = None
    cancel_count: int | None = None
    done_count: int | None = None
    fail_count: int | None = None


class Document(Times):
    id: str
    name: str
    type: str
    suffix: str
    size: int
    location: str
    source_type: str
    status: Literal["0", "1"]
    run: Literal["UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL"]
    progress: float
    progress_msg: str
    process_begin_at: str | None
    process_duration: float
    dataset_id: str
    knowledgebase_id: str
    chunk_method: str
    parser_config: dict[str, Any]
    pipeline_id: None
    chunk_count: int
    token_count: int
    meta_fields: dict[str, Any]
    thumbnail: None
    created_by: str
    content_sha256: str = Field(description="Nectar's own: hex SHA-256 of the uploaded bytes (not in RAGFlow)")


class Chunk(BaseModel):
    id: str
    content: str
    document_id: str
    docnm_kwd: str
    dataset_id: str
    important_keywords: list[str]
    questions: list[str]
    tag_kwd: list[str]
    image_id: str
    doc_type_kwd: str
    available: bool
    positions: list[Any]


class AddedChunk(Chunk):
    create_time: str = Field(description="YYYY-MM-DD HH:MM:SS")
    create_timestamp: float


class RawChunk(BaseModel):
    """`GET .../chunks/{id}`: the chunk under RAGFlow's stored field names."""

    id: str
    content_with_weight: str
    doc_id: str
    docnm_kwd: str
    kb_id: str
    available_int: int
    important_kwd: list[str]
    question_kwd: list[str]
    tag_kwd: list[str]
    img_id: str
    position_int: list[Any]


class Hit(BaseModel):
    """A chunk found by `/retrieval`."""

    id: str
    content: str
    content_ltks: str
    document_id: str
    document_keyword: str
    document_name: str
    dataset_id: str
    kb_id: str
    important_keywords: list[str]
    questions: list[str]
    tag_kwd: list[str]
    image_id: str
    positions: list[Any]
    similarity: float
    vector_similarity: float
    term_similarity: float
    doc_type_kwd: str
    mom_id: str
    row_id: None
    highlight: str | None = Field(default=None, description="with highlight: true")


class SearchChunk(BaseModel):
    """A chunk found by the dataset search routes (the retriever's stored field names)."""

    chunk_id: str
    content_ltks: str
    content_with_weight: str
    doc_id: str
    docnm_kwd: str
    kb_id: str
    important_kwd: list[str]
    question_kwd: list[str]
    tag_kwd: list[str]
    image_id: str
    similarity: float
    vector_similarity: float
    term_similarity: float
    positions: list[Any]
    doc_type_kwd: str
    mom_id: str


class DocAgg(BaseModel):
    doc_name: str
    doc_id: str
    count: int


class Retrieved(BaseModel):
    total: int
    chunks: list[Hit]
    doc_aggs: list[DocAgg]


class Searched(BaseModel):
    total: int
    chunks: list[SearchChunk]
    doc_aggs: list[DocAgg]
    labels: None


class Chat(Times):
    id: str
    name: str
    description: str
    icon: str
    dataset_ids: list[str]
    kb_names: list[str]
    language: str
    llm_id: str
    llm_setting: dict[str, Any]
    prompt_config: dict[str, Any]
    prompt_type: str
    similarity_threshold: float
    vector_similarity_weight: float
    top_n: int
    top_k: int
    rerank_id: str
    status: str
    tenant_id: str


class SessionMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    id: str | None = Field(default=None, description="the recorded turn (absent on the prologue)")
    created_at: float | None = None
    reference: list[dict[str, Any]] | None = None
    thumbup: bool | None = None
    feedback: str | None = None


class Session(Times):
    id: str
    chat_id: str
    name: str
    user_id: str
    messages: list[SessionMessage]
    reference: list[dict[str, Any]]
    avatar: str | None = Field(default=None, description="GET by id only: the chat's icon")


class Answer(BaseModel):
    """A non-stream completion's `data` (a stream sends the same fields in `data:` events)."""

    answer: str
    reference: dict[str, Any]
    prompt: str
    created_at: float
    audio_binary: None
    id: str
    session_id: str
    chat_id: str | None = Field(default=None, description="absent on a chat-less completion")


class Batch(BaseModel):
    """A batch only partly done: how many, and why the others were not."""

    success_count: int
    errors: list[str] | None = None


class IngestionLog(Times):
    id: str
    document_id: str
    tenant_id: str
    kb_id: str
    pipeline_id: None
    pipeline_title: str
    parser_id: str
    document_name: str
    document_suffix: str
    document_type: str
    source_from: str
    progress: float
    progress_msg: str
    process_begin_at: str | None
    process_duration: float
    dsl: dict[str, Any]
    task_type: str
    operation_status: str = Field(description='"0".."4": UNSTART RUNNING CANCEL DONE FAIL')
    avatar: None
    status: str


class IngestionPage(BaseModel):
    total: int
    logs: list[IngestionLog]


class IngestionSummary(BaseModel):
    doc_num: int
    chunk_num: int
    token_num: int
    status: dict[str, int] = Field(description="`<state>_count` per run state")


class EmbeddingCheck(BaseModel):
    summary: dict[str, Any]
    results: list[dict[str, Any]]


class TagCount(BaseModel):
    value: str
    count: int


class MetadataUpdated(BaseModel):
    updated: int
    matched_docs: int


class DocumentPage(BaseModel):
    total: int
    docs: list[Document]


class ChunkPage(BaseModel):
    total: int
    chunks: list[Chunk]
    doc: Document


class ChatPage(BaseModel):
    chats: list[Chat]
    total: int
