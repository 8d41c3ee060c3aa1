"""Resident memory of a worker process before, during and after large documents (issue #13, point 8).

One process, as `nectar serve` runs it: the runtime with its in-process worker on an embedded PostgreSQL in
a temporary folder. After a warm-up document (the model loaded, every code path run once), each large
document is uploaded and parsed to the end; RSS is sampled every 20 ms meanwhile, read once it is DONE or
FAIL (the worker has handed freed memory back by then), and again after the bench's own `gc.collect()` and
glibc `malloc_trim(0)` (what is left to win).

Run: `.venv/bin/python -m bench.parse_memory [--record]` (--record rewrites its section of bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import io
import os
import platform
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import docx

from bench.common import record
from service.db.models import Document
from service.domain import datasets, documents
from service.domain.tenants import create_tenant
from service.runtime import Runtime, build_runtime
from service.settings import Settings


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


class PeakSampler:
    def __init__(self) -> None:
        self.peak = rss_mib()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def docx_of(paragraphs: int) -> bytes:
    """A .docx of many short paragraphs, written as XML (python-docx itself would take minutes)."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    out = io.BytesIO()
    body = "".join(f"<w:p><w:r><w:t>Paragraph {i} of the staff handbook.</w:t></w:r></w:p>" for i in range(paragraphs))
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                content = content.replace(b"<w:body>", b"<w:body>" + body.encode(), 1)
            target.writestr(info.filename, content)
    return out.getvalue()


def csv_of(rows: int) -> bytes:
    return b"id,name,notes\n" + b"".join(b"%d,item %d,a short note about item %d\n" % (i, i, i) for i in range(rows))


async def parse_one(runtime: Runtime, tenant_id: str, name: str, data: bytes) -> Document:
    async with runtime.sessions() as db:
        dataset = await datasets.create_dataset(db, tenant_id, {"name": name}, runtime.settings.default_embedding_model)
        [document] = await documents.upload(db, dataset, [documents.Upload(name, data)], tenant_id, 10**9)
        await documents.start_parsing(db, dataset, [document.id])
        await db.commit()
    while True:
        await asyncio.sleep(0.2)
        async with runtime.sessions() as db:
            row = await db.get(Document, document.id)
            assert row is not None
            if row.run in ("DONE", "FAIL"):
                return row


def released() -> tuple[float, float]:
    gc.collect()
    collected = rss_mib()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return collected, rss_mib()


async def measure() -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="nectar-bench-memory-"))
    folder.chmod(0o755)
    runtime = await build_runtime(Settings(data_dir=folder, embed_parallel=len(os.sched_getaffinity(0))))
    lines = [
        "| document | size | result | RSS before | peak | 1 s after DONE/FAIL | then gc + malloc_trim | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    try:
        async with runtime.sessions() as db:
            tenant = await create_tenant(db, "bench")
            await db.commit()
        await parse_one(runtime, tenant.id, "warm-up.txt", b"warm up\n\nsecond paragraph")
        samples = [
            ("docx, 50,000 paragraphs", "handbook.docx", docx_of(50_000)),
            ("CSV, 20,000 rows", "items.csv", csv_of(20_000)),
            ("docx, 300,000 paragraphs (over the limit)", "hostile.docx", docx_of(300_000)),
        ]
        for label, name, data in samples:
            before = released()[1]
            began = time.perf_counter()
            with PeakSampler() as sampler:
                document = await parse_one(runtime, tenant.id, name, data)
            seconds = time.perf_counter() - began
            await asyncio.sleep(1)  # the worker hands freed memory back once the run is over
            after = rss_mib()
            trimmed = released()[1]
            result = f"{document.run}, {document.chunk_count} chunks"
            lines.append(
                f"| {label} | {len(data) / 1024:,.0f} KiB | {result} | {before:.0f} MiB | {sampler.peak:.0f} MiB"
                f" | {after:.0f} MiB | {trimmed:.0f} MiB | {seconds:.1f} |"
            )
            print(lines[-1], flush=True)
    finally:
        await runtime.close()
    return lines


def main() -> None:
    lines = [
        "One process with the in-process worker (as `nectar serve`), default limits; resident memory (RSS).",
        f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, CPU only.",
        "",
        *asyncio.run(measure()),
    ]
    if "--record" in sys.argv:
        record("Memory per document (bench/parse_memory.py)", lines)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
