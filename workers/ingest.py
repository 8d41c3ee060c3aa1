"""The ingest job: load → parse → chunk → embed → store, reporting progress on the document as it goes.

The steps of the document's run (and what a stale run means) are the domain's (`domain/document_runs.py`);
this module decides their order, runs the CPU-bound parts off the event loop and owns each transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.chunk_store import ChunkRow
from service.domain.document_runs import Source, StaleRun, begin_run, fail_run, finish_run, report_progress
from service.providers.base import EmbedderFor
from service.text.chunk import ChunkDraft, chunk
from service.text.parse import ParseError, parse

log = logging.getLogger(__name__)
EMBED_BATCH = 256  # chunks per embed call: big enough to keep torch busy, small enough to honour cancel quickly


class Ingest:
    """The queue handler: `{"document_id", "run_id"}` → that run's chunks stored, or its failure logged."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], embedder_for: EmbedderFor) -> None:
        self.sessions = sessions
        self.embedder_for = embedder_for

    async def __call__(self, payload: dict[str, Any]) -> None:
        document_id, run_id = payload["document_id"], payload["run_id"]
        started = time.perf_counter()
        try:
            await self._run(document_id, run_id, started)
        except StaleRun:
            log.info("ingest of %s run %s cancelled", document_id, run_id)
        except ParseError as exc:
            await self._fail(document_id, run_id, str(exc), started)
        except Exception as exc:
            log.exception("ingest of %s failed", document_id)
            await self._fail(document_id, run_id, f"{type(exc).__name__}: {exc}", started)

    async def _run(self, document_id: str, run_id: str, started: float) -> None:
        async with self.sessions() as db:
            source = await begin_run(db, document_id, run_id)
            await db.commit()
        if source is None:  # stopped, re-parsed or deleted before we got here
            return
        drafts = await self._chunk(source, run_id)
        embedding_began = time.perf_counter()
        rows = await self._embed(source, run_id, drafts)
        log_lines = [
            f"Generate {len(drafts)} chunks",
            f"Embedding chunks ({time.perf_counter() - embedding_began:.2f}s)",
        ]
        async with self.sessions() as db:
            await finish_run(db, source, run_id, rows, started, log_lines)
            await db.commit()

    async def _report(self, source: Source, run_id: str, progress: float, message: str) -> None:
        async with self.sessions() as db:
            await report_progress(db, source.document.id, run_id, progress, message)
            await db.commit()

    async def _chunk(self, source: Source, run_id: str) -> list[ChunkDraft]:
        document = source.document
        parsed = await asyncio.to_thread(parse, source.data, document.name)
        drafts = await asyncio.to_thread(chunk, parsed, document.chunk_method, document.parser_config)
        if len(drafts) > EMBED_BATCH:  # small documents are done before anyone could watch the progress
            await self._report(source, run_id, 0.2, f"Generate {len(drafts)} chunks")
        return drafts

    async def _embed(self, source: Source, run_id: str, drafts: list[ChunkDraft]) -> list[ChunkRow]:
        embedder = self.embedder_for(source.model)
        rows: list[ChunkRow] = []
        for start in range(0, len(drafts), EMBED_BATCH):
            batch = drafts[start : start + EMBED_BATCH]
            vectors = await embedder.embed([draft.content for draft in batch])
            rows.extend(
                ChunkRow(d.content, v, start + i, d.token_count, positions=d.positions)
                for i, (d, v) in enumerate(zip(batch, vectors, strict=True))
            )
            if len(rows) < len(drafts):  # also where a stop request is noticed
                done = len(rows) / len(drafts)
                await self._report(source, run_id, 0.2 + 0.7 * done, f"Embedded {len(rows)}/{len(drafts)} chunks")
        return rows

    async def _fail(self, document_id: str, run_id: str, message: str, started: float) -> None:
        async with self.sessions() as db:
            await fail_run(db, document_id, run_id, message, started)
            await db.commit()
