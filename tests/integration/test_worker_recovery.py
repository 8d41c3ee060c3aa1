"""A worker killed mid-document: another worker picks the job up again and the document ends with exactly the
right chunks (none lost, none duplicated)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from service.db.models import Chunk, Document
from service.domain import datasets, documents
from service.domain.tenants import create_tenant
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from service.text.chunk import chunk
from service.text.parse import parse
from tests.conftest import create_database

ROOT = Path(__file__).resolve().parents[2]
# Every piece distinct: chunk ids derive from the text, so a repeated piece would be one chunk.
TEXT = "\n".join(f"Paragraph {i}: workers may die, jobs must not be lost: {i}." for i in range(2500)).encode()
CONFIG = {"chunk_token_num": 12}


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NECTAR_DATA_DIR": tempfile.mkdtemp(),
        "NECTAR_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service", "worker"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def queue_parse(runtime: Runtime) -> str:
    async with runtime.sessions() as db:
        tenant = await create_tenant(db, "recovery")
        dataset = await datasets.create_dataset(
            db, tenant.id, {"name": "kb", "parser_config": CONFIG}, runtime.settings.default_embedding_model
        )
        [document] = await documents.upload(db, dataset, [documents.Upload("big.txt", TEXT)], tenant.id, 10**9)
        await documents.start_parsing(db, dataset, [document.id])
        await db.commit()
        return document.id


async def state(runtime: Runtime, document_id: str) -> Document:
    async with runtime.sessions() as db:
        document = await db.get(Document, document_id)
        assert document is not None
        return document


async def wait_for(runtime: Runtime, document_id: str, done: object, timeout: float) -> Document:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = await state(runtime, document_id)
        if done(document):  # type: ignore[operator]
            return document
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out; document is {document.run} at {document.progress}: {document.progress_msg}")


async def test_killed_worker_job_is_finished_by_another(server_url: str) -> None:
    url = await create_database(server_url)
    runtime = await build_runtime(Settings(database_url=url), worker=False, warm=False)
    first = second = None
    try:
        document_id = await queue_parse(runtime)
        first = start_worker(url)
        await wait_for(runtime, document_id, lambda d: 0.3 <= d.progress < 0.9, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = await state(runtime, document_id)
        assert killed.run == "RUNNING" and killed.chunk_count == 0
        second = start_worker(url)
        finished = await wait_for(runtime, document_id, lambda d: d.run in ("DONE", "FAIL"), timeout=180)
        expected = len(chunk(parse(TEXT, "big.txt"), "naive", CONFIG))
        async with runtime.sessions() as db:
            stored, ordinals = (
                await db.execute(
                    select(func.count(), func.count(func.distinct(Chunk.ordinal))).where(
                        Chunk.document_id == document_id
                    )
                )
            ).one()
        assert finished.run == "DONE", finished.progress_msg
        assert finished.chunk_count == stored == ordinals == expected
        assert finished.progress_msg.count("Task has been received.") == 2
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
        await runtime.close()
