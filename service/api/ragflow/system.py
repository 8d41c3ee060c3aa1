"""`/api/v1/system/ping|version|status`: RAGFlow's liveness, version and component status routes."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from service.api.ragflow.envelope import ok_message
from service.deps import StatusCheck

VERSION = f"nectar-{version('nectar')}"  # the truth: this is Nectar, not a RAGFlow release


@get("/system/ping", media_type="text/plain")
async def ping() -> str:
    return "pong"


@get("/system/version")
async def system_version() -> Response[Any]:
    return ok_message(VERSION)


@get("/system/status")
async def system_status(tenant: NamedDependency[str], status: NamedDependency[StatusCheck]) -> Response[Any]:
    """Behind the API key, as RAGFlow's is; each component green or red with the probe's time."""
    return ok_message(await status())
