"""Chat histories: `/deployments/{d}/histories` (deployment-wide search) and
`/deployments/{d}/threads/{t}/histories[/{h}[/metadata[/{m}]]]`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.opsbee.lookup import chat_history, history_page
from service.api.opsbee.schemas import history_query, json_body
from service.api.opsbee.views import deleted, history_json, metadata_json, reply
from service.domain import history, threads
from service.domain.deployments import require_kind
from service.domain.history_search import search_histories
from service.runtime import Runtime

HISTORY = "/threads/{thread_id:str}/histories/{history_id:str}"
METADATA = HISTORY + "/metadata/{metadata_id:str}"


class ChatHistoryController(Controller):
    path = "/organizations/{organization_id:str}/deployments/{deployment_id:str}"

    @get("/histories")
    async def list_histories(
        self,
        deployment_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        assistant = await require_kind(db, org, deployment_id, "chat")
        spec = history_query(request)
        rows, total = await search_histories(db, assistant, spec)
        return reply(history_page(org, deployment_id, spec, rows, total))

    @post("/threads/{thread_id:str}/histories", status_code=200)
    async def create_history(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        thread = await threads.get_thread(db, await require_kind(db, org, deployment_id, "chat"), thread_id)
        changes = history.changes_of(await json_body(request), create=True)
        message = await history.create_history(db, thread, changes, runtime.embedder().count_tokens)
        return reply(history_json(await history.view_of(db, message)))

    @get(HISTORY)
    async def get_history(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        return reply(history_json(await history.view_of(db, message)))

    @patch(HISTORY, status_code=200)
    async def update_history(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
        runtime: NamedDependency[Runtime],
    ) -> Response[Any]:
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        changes = history.changes_of(await json_body(request))
        message = await history.update_history(db, message, changes, runtime.embedder().count_tokens)
        return reply(history_json(await history.view_of(db, message)))

    @delete(HISTORY, status_code=200)
    async def delete_history(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        """Answers with the history as it was."""
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        body = history_json(await history.view_of(db, message))
        await history.delete_history(db, message)
        return reply(body)

    @post(HISTORY + "/metadata", status_code=200)
    async def create_metadata(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        body = await json_body(request)
        row = await history.add_metadata(db, message, body.get("key"), body.get("value"))
        return reply(metadata_json(row, deployment_id))

    @patch(METADATA, status_code=200)
    async def update_metadata(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        metadata_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        body = await json_body(request)
        row = await history.get_metadata(db, message, metadata_id)
        row = await history.update_metadata(db, message, row, body.get("key"), body.get("value"))
        return reply(metadata_json(row, deployment_id))

    @delete(METADATA, status_code=200)
    async def delete_metadata(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        history_id: FromPath[str],
        metadata_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        message = await chat_history(db, org, deployment_id, thread_id, history_id)
        await history.delete_metadata(db, message, await history.get_metadata(db, message, metadata_id))
        return reply(deleted("metadata", metadata_id))
