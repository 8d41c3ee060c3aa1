"""The OpenAI-compatible family's operations in the published OpenAPI document (see service/api/openapi.py).

OpenAI's own objects; errors `{"error": {message, type, param, code}, "code", "message"}` with real HTTP statuses
(errors.py). Documentation only: the bodies are read and checked by schemas.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.api.openai.agents import agent_chat_completions
from service.api.openai.chat import chat_completions, ragflow_chat_completions
from service.api.openai.embeddings import create_embeddings
from service.api.openai.models import list_models, retrieve_model
from service.api.openai.schemas import MAX_EMBEDDING_INPUTS
from service.api.openapi import Family, Op

# --- requests --------------------------------------------------------------------------------------------------


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None


class ReferenceMetadata(BaseModel):
    include: bool = False
    fields: list[str] | None = None


class ChatCompletionRequest(BaseModel):
    """System and developer messages are dropped (the assistant's own prompt is used); the last must be the user's.
    `reference`, `reference_metadata` and `metadata_condition` are RAGFlow's extensions, top-level or in
    `extra_body`."""

    model: str = Field(
        description="`/v1`: the assistant's id or name; RAGFlow's face: `model` (the chat's own) or a model name",
        examples=["model"],
    )
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: Literal[1] | None = None
    reference: bool = False
    reference_metadata: ReferenceMetadata | None = None
    metadata_condition: dict[str, Any] | None = None
    extra_body: dict[str, Any] | None = None


class EmbeddingRequest(BaseModel):
    model: str = Field(description="all-MiniLM-L6-v2, with or without @Builtin", examples=["all-MiniLM-L6-v2"])
    input: str | list[str] = Field(description=f"one text, or up to {MAX_EMBEDDING_INPUTS}")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)


# --- replies ---------------------------------------------------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str
    reference: list[dict[str, Any]] | None = Field(default=None, description="with reference: true")


class Choice(BaseModel):
    message: AssistantMessage
    logprobs: None
    finish_reason: Literal["stop"]
    index: int


class ChatCompletion(BaseModel):
    """The non-stream reply; with `stream: true`, `chat.completion.chunk` events, then `data:[DONE]`."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    usage: Usage
    choices: list[Choice]


class Model(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    name: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[Model]


class Embedding(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(description="base64: little-endian float32 bytes")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class Error(BaseModel):
    """OpenAI's error, plus RAGFlow's `code` (101 argument, 102 data, 109 auth, 100 internal) and `message`."""

    error: ErrorDetail
    code: int
    message: str


CHAT = Op(ChatCompletion, ChatCompletionRequest, stream=True)

OPENAI = Family(
    name="openai",
    operations={
        ragflow_chat_completions: CHAT,
        chat_completions: CHAT,
        agent_chat_completions: Op(
            ChatCompletion,
            ChatCompletionRequest,
            stream=True,
            description="A RAGFlow agent: the last user message is its query; `session_id` continues a session",
        ),
        list_models: Op(ModelList),
        retrieve_model: Op(Model),
        create_embeddings: Op(EmbeddingList, EmbeddingRequest),
    },
    error=Error,
    error_statuses={
        400: "Invalid request",
        401: "No valid API key",
        403: "Forbidden",
        404: "No such assistant, model or route",
        413: "Request too large",
        502: "The upstream LLM failed",
    },
)
