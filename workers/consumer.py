"""The queue's consumer side: one pgqueuer manager running the job handlers (`nectar worker` runs this)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, Job, QueueManager
from pgqueuer.queries import Queries

from service.db.engine import asyncpg_dsn

# A job whose worker stops heart-beating for this long is handed to another worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Worker:
    """One queue consumer; `run()` until `stop()`. Any number may run against one database."""

    def __init__(self, database_url: str, handlers: dict[str, JobHandler], concurrency: int = 1) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.handlers = handlers
        self.concurrency = concurrency
        self._manager: QueueManager | None = None
        self._connection: asyncpg.Connection | None = None
        self.started = asyncio.Event()

    def _register(self, manager: QueueManager) -> None:
        for name, handler in self.handlers.items():

            async def run(job: Job, handler: JobHandler = handler) -> None:
                await handler(json.loads(job.payload or b"{}"))

            manager.entrypoint(name)(run)

    async def run(self) -> None:
        self._connection = await asyncpg.connect(self.dsn)
        try:
            self._manager = QueueManager(Queries(AsyncpgDriver(self._connection)))
            self._register(self._manager)
            self.started.set()
            await self._manager.run(
                dequeue_timeout=timedelta(seconds=5),
                # Per worker, not global: more workers means more throughput. Jobs run concurrently so
                # their embeddings share batches and one job's database writes overlap another's encode.
                # pgqueuer requires max_concurrent_tasks >= 2 * batch_size.
                batch_size=max(1, self.concurrency // 2),
                max_concurrent_tasks=max(2, self.concurrency),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
            )
        finally:
            await self._connection.close()

    def stop(self) -> None:
        if self._manager is not None:
            self._manager.shutdown.set()
