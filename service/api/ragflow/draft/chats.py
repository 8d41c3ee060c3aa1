"""The draft's `/api/v1/chat`, `/chat/{id}/session` and `/chat/{id}/session/{sid}/completion`, over the body
readers, domain calls and views of `/chats`. A chat that is not the caller's is a 102 here (v0.27 answers 109)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession

import service.api.ragflow.chats as v027_chats
import service.api.ragflow.sessions as v027_sessions
from service.api.ragflow.completions import complete
from service.api.ragflow.datasets import render as render_datasets
from service.api.ragflow.draft.inputs import draft_page, id_list
from service.api.ragflow.draft.shapes import brief_knowledgebase, chat_view, raw_knowledgebase
from service.api.ragflow.envelope import DATA, Rejected, fail, ok
from service.api.ragflow.schemas import json_body, orderby, text_arg
from service.domain import assistants, conversations, datasets
from service.domain.answering import Answerer
from service.domain.pages import Page
from service.errors import NotFound
from service.providers.llm import ModelRegistry
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Assistant

Knowledgebase = Callable[[dict[str, Any]], dict[str, Any]]
# The draft's `llm` defaults: RAGFlow's sampling settings and a 512-token answer.
LLM_DEFAULTS = {**assistants.DEFAULT_LLM_SETTING, "max_tokens": 512}


async def provide_chat(
    db: NamedDependency[AsyncSession], tenant: NamedDependency[str], chat_id: FromPath[str]
) -> Assistant:
    return await assistants.get_assistant(db, tenant, chat_id)  # 102 `You don't own the chat <id>`


CHAT = {"assistant": Provide(provide_chat)}


async def render(db: AsyncSession, tenant: str, rows: list[Assistant], shape: Knowledgebase) -> list[dict[str, Any]]:
    """Chats in the draft's shape, each dataset of theirs in `shape` (one query for all of them)."""
    views = await v027_chats.render(db, rows)
    wanted = sorted({dataset_id for view in views for dataset_id in view["dataset_ids"]})
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        spec = datasets.DatasetQuery(Page.numbered(1, len(wanted)), ids=wanted)
        rows_found, _ = await datasets.list_datasets(db, tenant, spec)
        found = {view["id"]: view for view in await render_datasets(db, rows_found)}
    return [chat_view(view, [shape(found[i]) for i in view["dataset_ids"] if i in found]) for view in views]


def chat_query(request: Request[Any, Any, Any]) -> assistants.AssistantQuery:
    order, desc = orderby(request, ("create_time", "update_time", "name"))
    chat_id, name = (text_arg(request.query_params.get(key) or "") or None for key in ("id", "name"))
    return assistants.AssistantQuery(draft_page(request), order, desc, chat_id, name)


class DraftChatController(Controller):
    path = "/chat"
    dependencies = CHAT

    @post("/", status_code=200)
    async def create_chat(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        models: NamedDependency[ModelRegistry],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        changes, info = v027_chats.chat_fields(await json_body(request), create=True)
        changes["llm_setting"] = {**LLM_DEFAULTS, **changes.get("llm_setting", {})}
        config = v027_chats.new_config(v027_chats.checked_models(models, changes), settings.default_llm)
        info.setdefault("description", v027_chats.DEFAULT_DESCRIPTION)
        try:
            assistant = await assistants.create_assistant(db, tenant, info.pop("name"), config, **info)
        except assistants.DuplicateName:
            raise Rejected("Duplicated chat name in creating dataset.") from None  # sic: the draft's words
        return ok((await render(db, tenant, [assistant], brief_knowledgebase))[0])

    @get("/")
    async def list_chats(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        spec = chat_query(request)
        rows, _ = await assistants.list_assistants(db, tenant, spec)
        if not rows and (spec.id or spec.name):
            raise NotFound("The chat doesn't exist")
        return ok(await render(db, tenant, rows, raw_knowledgebase))

    @put("/{chat_id:str}", status_code=200)
    async def update_chat(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        models: NamedDependency[ModelRegistry],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        """The given `llm` and `prompt` keys are merged into the stored ones (the draft sends partial objects)."""
        body = await json_body(request, required=False)
        try:
            await v027_chats.update_chat(db, tenant, assistant.id, body, models, deep=True)
        except assistants.DuplicateName:
            raise Rejected("Duplicated chat name in updating dataset.") from None
        return ok()

    @delete("/", status_code=200)
    async def delete_chats(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        """The caller's chats among `ids` are deleted; the others are named after that (code 102)."""
        ids = id_list(await json_body(request, required=False), "ids")
        if not ids:
            raise Rejected("ids are required")
        batch = await assistants.delete_assistants(db, tenant, ids, delete_all=False)
        return fail(DATA, "; ".join(batch.errors)) if batch.errors else ok()


class DraftSessionController(Controller):
    path = "/chat/{chat_id:str}/session"
    dependencies = CHAT

    @post("/", status_code=200)
    async def create_session(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        body = await json_body(request, required=False)
        name = v027_sessions.session_name(body.get("name", v027_sessions.DEFAULT_NAME))
        session = await conversations.create_session(db, assistant, name, tenant)
        return ok((await v027_sessions.render(db, assistant, [session]))[0])

    @get("/")
    async def list_sessions(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        rows, _ = await conversations.list_sessions(db, assistant, v027_sessions.session_query(request))
        return ok(await v027_sessions.render(db, assistant, rows))

    @put("/{session_id:str}", status_code=200)
    async def update_session(
        self,
        session_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        body = await json_body(request, required=False)
        session = await conversations.get_session(db, assistant, session_id)
        v027_sessions.check_name_only(body)
        if body.get("name") is not None:
            await conversations.rename_session(db, session, v027_sessions.session_name(body["name"]))
        return ok()

    @delete("/{session_id:str}", status_code=200)
    async def delete_session(
        self, session_id: FromPath[str], db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        batch = await conversations.delete_sessions(db, assistant, [session_id], delete_all=False)
        return fail(DATA, batch.errors[0]) if batch.errors else ok()

    @post("/{session_id:str}/completion", status_code=200)
    async def completion(
        self,
        session_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        assistant: NamedDependency[Assistant],
        models: NamedDependency[ModelRegistry],
        answerer: NamedDependency[Answerer],
        settings: NamedDependency[Settings],
    ) -> ASGIApp:
        """`{"question", "stream"}`; the stream's answers are cumulative, as RAGFlow's were then (`legacy`)."""
        body = {"legacy": True, **await json_body(request), "chat_id": assistant.id, "session_id": session_id}
        return await complete(request, db, tenant, body, models, answerer, settings.default_llm)
