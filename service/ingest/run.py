"""ingest_document: load → parse → chunk → embed → store, reporting progress on the document as it goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import Dataset, Document, DocumentFile
from service.ingest.chunk import ChunkDraft, chunk
from service.ingest.parse import ParseError, parse
from service.ingest.store import ChunkRow, replace_chunks
from service.providers.base import Embedder

log = logging.getLogger(__name__)
EMBED_BATCH = 256  # chunks per embed call: big enough to keep torch busy, small enough to honour cancel quickly


class Cancelled(Exception):
    """The document's run changed under us (stopped, re-parsed or deleted)."""


@dataclass
class Source:
    document: Document
    data: bytes
    model: str


def stamp(message: str) -> str:
    return f"{datetime.now().strftime('%H:%M:%S')} {message}"


class Ingest:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], embedder_for: Any) -> None:
        self.sessions = sessions
        self.embedder_for = embedder_for  # name -> Embedder

    async def _report(self, document_id: str, run_id: str, progress: float, message: str, **values: Any) -> None:
        """Append to the document's log; raise Cancelled when this run is no longer the current one."""
        async with self.sessions() as db:
            result = await db.execute(
                update(Document)
                .where(Document.id == document_id, Document.run_id == run_id)
                .values(progress=progress, progress_msg=Document.progress_msg + "\n" + stamp(message), **values)
                .returning(Document.id)
            )
            found = result.first() is not None
            await db.commit()
        if not found:
            raise Cancelled

    async def _start(self, document_id: str, run_id: str) -> Source | None:
        """Load the document, its bytes and its dataset's model, and mark it RUNNING, in one transaction."""
        query = (
            select(Document, DocumentFile.data, Dataset.embedding_model)
            .join(Dataset, Dataset.id == Document.dataset_id)
            .outerjoin(DocumentFile, DocumentFile.document_id == Document.id)
            .where(Document.id == document_id, Document.run_id == run_id)
            .with_for_update(of=Document)  # a concurrent stop waits, then sees RUNNING and cancels it
        )
        async with self.sessions() as db:
            row = (await db.execute(query)).first()
            if row is None:  # stopped, re-parsed or deleted before we got here
                return None
            document, data, model = row
            document.run, document.progress = "RUNNING", 0.05
            document.progress_msg += "".join(
                "\n" + stamp(line) for line in ("Task has been received.", f"Start to parse {document.name}.")
            )
            await db.commit()
        return Source(document, data or b"", model)

    async def __call__(self, payload: dict[str, Any]) -> None:
        document_id, run_id = payload["document_id"], payload["run_id"]
        started = time.perf_counter()
        try:
            source = await self._start(document_id, run_id)
            if source is None:
                return
            drafts = await self._chunk(source, run_id)
            embedding_began = time.perf_counter()
            rows = await self._embed(source, run_id, drafts)
            log_lines = [
                f"Generate {len(drafts)} chunks",
                f"Embedding chunks ({time.perf_counter() - embedding_began:.2f}s)",
            ]
            await self._store(source, run_id, rows, started, log_lines)
        except Cancelled:
            log.info("ingest of %s run %s cancelled", document_id, run_id)
        except ParseError as exc:
            await self._fail(document_id, run_id, str(exc), started)
        except Exception as exc:
            log.exception("ingest of %s failed", document_id)
            await self._fail(document_id, run_id, f"{type(exc).__name__}: {exc}", started)

    async def _chunk(self, source: Source, run_id: str) -> list[ChunkDraft]:
        document = source.document
        parsed = await asyncio.to_thread(parse, source.data, document.name)
        drafts = await asyncio.to_thread(chunk, parsed, document.chunk_method, document.parser_config)
        if len(drafts) > EMBED_BATCH:  # small documents are done before anyone could watch the progress
            await self._report(document.id, run_id, 0.2, f"Generate {len(drafts)} chunks")
        return drafts

    async def _embed(self, source: Source, run_id: str, drafts: list[ChunkDraft]) -> list[ChunkRow]:
        embedder: Embedder = self.embedder_for(source.model)
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
                await self._report(
                    source.document.id, run_id, 0.2 + 0.7 * done, f"Embedded {len(rows)}/{len(drafts)} chunks"
                )
        return rows

    async def _store(
        self, source: Source, run_id: str, rows: list[ChunkRow], started: float, log_lines: list[str]
    ) -> None:
        began = time.perf_counter()
        async with self.sessions() as db:
            document = await replace_chunks(db, source.document.id, run_id, source.model, rows)
            if document is None:
                raise Cancelled
            elapsed = time.perf_counter() - started
            document.run, document.progress, document.process_duration = "DONE", 1.0, elapsed
            log_lines += [f"Indexing done ({time.perf_counter() - began:.2f}s).", f"Task done ({elapsed:.2f}s)"]
            document.progress_msg += "".join("\n" + stamp(line) for line in log_lines)
            await db.commit()

    async def _fail(self, document_id: str, run_id: str, message: str, started: float) -> None:
        with contextlib.suppress(Cancelled):
            await self._report(
                document_id,
                run_id,
                -1,
                f"[ERROR] {message}",
                run="FAIL",
                process_duration=time.perf_counter() - started,
            )


def now() -> datetime:
    return datetime.now(UTC)
