"""create_app(): the Litestar application with every API family mounted."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from service.api import apps, openai, opsbee, ragflow
from service.api.apps.openapi import APPS
from service.api.openai.openapi import OPENAI
from service.api.openapi import describe
from service.api.opsbee.openapi import OPSBEE
from service.api.ragflow.envelope import http_error
from service.api.ragflow.openapi import RAGFLOW
from service.api.system import healthz
from service.api.system_openapi import SYSTEM
from service.console import console_router
from service.db import models
from service.deps import DEPENDENCIES
from service.runtime import Runtime, build_runtime
from service.settings import Settings, get_settings


def _app_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Errors raised before routing (unknown path, wrong method): in the shape of the family the path belongs to."""
    if openai.is_openai_path(request.url.path):
        return openai.http_error(request, exc)
    if opsbee.is_opsbee_path(request.url.path):
        return opsbee.http_error(request, exc)
    if apps.is_apps_path(request.url.path):
        return apps.http_error(request, exc)
    return http_error(request, exc)


# Controllers import the domain's row types for annotations only (`TYPE_CHECKING`); Litestar resolves handler
# and dependency signatures at startup, so it is handed the types here, where the layers are composed.
SIGNATURE_TYPES = [
    models.Assistant,
    models.ChatSession,
    models.Dataset,
    models.Document,
    models.EvalDataset,
    models.EvalItem,
    models.EvalRun,
    models.Message,
]


# The OpenAPI document, served at /schema/openapi.json: each family describes its own operations (handlers read
# their bodies by hand, so Litestar alone would publish none of them), composed here.
OPENAPI = OpenAPIConfig(title="Nectar", version=version("nectar"), path="/schema")
FAMILIES = [RAGFLOW, OPENAI, OPSBEE, APPS, SYSTEM]


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Litestar:
    """With `runtime` given (tests, benchmarks) the app uses it; otherwise it builds and closes its own."""
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if runtime is not None:
            yield
            return
        app.state.runtime = await build_runtime(settings)
        try:
            yield
        finally:
            await app.state.runtime.close()

    console = [console_router()] if settings.console else []  # NECTAR_CONSOLE=0: no page at `/`
    app = Litestar(
        route_handlers=[ragflow.router, openai.router, opsbee.router, apps.router, healthz, *console],
        dependencies=DEPENDENCIES,
        signature_types=SIGNATURE_TYPES,
        exception_handlers={HTTPException: _app_http_error},
        lifespan=[lifespan],
        state=State({"runtime": runtime}),
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        debug=False,
        openapi_config=OPENAPI,
    )
    describe(app, FAMILIES)
    return app
