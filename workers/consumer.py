"""The queue's consumer side: one pgqueuer manager running the job handlers (`nectar worker` runs this).

The manager lives on one asyncpg connection (LISTEN, dequeue, heartbeats). When that connection goes (a
PostgreSQL restart, a dropped network), the worker opens a new one with backoff and a fresh manager carries
on. The jobs that were running lost their lease with it: they are stopped, and the queue hands them out again
(to this worker or another) once their heartbeat is `heartbeat_timeout` old, as it does for a dead worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, Job, QueueManager
from pgqueuer.errors import RetryRequested
from pgqueuer.queries import Queries

from service.db.engine import asyncpg_dsn
from workers.reconnect import Outage, connection_lost

log = logging.getLogger(__name__)

# A job whose worker stops heart-beating for this long is handed to another worker.
HEARTBEAT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0  # seconds for one connection attempt, so a server that never answers is retried too
# A job whose own connection broke is queued again (when the queue's connection held) after 1, 2, 4 … 64 s.
RETRY_DELAY = timedelta(seconds=1)
MAX_RETRY_DOUBLINGS = 6
STABLE_SECONDS = 5.0  # a connection lost sooner than this after an outage is retried with that outage's backoff
APPLICATION_NAME = "nectar-worker"  # how the worker's queue connection shows in pg_stat_activity

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Worker:
    """One queue consumer; `run()` until `stop()`. Any number may run against one database.

    `give_up_after` bounds how long `run()` keeps reconnecting before it raises `DatabaseUnreachable`
    (None: as long as it takes). `outage` is set while the database is out of reach.
    """

    def __init__(
        self,
        database_url: str,
        handlers: dict[str, JobHandler],
        concurrency: int = 1,
        *,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        give_up_after: float | None = None,
    ) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.handlers = handlers
        self.concurrency = concurrency
        self.heartbeat_timeout = timedelta(seconds=heartbeat_timeout)
        self.give_up_after = give_up_after
        self.started = asyncio.Event()  # the first connection is up and the manager is listening
        self.outage: Outage | None = None
        self._stopping = asyncio.Event()
        self._manager: QueueManager | None = None
        self._jobs: set[asyncio.Task[Any]] = set()

    def _register(self, manager: QueueManager) -> None:
        for name, handler in self.handlers.items():

            async def run(job: Job, handler: JobHandler = handler) -> None:
                task = asyncio.current_task()
                assert task is not None
                self._jobs.add(task)
                try:
                    await handler(json.loads(job.payload or b"{}"))
                except Exception as exc:
                    if connection_lost(exc):  # the database's doing, not the job's: queue it again
                        delay = RETRY_DELAY * 2 ** min(job.attempts, MAX_RETRY_DOUBLINGS)
                        raise RetryRequested(delay, f"database connection lost: {type(exc).__name__}") from exc
                    raise
                finally:
                    self._jobs.discard(task)

            manager.entrypoint(name)(run)

    async def run(self) -> None:
        """Consume until `stop()`; a lost or refused connection is tried again with backoff (see `Outage`)."""
        while not self._stopping.is_set():
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=CONNECT_TIMEOUT, server_settings={"application_name": APPLICATION_NAME}
                )
            except Exception as exc:
                if not (connection_lost(exc) or isinstance(exc, TimeoutError)):  # a wrong password, no database...
                    raise
                self.outage = self.outage or Outage(self.give_up_after)
                await self.outage.wait(exc, self._stopping)
                continue
            await self._consume_until_lost(connection)

    async def _consume_until_lost(self, connection: asyncpg.Connection) -> None:
        outage, self.outage = self.outage, None
        if outage is not None:
            log.warning("worker: database reachable again after %.1f s; consuming jobs", outage.seconds)
        connected = time.monotonic()
        lost = await self._consume(connection)
        if lost is None:
            return
        log.warning("worker: lost the database connection (%s: %s); reconnecting", type(lost).__name__, lost)
        self.outage = Outage(self.give_up_after)
        if outage is not None and time.monotonic() - connected < STABLE_SECONDS:
            # Lost again soon after an outage: back off as that one had, rather than reconnect at once.
            self.outage.attempts = outage.attempts
            await self.outage.wait(lost, self._stopping)

    async def _consume(self, connection: asyncpg.Connection) -> BaseException | None:
        """Run a manager on `connection` until `stop()` (None) or until the connection is lost (what was seen)."""
        lost: list[BaseException] = []
        manager = QueueManager(Queries(AsyncpgDriver(connection)))
        self._register(manager)

        def on_close(_: object) -> None:
            if not self._stopping.is_set():
                lost.append(ConnectionResetError("the queue connection was closed"))
                self._abandon(manager)

        connection.add_termination_listener(on_close)
        self._manager = manager
        self.started.set()
        try:
            if not self._stopping.is_set():  # stop() may have come while we were connecting
                await self._run_manager(manager)
        except Exception as exc:
            if not (connection.is_closed() or connection_lost(exc)):
                raise
            lost.insert(0, exc)
        finally:
            connection.remove_termination_listener(on_close)
            self._manager = None
            with contextlib.suppress(Exception):  # a connection that cannot close gracefully is aborted by asyncpg
                await connection.close(timeout=CONNECT_TIMEOUT)
        return lost[0] if lost else None

    async def _run_manager(self, manager: QueueManager) -> None:
        await manager.run(
            # Poll at least as often as a lease can go stale, so a dead worker's job is taken up promptly.
            dequeue_timeout=min(timedelta(seconds=5), self.heartbeat_timeout),
            # Per worker, not global: more workers means more throughput. Jobs run concurrently so
            # their embeddings share batches and one job's database writes overlap another's encode.
            # pgqueuer requires max_concurrent_tasks >= 2 * batch_size.
            batch_size=max(1, self.concurrency // 2),
            max_concurrent_tasks=max(2, self.concurrency),
            heartbeat_timeout=self.heartbeat_timeout,
        )

    def _abandon(self, manager: QueueManager) -> None:
        """The connection is gone, and with it the heartbeats that keep our jobs ours: stop them and the manager.

        Letting them run on would only race the worker that takes them over; their database work is one
        transaction per step, so a stopped step leaves nothing half-written.
        """
        manager.shutdown.set()
        for task in list(self._jobs):
            task.cancel()

    def stop(self) -> None:
        self._stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()
