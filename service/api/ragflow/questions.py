"""Related search terms for a question: `POST /sessions/related_questions` (the SDK route) and
`POST /chat/recommendation` (v0.27's RESTful one). Each asks the default model, or the `llm_id` given (Nectar's
extension: RAGFlow always uses the tenant's default chat model)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from service.api.ragflow.envelope import Rejected, ok, ok_message
from service.api.ragflow.schemas import json_body
from service.domain.llms import chosen_llm
from service.domain.related_questions import related_questions
from service.errors import Invalid
from service.providers.llm import ModelRegistry
from service.settings import Settings


async def _terms(body: dict[str, Any], models: ModelRegistry, settings: Settings) -> list[str]:
    industry = body.get("industry") or ""
    if not isinstance(industry, str):
        raise Invalid("`industry` should be a string.")
    requested = body.get("llm_id")
    if requested is not None and not isinstance(requested, str):
        raise Invalid("`llm_id` should be a string.")
    llm_id = chosen_llm(models, requested) if requested else settings.default_llm
    return await related_questions(models, llm_id, body["question"], industry)


def _question_given(body: dict[str, Any]) -> bool:
    return isinstance(body.get("question"), str) and bool(body["question"])


@post("/sessions/related_questions", status_code=200)
async def session_related_questions(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[str],
    models: NamedDependency[ModelRegistry],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    body = await json_body(request, required=False)
    if not _question_given(body):
        raise Rejected("`question` is required.")
    return ok(await _terms(body, models, settings))


@post("/chat/recommendation", status_code=200)
async def chat_recommendation(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[str],
    models: NamedDependency[ModelRegistry],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    body = await json_body(request, required=False)
    if not _question_given(body):
        raise Invalid("required argument are missing: question")
    return ok_message(await _terms(body, models, settings))
