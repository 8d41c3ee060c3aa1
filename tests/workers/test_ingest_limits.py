"""Work per document is bounded: through the API, each hostile document FAILs naming the limit it broke and
its setting (never a stack trace or SQL), and a stop ends a parse under way within seconds.

Each test runs its own runtime (in-process worker, fresh database on the session's server) with small limits
set through Settings, so every case takes a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import openpyxl

from service.app import create_app
from service.runtime import build_runtime
from service.settings import Settings
from tests.api.ragflow.helpers import call, document, new_dataset, parse, upload, wait_parsed
from tests.conftest import ASGIApp, Caller, create_database, new_caller
from tests.support.hostile_files import docx_with_paragraphs, saved, zip_bomb

PARSERS = os.path.join("service", "text", "parse.py")
LEAKS = ("Traceback", "SELECT", "INSERT", "sqlalchemy", "asyncpg", 'File "')


@asynccontextmanager
async def served(server_url: str, **limits: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Caller]]:
    """The app, its in-process worker and a caller, on a fresh database, with these Settings."""
    settings = Settings(database_url=await create_database(server_url), **limits)
    runtime = await build_runtime(settings, worker=True)
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(runtime=runtime)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test", timeout=60) as client:
            yield client, await new_caller(runtime)
    finally:
        await runtime.close()


def failure(doc: dict[str, Any]) -> str:
    """The run's error line, checked for anything an operator's log should not show a user."""
    assert doc["run"] == "FAIL", doc["progress_msg"]
    assert not any(leak in doc["progress_msg"] for leak in LEAKS), doc["progress_msg"]
    return str(doc["progress_msg"]).rsplit("[ERROR] ", 1)[1]


def wide_sheet(cells: int) -> bytes:
    book = openpyxl.Workbook()
    book.active.append([f"column {i}" for i in range(cells)])
    return saved(book)


async def test_each_limit_fails_its_document_with_the_limit_and_its_setting(server_url: str) -> None:
    limits = {
        "parse_max_expanded_bytes": 3_000_000,  # a blank .docx already holds 0.8 MB
        "parse_max_paragraphs": 1_000,
        "parse_max_rows": 50,
        "parse_max_columns": 100,
        "max_chunks_per_document": 20,
    }
    files = {
        "bomb.xlsx": (zip_bomb("xl/worksheets/sheet1.xml", 10_000_000), "NECTAR_PARSE_MAX_EXPANDED_BYTES"),
        "long.docx": (docx_with_paragraphs(3_000), "NECTAR_PARSE_MAX_PARAGRAPHS"),
        "tall.csv": (b"q,a\n" + b"".join(b"q%d,a\n" % i for i in range(60)), "NECTAR_PARSE_MAX_ROWS"),
        "wide.xlsx": (wide_sheet(500), "NECTAR_PARSE_MAX_COLUMNS"),
        "many.txt": (b"\n\n".join(b"Paragraph %d of many." % i for i in range(30)), "NECTAR_MAX_CHUNKS_PER_DOCUMENT"),
    }
    async with served(server_url, **limits) as (client, caller):
        dataset = await new_dataset(client, caller, parser_config={"chunk_token_num": 4})
        uploaded = await upload(
            client, caller, dataset["id"], ("fine.txt", b"A small document."), *((n, d) for n, (d, _) in files.items())
        )
        done = await parse(client, caller, dataset["id"], *(doc["id"] for doc in uploaded))
        by_name = {doc["name"]: doc for doc in done}
        assert by_name["fine.txt"]["run"] == "DONE"
        for name, (_, setting) in files.items():
            message = failure(by_name[name])
            assert message.endswith(f"(setting {setting}).") and "the limit of" in message, (name, message)
            assert by_name[name]["chunk_count"] == 0


async def test_a_parse_past_its_deadline_fails_naming_the_timeout(server_url: str) -> None:
    async with served(server_url, parse_timeout=1.5, parse_max_paragraphs=10**6) as (client, caller):
        dataset = await new_dataset(client, caller)
        [doc] = await upload(client, caller, dataset["id"], ("slow.docx", docx_with_paragraphs(300_000)))
        began = time.monotonic()
        [done] = await parse(client, caller, dataset["id"], doc["id"])
        assert failure(done) == "Parsing took longer than the limit of 1.5 seconds (setting NECTAR_PARSE_TIMEOUT)."
        assert time.monotonic() - began < 10


def parsing_threads() -> int:
    """Threads of this process that are inside a parser right now."""
    busy = 0
    for frame in sys._current_frames().values():
        current: Any = frame
        while current is not None and not current.f_code.co_filename.endswith(PARSERS):
            current = current.f_back
        busy += current is not None
    return busy


async def test_stop_ends_a_parse_under_way_within_seconds(server_url: str) -> None:
    async with served(server_url, parse_max_paragraphs=10**6, parse_timeout=120) as (client, caller):
        dataset = await new_dataset(client, caller)
        [doc] = await upload(client, caller, dataset["id"], ("slow.docx", docx_with_paragraphs(300_000)))
        await call(
            client, caller, "POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [doc["id"]]}
        )
        deadline = time.monotonic() + 30
        while not parsing_threads():
            assert time.monotonic() < deadline, "the parse never started"
            await asyncio.sleep(0.05)
        stop = await call(
            client, caller, "POST", f"/datasets/{dataset['id']}/documents/stop", json={"document_ids": [doc["id"]]}
        )
        assert stop["code"] == 0, stop
        stopped = time.monotonic()
        while parsing_threads():
            # ~1 s when the machine is idle (a 1 s run poll, then the next paragraph); the bound leaves room for a
            # loaded 2-core CI machine.
            assert time.monotonic() - stopped < 8, "the parse thread is still working after the stop"
            await asyncio.sleep(0.05)
        after = await wait_parsed(client, caller, dataset["id"], doc["id"])
        assert after["run"] == "CANCEL" and after["chunk_count"] == 0
        # The worker is free again: the next document is parsed at once.
        [small] = await upload(client, caller, dataset["id"], ("next.txt", b"Parsed after the stop."))
        [done] = await parse(client, caller, dataset["id"], small["id"])
        assert done["run"] == "DONE"
        assert (await document(client, caller, dataset["id"], doc["id"]))["run"] == "CANCEL"
