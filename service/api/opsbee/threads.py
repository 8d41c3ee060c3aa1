"""`/opsbee-llm/organizations/{org}/deployments/{d}/threads`: a deployment's threads (sessions)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.schemas import BODY, page_of
from service.api.opsbee.views import deleted, page_json, reply, thread_json
from service.domain import threads
from service.domain.deployments import get_deployment


class ThreadController(Controller):
    path = "/organizations/{organization_id:str}/deployments/{deployment_id:str}/threads"

    @get("/")
    async def list_threads(
        self,
        deployment_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await threads.list_threads(db, await get_deployment(db, org, deployment_id), page)
        items = [thread_json(row) for row in rows]
        paging = page_json(page, len(rows), total)
        return reply({"organization_id": org, "deployment_id": deployment_id, "threads": items, **paging})

    @post("/", status_code=200)
    async def create_thread(
        self,
        deployment_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        assistant = await get_deployment(db, org, deployment_id)
        return reply(thread_json(await threads.create_thread(db, assistant, body.get("name"), body.get("description"))))

    @get("/{thread_id:str}")
    async def get_thread(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        assistant = await get_deployment(db, org, deployment_id)
        return reply(thread_json(await threads.get_thread(db, assistant, thread_id)))

    @patch("/{thread_id:str}", status_code=200)
    async def update_thread(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        thread = await threads.get_thread(db, await get_deployment(db, org, deployment_id), thread_id)
        return reply(thread_json(await threads.update_thread(db, thread, body.get("name"), body.get("description"))))

    @delete("/{thread_id:str}", status_code=200)
    async def delete_thread(
        self,
        deployment_id: FromPath[str],
        thread_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        thread = await threads.get_thread(db, await get_deployment(db, org, deployment_id), thread_id)
        await threads.delete_thread(db, thread)
        return reply(deleted("thread", thread_id))
