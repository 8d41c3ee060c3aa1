"""Health: database, pgvector, job queue and embedder, the way RAGFlow's /system/healthz reports them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import text

from service.jobs import queue_depth
from service.runtime import Runtime


async def _check(name: str, probe: Awaitable[None]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout=5)
        return name, "ok"
    except Exception as exc:
        return name, f"nok: {type(exc).__name__}: {exc}"[:300]


async def _database(runtime: Runtime) -> None:
    async with runtime.sessions() as db:
        await db.execute(text("SELECT 1"))


async def _pgvector(runtime: Runtime) -> None:
    async with runtime.sessions() as db:
        await db.execute(text("SELECT '[1]'::vector <=> '[1]'::vector"))


async def _queue(runtime: Runtime) -> None:
    runtime.check_worker()
    async with runtime.sessions() as db:
        await queue_depth(db)


async def _embedder(runtime: Runtime) -> None:
    embedder = await asyncio.to_thread(runtime.embedder)
    [vector] = await embedder.embed(["health"])
    if len(vector) != embedder.dim:
        raise RuntimeError("embedding has the wrong dimension")


async def check_health(runtime: Runtime) -> dict[str, str]:
    """Each part `ok` or `nok: <why>`, and `status` ok only when every part is."""
    checks = await asyncio.gather(
        _check("db", _database(runtime)),
        _check("pgvector", _pgvector(runtime)),
        _check("queue", _queue(runtime)),
        _check("embedder", _embedder(runtime)),
    )
    report = dict(checks)
    report["status"] = "ok" if all(value == "ok" for value in report.values()) else "nok"
    return report


async def _timed(probe: Awaitable[None], **about: str) -> dict[str, Any]:
    """RAGFlow's status entry: what it is, green or red, and how long the probe took in ms."""
    began = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout=5)
        entry: dict[str, Any] = {**about, "status": "green"}
    except Exception as exc:
        entry = {**about, "status": "red", "error": f"{type(exc).__name__}: {exc}"[:300]}
    entry["elapsed"] = f"{(time.perf_counter() - began) * 1000:.1f}"
    return entry


async def system_status(runtime: Runtime) -> dict[str, Any]:
    """RAGFlow's /system/status, told truthfully: PostgreSQL is the document engine, the file store and the
    database; the job queue (pgqueuer, on the same PostgreSQL) stands where RAGFlow reports Redis."""
    doc_engine, database, queue = await asyncio.gather(
        _timed(_pgvector(runtime), type="postgresql"),
        _timed(_database(runtime), database="postgresql"),
        _timed(_queue(runtime), queue="pgqueuer"),
    )
    # Uploaded files live in the same database: one probe answers for both.
    storage = {"storage": "postgresql", **{k: v for k, v in database.items() if k != "database"}}
    return {"doc_engine": doc_engine, "storage": storage, "database": database, "queue": queue}
