"""A document's parse run as the ingestion worker moves it: received → RUNNING → progress … → DONE or FAIL.

Every step names the run it belongs to. Stop, re-parse and delete (`documents.py`) change or clear the
document's run id, so a step of a stale run finds nothing to update and raises `StaleRun`: the worker then
drops the job. The caller owns the transaction (and commits after each step, so progress shows as it goes).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, Document, DocumentFile
from service.domain.chunk_store import ChunkRow, replace_chunks


class StaleRun(Exception):
    """The document's run changed under the worker (stopped, re-parsed or deleted)."""


@dataclass
class Source:
    """What a run parses: the document, its bytes and its dataset's embedding model."""

    document: Document
    data: bytes
    model: str


def stamp(message: str) -> str:
    """One line of a document's progress log, as RAGFlow writes it (local wall-clock time first)."""
    return f"{datetime.now().strftime('%H:%M:%S')} {message}"


def _log(*lines: str) -> str:
    return "".join("\n" + stamp(line) for line in lines)


async def begin_run(db: AsyncSession, document_id: str, run_id: str) -> Source | None:
    """Load the run's source and mark the document RUNNING; None when the run was superseded or has ended.

    A job can come round again after its run ended (DONE or FAIL): the queue hands out a job whose worker lost
    its connection before the queue heard the outcome, and that run must not start over.
    """
    query = (
        select(Document, DocumentFile.data, Dataset.embedding_model)
        .join(Dataset, Dataset.id == Document.dataset_id)
        .outerjoin(DocumentFile, DocumentFile.document_id == Document.id)
        .where(Document.id == document_id, Document.run_id == run_id, Document.run == "RUNNING")
        .with_for_update(of=Document)  # a concurrent stop waits, then sees RUNNING and cancels it
    )
    row = (await db.execute(query)).first()
    if row is None:
        return None
    document, data, model = row
    document.run, document.progress = "RUNNING", 0.05
    started = ("Task has been received.", f"Start to parse {document.name}.")
    document.progress_msg += _log(*started, *skipped_steps(document.parser_config))
    return Source(document, data or b"", model)


# parser_config switches for steps RAGFlow runs after chunking that this server keeps but does not run.
UNRUN_STEPS = (
    ("raptor", "use_raptor", "RAPTOR"),
    ("graphrag", "use_graphrag", "GraphRAG"),
    ("parent_child", "use_parent_child", "Parent-child chunking"),
)


def skipped_steps(parser_config: dict[str, Any]) -> list[str]:
    """A log line for each step the config switches on that is not run, so nobody waits for it."""
    return [
        f"{name} is on in parser_config, but this server does not run it: skipped."
        for key, switch, name in UNRUN_STEPS
        if isinstance(parser_config.get(key), dict) and parser_config[key].get(switch) is True
    ]


async def report_progress(
    db: AsyncSession, document_id: str, run_id: str, progress: float, message: str, **values: Any
) -> None:
    """Append to the run's log (and set `values`); raise StaleRun when this run is no longer the current one."""
    result = await db.execute(
        update(Document)
        .where(Document.id == document_id, Document.run_id == run_id)
        .values(progress=progress, progress_msg=Document.progress_msg + _log(message), **values)
        .returning(Document.id)
    )
    if result.first() is None:
        raise StaleRun


async def finish_run(
    db: AsyncSession, source: Source, run_id: str, rows: list[ChunkRow], started: float, log_lines: list[str]
) -> None:
    """Swap in the run's chunks and mark it DONE; `started` is the run's `time.perf_counter()` start."""
    began = time.perf_counter()
    document = await replace_chunks(db, source.document.id, run_id, source.model, rows)
    if document is None:
        raise StaleRun
    elapsed = time.perf_counter() - started
    document.run, document.progress, document.process_duration = "DONE", 1.0, elapsed
    indexed = [f"Indexing done ({time.perf_counter() - began:.2f}s).", f"Task done ({elapsed:.2f}s)"]
    document.progress_msg += _log(*log_lines, *indexed)


async def fail_run(db: AsyncSession, document_id: str, run_id: str, message: str, started: float) -> None:
    """Mark the run FAIL with `message` in its log; a run already superseded is left alone."""
    duration = time.perf_counter() - started
    with contextlib.suppress(StaleRun):
        await report_progress(db, document_id, run_id, -1, f"[ERROR] {message}", run="FAIL", process_duration=duration)
