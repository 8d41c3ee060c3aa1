"""`/opsbee-llm/organizations/{org}/tags`: the organization's history tags."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.body import json_object
from service.api.opsbee.schemas import BODY, page_of
from service.api.opsbee.views import deleted, page_json, reply, tag_json
from service.domain import tags


class TagController(Controller):
    path = "/organizations/{organization_id:str}/tags"

    @get("/")
    async def list_tags(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        page = page_of(request)
        rows, total = await tags.list_tags(db, org, page)
        paging = page_json(page, len(rows), total)
        del paging["total"]  # the SDK's tag list has none
        return reply({"organization_id": org, "tags": [tag_json(row) for row in rows], **paging})

    @post("/", status_code=200)
    async def create_tag(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        body = await json_object(request, BODY, required=False)
        tag = await tags.create_tag(db, org, body.get("name"), body.get("description"), body.get("color"))
        return reply(tag_json(tag))

    @get("/{tag_id:str}")
    async def get_tag(
        self, tag_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        return reply(tag_json(await tags.get_tag(db, org, tag_id)))

    @patch("/{tag_id:str}", status_code=200)
    async def update_tag(
        self,
        tag_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        org: NamedDependency[str],
    ) -> Response[Any]:
        tag = await tags.get_tag(db, org, tag_id)
        return reply(tag_json(await tags.update_tag(db, tag, await json_object(request, BODY, required=False))))

    @delete("/{tag_id:str}", status_code=200)
    async def delete_tag(
        self, tag_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
    ) -> Response[Any]:
        await tags.delete_tag(db, await tags.get_tag(db, org, tag_id))
        return reply(deleted("tag", tag_id))
