"""What `nectar worker` runs, and the same worker inside `nectar serve`: the job table and the worker's life.

The jobs take their database, embedders and models from the process's composition root (`service.runtime`),
which this package never imports: the root hands itself in as `Resources`, so the arrows point one way
(runtime → workers → domain).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.answering import Answerer
from service.jobs import EVAL_RUN, INGEST, MEMORY
from service.providers.base import Embedder
from service.providers.llm import ModelRegistry
from service.settings import Settings
from workers.consumer import JobHandler, Worker
from workers.eval_runs import EvalRunJob
from workers.ingest import Ingest, parse_limits
from workers.memory import UpdateMemory

log = logging.getLogger(__name__)


class Resources(Protocol):
    """What the jobs use of the composition root (`service.runtime.Runtime` is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def database_url(self) -> str: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def models(self) -> ModelRegistry: ...

    def embedder(self, name: str | None = None) -> Embedder: ...

    def answerer(self) -> Answerer: ...


def job_handlers(resources: Resources) -> dict[str, JobHandler]:
    """Every job kind `service.jobs` enqueues, and what runs it."""
    return {
        INGEST: Ingest(resources.sessions, resources.embedder, parse_limits(resources.settings)),
        MEMORY: UpdateMemory(resources.sessions, resources.models),
        EVAL_RUN: EvalRunJob(
            resources.sessions, resources.answerer(), resources.models, resources.settings.eval_judge_llm
        ),
    }


class InlineWorker:
    """One queue consumer running as a task of this process's event loop."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.task = asyncio.create_task(worker.run(), name="nectar-worker")

    async def started(self) -> None:
        """Wait until the consumer is listening; raise what stopped it if it failed before that."""
        ready = asyncio.create_task(self.worker.started.wait())
        await asyncio.wait([ready, self.task], return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            ready.cancel()
            self.task.result()
        self.task.add_done_callback(_log_exit)

    def check(self) -> None:
        """Raise when the consumer has stopped on its own, or is waiting for the database (healthz reports it)."""
        task = self.task
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError(f"in-process worker stopped: {task.exception()!r}")
        if self.worker.outage is not None:
            raise RuntimeError(f"in-process worker is reconnecting: {self.worker.outage.describe()}")

    async def stop(self, timeout: float = 10) -> None:
        """Let running jobs finish, for up to `timeout` seconds, then cancel what is left."""
        self.worker.stop()
        try:
            await asyncio.wait_for(self.task, timeout)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()
        except Exception:  # it had failed (and said why, see _log_exit): closing the process must go on
            pass


def _log_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("in-process worker stopped", exc_info=task.exception())


async def start_inline(resources: Resources, give_up_after: float | None = None) -> InlineWorker:
    """Start a consumer of every job kind in this process; returns once it is listening.

    It reconnects whenever the database goes away; `give_up_after` (seconds) bounds how long before it stops
    with `DatabaseUnreachable`. `nectar serve` passes None: its API stays up, healthz says why no job runs,
    and consuming resumes whenever the database is back.
    """
    settings = resources.settings
    worker = Worker(
        resources.database_url,
        job_handlers(resources),
        settings.worker_concurrency,
        heartbeat_timeout=settings.worker_heartbeat_timeout,
        give_up_after=give_up_after,
    )
    inline = InlineWorker(worker)
    try:
        await inline.started()
    except BaseException:
        await inline.stop()
        raise
    return inline


async def run_worker(resources: Resources) -> None:
    """`nectar worker`: consume jobs until SIGINT/SIGTERM, or raise what stopped the consumer on its own.

    A database that goes away is waited for, reconnecting with backoff, for NECTAR_WORKER_RECONNECT_TIMEOUT
    seconds; then `DatabaseUnreachable` is raised. Raising ends the process with an error, so a supervisor
    (docker, systemd) starts a fresh worker; the queue hands the dead one's jobs to whichever worker is left.
    """
    inline = await start_inline(resources, resources.settings.worker_reconnect_timeout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("Nectar worker running (Ctrl-C stops)", flush=True)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([stopping, inline.task], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await inline.stop()
    if not stop.is_set():  # the consumer ended on its own
        inline.task.result()
        raise RuntimeError("the worker stopped on its own")
