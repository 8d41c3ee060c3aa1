"""Chat completions: RAGFlow's `/api/v1/{openai,chats_openai}/{chat_id}/chat/completions` and `/v1/chat/completions`.

Both answer through `domain.answering` (channel "openai", stateless: no session, one message row per call).
Non-stream replies are a `chat.completion`; streams are `chat.completion.chunk` events carrying only deltas,
then one final chunk (`finish_reason: "stop"`, `usage`, and with `reference` requested `delta.reference`
+ `delta.final_content`) that never repeats the answer as content, then `data:[DONE]`.

A stream that fails after it started (the upstream broke off, timed out, or sent an error) ends with an error
event instead of the final chunk: `data:{"error": {message, type, param, code}, "code", "message"}`, the body
a failed request gets, which the openai SDKs raise as `APIError`; then `data:[DONE]`. No error text is sent as
content and no `finish_reason` claims the answer is complete (before, a client could not tell the two apart).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.openai.errors import ARGUMENT, ApiError, as_api_error, error_body, internal_error, invalid
from service.api.openai.schemas import ChatRequest, json_object, parse_chat
from service.api.references import cited_documents, reference_chunks
from service.api.sse import as_asgi, data_event, event_stream
from service.domain.answering import Answer, Answerer, Question
from service.domain.assistants import AssistantConfig, config_of, find_assistant, get_assistant
from service.domain.llms import chosen_llm
from service.domain.metadata import meta_fields_of
from service.errors import DomainError, NotFound, Unsupported
from service.providers.llm import ModelRegistry

if TYPE_CHECKING:
    from service.db.models import Assistant

log = logging.getLogger(__name__)

CHANNEL = "openai"
PLACEHOLDER = "model"  # RAGFlow: "use the chat's own model"
RAGFLOW_PATHS = [
    "/api/v1/chats_openai/{chat_id:str}/chat/completions",
    "/api/v1/openai/{chat_id:str}/chat/completions",
]


@dataclass
class Completion:
    """What every chunk of one reply shares."""

    id: str
    model: str  # echoed as requested
    created: int


def model_override(models: ModelRegistry, requested: str, assistant: Assistant, config: AssistantConfig) -> str | None:
    """None to answer with the assistant's own model, else the configured `name@provider` asked for."""
    if requested in (PLACEHOLDER, config.llm_id, assistant.id, assistant.name):
        return None
    try:
        return chosen_llm(models, requested)
    except Unsupported as exc:
        raise invalid(exc.message, param="model", ragflow_code=ARGUMENT, code="model_not_found") from None


def question_for(tenant: str, assistant: Assistant, chat: ChatRequest) -> Question:
    return Question(
        tenant,
        assistant.id,
        config_of(assistant),
        chat.question,
        channel=CHANNEL,
        history=chat.history,
        sampling=chat.sampling,
        metadata_condition=chat.metadata_condition,
    )


@post(RAGFLOW_PATHS, status_code=200)
async def ragflow_chat_completions(
    request: Request[Any, Any, Any],
    chat_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    models: NamedDependency[ModelRegistry],
    answerer: NamedDependency[Answerer],
    sessions: NamedDependency[async_sessionmaker[AsyncSession]],
) -> ASGIApp:
    chat = parse_chat(await json_object(request))
    assistant = await get_assistant(db, tenant, chat_id)
    question = question_for(tenant, assistant, chat)
    question.llm_id = model_override(models, chat.model, assistant, question.config)
    await db.commit()  # an answer can take a minute: hand the connection back first
    completion = Completion(f"chatcmpl-{assistant.id}", chat.model, int(time.time()))
    return await respond(request, Replying(answerer, sessions, question, chat, completion))


@post("/v1/chat/completions", status_code=200)
async def chat_completions(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    tenant: NamedDependency[str],
    answerer: NamedDependency[Answerer],
    sessions: NamedDependency[async_sessionmaker[AsyncSession]],
) -> ASGIApp:
    """`model` names the assistant (its id or its name), as listed by `GET /v1/models`."""
    chat = parse_chat(await json_object(request))
    try:
        assistant = await find_assistant(db, tenant, chat.model)
    except NotFound as exc:
        raise ApiError(404, exc.message, param="model", code="model_not_found") from None
    question = question_for(tenant, assistant, chat)
    await db.commit()
    completion = Completion(f"chatcmpl-{uuid.uuid4().hex}", chat.model, int(time.time()))
    return await respond(request, Replying(answerer, sessions, question, chat, completion))


@dataclass
class Replying:
    """One reply in the making: who answers, what was asked, and what every chunk of it shares."""

    answerer: Answerer
    sessions: async_sessionmaker[AsyncSession]  # for the cited documents' metadata, after the answer
    question: Question
    chat: ChatRequest
    completion: Completion


async def respond(request: Request[Any, Any, Any], reply: Replying) -> ASGIApp:
    if reply.chat.stream:
        return event_stream(stream_events(reply))
    answer = await reply.answerer.complete(reply.question)  # an UpstreamError here becomes a 502
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if reply.chat.reference:
        message["reference"] = await formatted_reference(reply, answer)
    completion = reply.completion
    body = {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "usage": usage_json(answer),
        "choices": [{"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}],
    }
    return as_asgi(request, Response(body, status_code=200))


async def stream_events(reply: Replying) -> AsyncIterator[bytes]:
    answer: Answer | None = None
    try:
        async for event in reply.answerer.ask(reply.question):
            if isinstance(event, Answer):
                answer = event
            elif event.text:
                yield data_event(chunk_json(reply.completion, {"content": event.text}))
        if answer is None:
            raise RuntimeError("the answering layer ends every answer with an Answer")
    except DomainError as exc:  # already recorded as a failed turn by the answerer
        yield data_event(error_body(as_api_error(exc)))
    except Exception as exc:
        log.exception("chat completion stream failed")
        yield data_event(error_body(internal_error(exc)))
    else:
        yield data_event(await final_chunk(reply, answer))
    yield data_event("[DONE]")


async def final_chunk(reply: Replying, answer: Answer) -> dict[str, Any]:
    """`finish_reason: "stop"` and the usage; the references when asked for, never the answer again."""
    final: dict[str, Any] = {}
    if reply.chat.reference:
        final = {"reference": await formatted_reference(reply, answer), "final_content": answer.text}
    return chunk_json(reply.completion, final, "stop", usage_json(answer))


def chunk_json(
    completion: Completion, delta: dict[str, Any], finish_reason: str | None = None, usage: dict[str, int] | None = None
) -> dict[str, Any]:
    base = {"content": None, "role": "assistant", "function_call": None, "tool_calls": None, "reasoning_content": None}
    return {
        "id": completion.id,
        "choices": [{"delta": {**base, **delta}, "finish_reason": finish_reason, "index": 0, "logprobs": None}],
        "created": completion.created,
        "model": completion.model,
        "object": "chat.completion.chunk",
        "system_fingerprint": "",
        "usage": usage,
    }


def usage_json(answer: Answer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


async def formatted_reference(reply: Replying, answer: Answer) -> list[dict[str, Any]]:
    """RAGFlow's formatted chunks; with `reference_metadata.include`, each with its document's metadata."""
    wanted = reply.chat.reference_metadata
    metadata = None
    if wanted.include:
        async with reply.sessions() as db:
            metadata = await meta_fields_of(db, cited_documents(answer.reference), wanted.fields)
    return reference_chunks(answer.reference, metadata)
