"""Chat and QA histories: one controller, a subclass per kind saying where a history of that kind lives.

Chat: `/deployments/{d}/threads/{t}/histories[/{h}[/metadata[/{m}]]]`, listed deployment-wide at
`GET /deployments/{d}/histories`. QA: `/deployments/{d}/qa_histories[/{h}[/metadata[/{m}]]]`, listed at its
`/`, kept in the deployment's one implicit thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.schemas import BODY, history_query
from service.api.opsbee.views import deleted, history_json, history_page, metadata_json, qa_thread_json, reply
from service.domain import history, threads
from service.domain.deployments import require_kind
from service.domain.history_search import search_histories
from service.providers.base import EmbedderFor

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession, Message

DEPLOYMENT = "/organizations/{organization_id:str}/deployments/{deployment_id:str}"
HISTORY = "/{history_id:str}"
METADATA = HISTORY + "/metadata/{metadata_id:str}"


# --- what a path names, each checked against the one before it (Litestar resolves each once a request) --------


async def chat_deployment(
    deployment_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
) -> Assistant:
    return await require_kind(db, org, deployment_id, "chat")


async def qa_deployment(
    deployment_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
) -> Assistant:
    return await require_kind(db, org, deployment_id, "qa")


async def named_thread(
    thread_id: FromPath[str], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
) -> ChatSession:
    return await threads.get_thread(db, deployment, thread_id)


async def implicit_thread(db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]) -> ChatSession:
    """Made on first use, so only creating a history asks for it."""
    return await threads.qa_thread(db, deployment)


async def thread_history(
    history_id: FromPath[str],
    db: NamedDependency[AsyncSession],
    deployment: NamedDependency[Assistant],
    thread: NamedDependency[ChatSession],
) -> Message:
    return await history.get_history(db, deployment, history_id, thread)


async def deployment_history(
    history_id: FromPath[str], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
) -> Message:
    """By deployment alone: asking for the implicit thread would create it."""
    return await history.get_history(db, deployment, history_id)


def lookups(
    deployment: Callable[..., Any], thread: Callable[..., Any], message: Callable[..., Any]
) -> Mapping[str, Provide]:
    """The controller-level dependencies a `HistoryController` subclass provides, from its three finders."""
    return {"deployment": Provide(deployment), "thread": Provide(thread), "message": Provide(message)}


async def _listed(
    db: AsyncSession, org: str, deployment: Assistant, request: Request[Any, Any, Any], **extra: Any
) -> Response[Any]:
    spec = history_query(request)
    rows, total = await search_histories(db, deployment, spec)
    return reply(history_page(org, deployment.id, spec, rows, total, **extra))


# --- the handlers ------------------------------------------------------------------------------------------------


class HistoryController(Controller):
    """What a history of either kind answers. A subclass sets `path` and the dependencies `deployment`, `thread`
    (where a new history goes) and `message` (the history `{history_id}` names); Litestar collects the handlers
    through `dir()`, so each subclass serves all of them."""

    @post("/", status_code=200)
    async def create_history(
        self,
        thread: NamedDependency[ChatSession],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        changes = history.changes_of(await json_object(request, BODY, required=False), create=True)
        message = await history.create_history(db, thread, changes, embedder(None).count_tokens)
        return reply(history_json(await history.view_of(db, message)))

    @get(HISTORY)
    async def get_history(self, message: NamedDependency[Message], db: NamedDependency[AsyncSession]) -> Response[Any]:
        return reply(history_json(await history.view_of(db, message)))

    @patch(HISTORY, status_code=200)
    async def update_history(
        self,
        message: NamedDependency[Message],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        embedder: NamedDependency[EmbedderFor],
    ) -> Response[Any]:
        changes = history.changes_of(await json_object(request, BODY, required=False))
        message = await history.update_history(db, message, changes, embedder(None).count_tokens)
        return reply(history_json(await history.view_of(db, message)))

    @delete(HISTORY, status_code=200)
    async def delete_history(
        self, message: NamedDependency[Message], db: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """Answers with the history as it was."""
        body = history_json(await history.view_of(db, message))
        await history.delete_history(db, message)
        return reply(body)

    @post(HISTORY + "/metadata", status_code=200)
    async def create_metadata(
        self, message: NamedDependency[Message], request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        row = await history.add_metadata(db, message, body.get("key"), body.get("value"))
        return reply(metadata_json(row, row.assistant_id))

    @patch(METADATA, status_code=200)
    async def update_metadata(
        self,
        message: NamedDependency[Message],
        metadata_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        row = await history.get_metadata(db, message, metadata_id)
        row = await history.update_metadata(db, message, row, body.get("key"), body.get("value"))
        return reply(metadata_json(row, row.assistant_id))

    @delete(METADATA, status_code=200)
    async def delete_metadata(
        self, message: NamedDependency[Message], metadata_id: FromPath[str], db: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        await history.delete_metadata(db, message, await history.get_metadata(db, message, metadata_id))
        return reply(deleted("metadata", metadata_id))


class ChatHistoryController(HistoryController):
    """A chat history lives in a thread the path names."""

    path = DEPLOYMENT + "/threads/{thread_id:str}/histories"
    dependencies = lookups(chat_deployment, named_thread, thread_history)


class QaHistoryController(HistoryController):
    """A QA history lives in the deployment's implicit thread; the list names that thread."""

    path = DEPLOYMENT + "/qa_histories"
    dependencies = lookups(qa_deployment, implicit_thread, deployment_history)

    @get("/")
    async def list_histories(
        self,
        deployment: NamedDependency[Assistant],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        extra = qa_thread_json(await threads.find_qa_thread(db, deployment))
        return await _listed(db, org, deployment, request, **extra)


@get(DEPLOYMENT + "/histories", dependencies={"deployment": Provide(chat_deployment)})
async def list_chat_histories(
    deployment: NamedDependency[Assistant],
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    org: NamedDependency[str],
) -> Response[Any]:
    """Every chat history of the deployment, whichever thread holds it."""
    return await _listed(db, org, deployment, request)
