"""The composition root: database, embedders and LLM clients, built once per process.

The API (through `deps.py`) and the workers (`workers/main.py`) take what they need from here; neither builds
its own. `nectar serve` also runs one worker in-process, which this module starts and stops.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.embedded import EmbeddedPostgres
from service.db.engine import check_pgvector, make_engine, make_sessions, upgrade
from service.domain.answering import Answerer
from service.providers.embedding import SentenceTransformerEmbedder, load_embedder
from service.providers.llm import ModelRegistry
from service.settings import Settings
from workers.main import InlineWorker, start_inline


@dataclass
class Runtime:
    """One process's shared resources; `close()` releases them (worker first, then models, engine, server)."""

    settings: Settings
    database_url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedPostgres | None = None
    worker: InlineWorker | None = None
    models: ModelRegistry = field(init=False)

    def embedder(self, name: str | None = None) -> SentenceTransformerEmbedder:
        settings = self.settings
        return load_embedder(
            name or settings.default_embedding_model,
            settings.embed_batch_size,
            settings.embed_parallel,
            settings.embed_backend,
            settings.models_folder,
        )

    def __post_init__(self) -> None:
        settings = self.settings
        self.models = ModelRegistry(settings.llm_providers, settings.llm_timeout, settings.llm_first_token_timeout)

    def answerer(self) -> Answerer:
        return Answerer(self.sessions, self.embedder, self.models, self.embedder().count_tokens)

    async def start_worker(self) -> None:
        """Run a consumer of every job kind in this process (`nectar serve`'s single-machine default)."""
        self.worker = await start_inline(self)

    def check_worker(self) -> None:
        """Raise when the in-process worker has stopped on its own (healthz reports it)."""
        if self.worker is not None:
            self.worker.check()

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        await self.models.close()
        await self.engine.dispose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


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
