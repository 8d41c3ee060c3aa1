"""Health: database, pgvector, job queue and embedder, the way RAGFlow's /system/healthz reports them."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from service.runtime import Runtime
from workers.queue import queue_depth


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout=5)
        return name, "ok"
    except Exception as exc:
        return name, f"nok: {type(exc).__name__}: {exc}"[:300]


async def _database(runtime: NamedDependency[Runtime]) -> None:
    async with runtime.sessions() as db:
        await db.execute(text("SELECT 1"))


async def _pgvector(runtime: NamedDependency[Runtime]) -> None:
    async with runtime.sessions() as db:
        await db.execute(text("SELECT '[1]'::vector <=> '[1]'::vector"))


async def _queue(runtime: NamedDependency[Runtime]) -> None:
    runtime.check_worker()
    async with runtime.sessions() as db:
        await queue_depth(db)


async def _embedder(runtime: NamedDependency[Runtime]) -> None:
    embedder = await asyncio.to_thread(runtime.embedder)
    [vector] = await embedder.embed(["health"])
    if len(vector) != embedder.dim:
        raise RuntimeError("embedding has the wrong dimension")


@get(["/api/v1/system/healthz", "/v1/system/healthz"], exclude_from_auth=True)
async def healthz(runtime: NamedDependency[Runtime]) -> Response[dict[str, str]]:
    checks = await asyncio.gather(
        _check("db", _database(runtime)),
        _check("pgvector", _pgvector(runtime)),
        _check("queue", _queue(runtime)),
        _check("embedder", _embedder(runtime)),
    )
    body = dict(checks)
    healthy = all(value == "ok" for value in body.values())
    body["status"] = "ok" if healthy else "nok"
    return Response(body, status_code=200 if healthy else 500)
