"""The composition root: database, embedders and the in-process worker, built once per process."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.embedded import EmbeddedPostgres
from service.db.engine import check_pgvector, make_engine, make_sessions, upgrade
from service.domain.answering import Answerer
from service.domain.memory import MEMORY_JOB, MemoryJob
from service.ingest.run import Ingest
from service.providers.embedding import SentenceTransformerEmbedder, load_embedder
from service.providers.llm import ModelRegistry
from service.settings import Settings
from workers.queue import INGEST, JobHandler, Worker

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedPostgres | None = None
    worker: Worker | None = None
    models: ModelRegistry = field(init=False)
    _worker_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def embedder(self, name: str | None = None) -> SentenceTransformerEmbedder:
        settings = self.settings
        return load_embedder(
            name or settings.default_embedding_model, settings.embed_batch_size, settings.embed_parallel
        )

    def __post_init__(self) -> None:
        self.models = ModelRegistry(self.settings.llm_providers, self.settings.llm_timeout)

    def answerer(self) -> Answerer:
        return Answerer(self.sessions, self.embedder, self.models, self.embedder().count_tokens)

    def ingest(self) -> Ingest:
        return Ingest(self.sessions, self.embedder)

    async def start_worker(self) -> None:
        handlers: dict[str, JobHandler] = {INGEST: self.ingest(), MEMORY_JOB: MemoryJob(self.sessions, self.models)}
        self.worker = Worker(self.database_url, handlers, self.settings.worker_concurrency)
        self._worker_task = asyncio.create_task(self.worker.run(), name="nectar-worker")
        await asyncio.wait(
            [asyncio.create_task(self.worker.started.wait()), self._worker_task],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self._worker_task.done():
            self._worker_task.result()
        self._worker_task.add_done_callback(_log_worker_exit)

    def check_worker(self) -> None:
        """Raise when the in-process worker has stopped on its own (healthz reports it)."""
        task = self._worker_task
        if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError(f"in-process worker stopped: {task.exception()!r}")

    async def close(self) -> None:
        if self.worker is not None and self._worker_task is not None:
            self.worker.stop()
            try:
                await asyncio.wait_for(self._worker_task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self._worker_task.cancel()
        await self.models.close()
        await self.engine.dispose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


def _log_worker_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("in-process worker stopped", exc_info=task.exception())


async def open_database(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return url, None
    embedded = EmbeddedPostgres(settings.data_dir)
    return await asyncio.to_thread(embedded.start), embedded


async def build_runtime(settings: Settings, *, worker: bool | None = None, warm: bool = True) -> Runtime:
    """Open (or start) the database, migrate it, self-test pgvector, load the embedder, start a worker."""
    url, embedded = await open_database(settings)
    engine = make_engine(url)
    runtime = Runtime(settings, url, engine, make_sessions(engine), embedded)
    try:
        await check_pgvector(engine)
        await upgrade(url)
        if warm:
            await asyncio.to_thread(runtime.embedder)
        if settings.inline_worker if worker is None else worker:
            await runtime.start_worker()
    except BaseException:
        await runtime.close()
        raise
    # The model and the libraries are ~600k objects that live as long as the process. Left in the collector's
    # care, every full collection rescans them: a 300 ms stall every ~25 pages of 1,000 histories (measured).
    gc.freeze()
    return runtime
