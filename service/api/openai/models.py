"""`GET /v1/models`: every published assistant of the tenant is a model an OpenAI client can chat with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.openai.errors import ApiError
from service.domain.assistants import AssistantQuery, find_assistant, list_assistants
from service.domain.pages import Page
from service.errors import NotFound

if TYPE_CHECKING:
    from service.db.models import Assistant

OWNER = "nectar"
PAGE = 100


def model_json(assistant: Assistant) -> dict[str, Any]:
    return {
        "id": assistant.id,
        "object": "model",
        "created": int(assistant.created_at.timestamp()),
        "owned_by": OWNER,
        "name": assistant.name,
    }


@get("/v1/models")
async def list_models(db: NamedDependency[AsyncSession], tenant: NamedDependency[str]) -> Response[Any]:
    assistants: list[Assistant] = []
    page = 1
    while True:
        rows, total = await list_assistants(db, tenant, AssistantQuery(page=Page.numbered(page, PAGE), desc=False))
        assistants += rows
        if not rows or len(assistants) >= total:
            break
        page += 1
    data = [model_json(assistant) for assistant in assistants if assistant.published_config is not None]
    return Response({"object": "list", "data": data}, status_code=200)


@get("/v1/models/{model_id:str}")
async def retrieve_model(
    model_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
) -> Response[Any]:
    try:
        assistant = await find_assistant(db, tenant, model_id)
    except NotFound as exc:
        raise ApiError(404, exc.message, param="model", code="model_not_found") from None
    if assistant.published_config is None:
        raise ApiError(404, f"The model `{model_id}` does not exist", param="model", code="model_not_found")
    return Response(model_json(assistant), status_code=200)
