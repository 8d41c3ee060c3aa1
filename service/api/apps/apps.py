"""`/apps`: create, read, draft config, publish / cancel / history, the debug conversation's long-term memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.apps.deps import APP
from service.api.apps.envelope import ok
from service.api.apps.schemas import BODY, MAX_HISTORY_PAGE, config_changes, new_app, page_of
from service.api.apps.views import app_json, history_json, paginated
from service.api.body import json_object
from service.domain import apps
from service.providers.llm import ModelRegistry
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Assistant


async def render(db: AsyncSession, app: Assistant) -> dict[str, Any]:
    return app_json(app, await apps.latest_published(db, app))


class AppController(Controller):
    path = "/"
    dependencies = APP

    @post("/", status_code=200)
    async def create_app(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        settings: NamedDependency[Settings],
        models: NamedDependency[ModelRegistry],
    ) -> Response[Any]:
        """Extension of the seed: a new app has a draft only (debug answers; other faces once published)."""
        spec = new_app(await json_object(request, BODY), settings.default_llm)
        spec.config.llm_id = apps.check_llm(models, spec.config.llm_id)
        app = await apps.create_app(db, tenant, spec.name, spec.config, **spec.info)
        return ok(await render(db, app), "创建AI应用成功")

    @get("/{app_id:str}")
    async def get_app(self, db: NamedDependency[AsyncSession], app: NamedDependency[Assistant]) -> Response[Any]:
        return ok(await render(db, app))

    @post(["/{app_id:str}/config", "/{app_id:str}/draft-app-config"], status_code=200)
    async def update_config(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
        models: NamedDependency[ModelRegistry],
    ) -> Response[Any]:
        changes = config_changes(await json_object(request, BODY))
        if changes.llm_id is not None:
            changes.llm_id = apps.check_llm(models, changes.llm_id)
        await apps.update_draft(db, app, changes)
        return ok(message="更新AI应用配置成功")

    @post("/{app_id:str}/publish", status_code=200)
    async def publish(self, db: NamedDependency[AsyncSession], app: NamedDependency[Assistant]) -> Response[Any]:
        entry = await apps.publish(db, app)
        return ok({"id": entry.id, "version": entry.version}, "发布应用配置成功")

    @post("/{app_id:str}/cancel-publish", status_code=200)
    async def cancel_publish(self, db: NamedDependency[AsyncSession], app: NamedDependency[Assistant]) -> Response[Any]:
        await apps.cancel_publish(db, app)
        return ok(message="取消发布应用配置成功")

    @get(["/{app_id:str}/published-config-histories", "/{app_id:str}/publish-histories"])
    async def histories(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
    ) -> Response[Any]:
        page = page_of(request, MAX_HISTORY_PAGE)
        rows, total = await apps.publish_history(db, app, page.page)
        return ok(paginated([history_json(row) for row in rows], total, page))

    @get(["/{app_id:str}/long-term-memory", "/{app_id:str}/summary"])
    async def read_memory(self, db: NamedDependency[AsyncSession], app: NamedDependency[Assistant]) -> Response[Any]:
        summary = await apps.read_summary(db, app)
        return ok({"summary": summary})

    @post(["/{app_id:str}/long-term-memory", "/{app_id:str}/summary"], status_code=200)
    async def write_memory(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
    ) -> Response[Any]:
        await apps.write_summary(db, app, (await json_object(request, BODY)).get("summary"))
        return ok(message="更新AI应用长记忆成功")
