"""`/opsbee-llm/organizations/{org}/deployments`: an assistant seen as a deployment (type chat or qa)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.deps import DEPLOYMENT
from service.api.opsbee.schemas import BODY, page_of
from service.api.opsbee.views import deleted, deployment_json, reply
from service.domain import deployments
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Assistant


class DeploymentController(Controller):
    path = "/organizations/{organization_id:str}/deployments"
    dependencies = DEPLOYMENT

    @get("/")
    async def list_deployments(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        page = page_of(request)
        rows, counts, has_next = await deployments.list_deployments(db, org, page)
        items = [deployment_json(row, counts.get(row.id, 0)) for row in rows]
        paging = {"offset": page.offset, "limit": page.limit, "has_next": has_next}  # this list counts no total
        return reply({"organization_id": org, "deployments": items, **paging})

    @post("/", status_code=200)
    async def create_deployment(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        assistant = await deployments.create_deployment(db, org, body, settings.default_llm)
        return reply(deployment_json(assistant, 0))

    @get("/{deployment_id:str}")
    async def get_deployment(
        self, db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
    ) -> Response[Any]:
        return reply(deployment_json(deployment, await deployments.history_count(db, deployment)))

    @patch("/{deployment_id:str}", status_code=200)
    async def update_deployment(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
    ) -> Response[Any]:
        changes = await json_object(request, BODY, required=False)
        deployment = await deployments.update_deployment(db, deployment, changes)
        return reply(deployment_json(deployment, await deployments.history_count(db, deployment)))

    @delete("/{deployment_id:str}", status_code=200)
    async def delete_deployment(
        self, db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
    ) -> Response[Any]:
        await deployments.delete_deployment(db, deployment)
        return reply(deleted("deployment", deployment.id))
