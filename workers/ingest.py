"""The ingest job: load → parse → chunk → embed → store, reporting progress on the document as it goes.

The steps of the document's run (and what a stale run means) are the domain's (`domain/document_runs.py`);
this module decides their order, runs the CPU-bound parts off the event loop and owns each transaction.

Parsing and chunking run in a thread, within the parse limits of the settings (`service/text/limits.py`):
while the thread works, the job checks every POLL_SECONDS whether the run was stopped, and gives up at the
deadline; either way it tells the thread to stop, which it does at its next row, paragraph or OCR'd page.
OCR (ONNX Runtime, which lets go of the GIL) runs in that same thread and reports each page it starts.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.chunk_store import ChunkRow
from service.domain.document_runs import Source, StaleRun, begin_run, fail_run, finish_run, report_progress
from service.domain.run_watch import run_is_current
from service.providers.base import EmbedderFor
from service.settings import Settings
from service.text.chunk import ChunkDraft, chunk
from service.text.limits import Budget, ParseLimits
from service.text.parse import ParseError, parse
from workers.reconnect import connection_lost

log = logging.getLogger(__name__)
EMBED_BATCH = 256  # chunks per embed call: big enough to keep torch busy, small enough to honour cancel quickly
POLL_SECONDS = 1.0  # how often a parse still running asks whether its run was stopped
# RAGFlow's `layout_recognize` for "the PDF's text layer only": no OCR of pages without one (any other value,
# DeepDOC by default, reads them by OCR).
PLAIN_TEXT = "Plain Text"
PARSE_START, PARSE_SHARE = 0.05, 0.15  # a run's progress while parsing goes from 0.05 (begun) to 0.2 (chunked)


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_expanded_bytes=settings.parse_max_expanded_bytes,
        max_paragraphs=settings.parse_max_paragraphs,
        max_rows=settings.parse_max_rows,
        max_columns=settings.parse_max_columns,
        max_chunks=settings.max_chunks_per_document,
        timeout=settings.parse_timeout,
    )


class Ingest:
    """The queue handler: `{"document_id", "run_id"}` → that run's chunks stored, or its failure logged."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        embedder_for: EmbedderFor,
        limits: ParseLimits | None = None,
    ) -> None:
        self.sessions = sessions
        self.embedder_for = embedder_for
        self.limits = limits or ParseLimits()

    async def __call__(self, payload: dict[str, Any]) -> None:
        document_id, run_id = payload["document_id"], payload["run_id"]
        started = time.perf_counter()
        ended_early = True  # failed or stopped: its exception holds the parser's frames (and tree) in a cycle
        try:
            await self._run(document_id, run_id, started)
            ended_early = False
        except StaleRun:
            log.info("ingest of %s run %s cancelled", document_id, run_id)
        except ParseError as exc:
            await self._fail(document_id, run_id, str(exc), started)
        except Exception as exc:
            if connection_lost(exc):  # not the document's fault: the run stays RUNNING and the job is retried
                raise
            log.exception("ingest of %s failed", document_id)
            await self._fail(document_id, run_id, f"{type(exc).__name__}: {exc}", started)
        await asyncio.to_thread(_return_freed_memory, ended_early)

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
        config = document.parser_config
        budget = Budget(self.limits, ocr_pdf=config.get("layout_recognize") != PLAIN_TEXT)
        work = asyncio.ensure_future(
            asyncio.to_thread(_drafts, source.data, document.name, document.chunk_method, config, budget)
        )
        work.add_done_callback(_retrieve)
        try:
            drafts = await self._watch(work, budget, source, run_id)
        finally:
            budget.stop()  # stopped, past the deadline or the job cancelled: the thread ends at its next check
        if len(drafts) > EMBED_BATCH:  # small documents are done before anyone could watch the progress
            await self._report(source, run_id, 0.2, f"Generate {len(drafts)} chunks")
        return drafts

    async def _watch(
        self, work: asyncio.Future[list[ChunkDraft]], budget: Budget, source: Source, run_id: str
    ) -> list[ChunkDraft]:
        """The thread's drafts; while it works, StaleRun once the run is stopped, LimitExceeded at the deadline.

        A slow parse (OCR, page by page) reports its steps through the budget; each goes on the document's log.
        """
        shown = 0
        while True:
            await asyncio.wait({work}, timeout=max(0.0, min(POLL_SECONDS, budget.remaining())))
            done = work.done()  # before reading the steps: a finished thread has reported all of its own
            steps = budget.steps(shown)
            for fraction, message in steps:  # reporting is also where a stop request is noticed
                await self._report(source, run_id, PARSE_START + PARSE_SHARE * fraction, message)
            shown += len(steps)
            if done:
                return work.result()
            if budget.remaining() <= 0:
                raise budget.timed_out()
            if not steps:
                async with self.sessions() as db:
                    if not await run_is_current(db, source.document.id, run_id):
                        raise StaleRun

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


def _drafts(data: bytes, name: str, method: str, config: dict[str, Any], budget: Budget) -> list[ChunkDraft]:
    """Parse and chunk, in the worker's thread, within the budget."""
    drafts = chunk(parse(data, name, budget), method, config)
    budget.tick()
    budget.chunks(len(drafts))
    return drafts


def _retrieve(work: asyncio.Future[list[ChunkDraft]]) -> None:
    """Read an abandoned parse's outcome (ParseCancelled, as a rule), so asyncio does not log it as unread."""
    if not work.cancelled():
        work.exception()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): its allocator is left to itself
        return None


_trim = _malloc_trim()


def _return_freed_memory(collect: bool) -> None:
    """Give the system back what the run freed (`collect`: first free what only the garbage collector can).

    glibc keeps the memory of freed encode batches and parse trees in its per-thread arenas: after a
    20,000-row CSV the process stayed at 1.3 GB (630 MB before it); `malloc_trim` brings it back to 630 MB
    (bench/parse_memory.py).
    """
    if collect:
        gc.collect()
    if _trim is not None:
        _trim(0)
