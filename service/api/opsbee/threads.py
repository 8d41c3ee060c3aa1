"""`/opsbee-llm/organizations/{org}/deployments/{d}/threads`: a deployment's threads (sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.deps import THREAD
from service.api.opsbee.schemas import BODY, page_of
from service.api.opsbee.views import deleted, page_json, reply, thread_json
from service.domain import threads

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession


class ThreadController(Controller):
    path = "/organizations/{organization_id:str}/deployments/{deployment_id:str}/threads"
    dependencies = THREAD

    @get("/")
    async def list_threads(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
        deployment: NamedDependency[Assistant],
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await threads.list_threads(db, deployment, page)
        items = [thread_json(row) for row in rows]
        paging = page_json(page, len(rows), total)
        return reply({"organization_id": org, "deployment_id": deployment.id, "threads": items, **paging})

    @post("/", status_code=200)
    async def create_thread(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        thread = await threads.create_thread(db, deployment, body.get("name"), body.get("description"))
        return reply(thread_json(thread))

    @get("/{thread_id:str}")
    async def get_thread(self, thread: NamedDependency[ChatSession]) -> Response[Any]:
        return reply(thread_json(thread))

    @patch("/{thread_id:str}", status_code=200)
    async def update_thread(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], thread: NamedDependency[ChatSession]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        return reply(thread_json(await threads.update_thread(db, thread, body.get("name"), body.get("description"))))

    @delete("/{thread_id:str}", status_code=200)
    async def delete_thread(
        self, db: NamedDependency[AsyncSession], thread: NamedDependency[ChatSession]
    ) -> Response[Any]:
        await threads.delete_thread(db, thread)
        return reply(deleted("thread", thread.id))
