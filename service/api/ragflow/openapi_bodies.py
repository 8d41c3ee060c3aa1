"""The RAGFlow family's request bodies that have no validating pydantic model of their own (schemas.py has the
others), for the published OpenAPI document: each mirrors the hand-written reader of its route.

Documentation only: no handler validates with these, so RAGFlow's own error texts stay as they are.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DocumentIds(BaseModel):
    document_ids: list[str]


class ChunkBody(BaseModel):
    content: str | None = None
    important_keywords: list[str] | None = None
    questions: list[str] | None = None
    tag_kwd: list[str] | None = None
    available: bool | None = None
    positions: list[Any] | None = None


class ChunkAvailability(BaseModel):
    chunk_ids: list[str]
    available: bool | None = None
    available_int: Literal[0, 1] | None = Field(default=None, description="the older spelling of `available`")


class ChunkDelete(BaseModel):
    chunk_ids: list[str] | None = None
    delete_all: bool = False


class ChatBody(BaseModel):
    """v0.27's fields; the older SDKs' `avatar`, `knowledgebases`, `llm` and `prompt` are read too."""

    name: str | None = None
    icon: str | None = None
    description: str | None = None
    dataset_ids: list[str] | None = None
    llm_id: str | None = None
    llm_setting: dict[str, Any] | None = None
    prompt_config: dict[str, Any] | None = None
    similarity_threshold: float | None = None
    vector_similarity_weight: float | None = None
    top_n: int | None = None
    top_k: int | None = None
    rerank_id: str | None = None
    avatar: str | None = None
    knowledgebases: list[Any] | None = None
    llm: dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None


class IdsDelete(BaseModel):
    ids: list[str] | None = None
    delete_all: bool = False


class ChatDelete(IdsDelete):
    chat_id: str | None = Field(default=None, description="the older SDKs' one chat")


class SessionBody(BaseModel):
    name: str | None = None
    user_id: str | None = None


class Feedback(BaseModel):
    thumbup: bool | None = None
    feedback: str | None = None


class Message(BaseModel):
    role: str
    content: str


class CompletionBody(BaseModel):
    """`messages` (or `question`); `chat_id` names the chat (none: the default model, no session)."""

    chat_id: str | None = None
    messages: list[Message] | None = None
    question: str | None = None
    stream: bool = True
    session_id: str | None = None
    user_id: str | None = None
    llm_id: str | None = None
    selected_kb_ids: list[str] | None = None
    doc_ids: list[str] | str | None = None
    metadata_condition: dict[str, Any] | None = None
    pass_all_history_messages: bool = False
    legacy: bool = Field(default=False, description="cumulative answers in the stream, as before v0.20")
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    max_tokens: int | None = None


class RetrievalBody(BaseModel):
    dataset_ids: list[str]
    question: str
    document_ids: list[str] | None = None
    page: int = 1
    page_size: int = Field(default=30, le=100)
    similarity_threshold: float = Field(default=0.2, ge=0, le=1)
    vector_similarity_weight: float | None = Field(
        default=None, ge=0, le=1, description="omitted: the first dataset's own weight, else the server's default"
    )
    top_k: int = Field(default=1024, ge=1, le=10000)
    highlight: bool = False
    metadata_condition: dict[str, Any] | None = None
    rerank_id: str | None = Field(default=None, description="refused: this server has no reranker")


class RelatedQuestions(BaseModel):
    question: str
    industry: str | None = None
    llm_id: str | None = None


class TagsDelete(BaseModel):
    tags: list[str]


class TagRename(BaseModel):
    from_tag: str
    to_tag: str


class MetadataSelector(BaseModel):
    document_ids: list[str] | None = None
    metadata_condition: dict[str, Any] | None = None


class MetadataUpdate(BaseModel):
    key: str
    value: Any


class MetadataDelete(BaseModel):
    key: str
    value: Any = None


class MetadataBatch(BaseModel):
    selector: MetadataSelector | None = None
    updates: list[MetadataUpdate] = Field(default_factory=list)
    deletes: list[MetadataDelete] = Field(default_factory=list)


class DocumentMetadataConfig(BaseModel):
    metadata: Any


class EmbeddingCheckBody(BaseModel):
    embd_id: str
    check_num: int = Field(default=5, ge=1)
