"""Workers outlive the database: a PostgreSQL restart under a running worker is waited out, consuming resumes, the
document that was running is taken up again; a worker whose database stays away gives up and says so.

These tests restart a PostgreSQL of their own (never the session's), in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

import httpx
import pytest
from pgserver._commands import POSTGRES_BIN_PATH
from sqlalchemy import select, text

from service.app import create_app
from service.db.embedded import EmbeddedPostgres
from service.db.models import Chunk
from service.jobs import INGEST, enqueue
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from service.text.chunk import chunk
from service.text.parse import parse
from tests.api.ragflow.helpers import call, document, new_dataset, upload, wait_parsed
from tests.conftest import ASGIApp, Caller, create_database, new_caller
from workers.main import run_worker
from workers.reconnect import DatabaseUnreachable

CONFIG = {"chunk_token_num": 12}
# Big enough that its embedding (a chunk a line, ~150 chunks/s on two cores) is under way when the database
# stops, small enough to be parsed twice in a few seconds. Every line differs: a repeated text is one chunk.
BIG = "\n".join(f"Line {i}: the database restarts and the work goes on." for i in range(400)).encode()


@dataclass
class Server:
    """A PostgreSQL of this module's own, which the tests stop and start."""

    embedded: EmbeddedPostgres
    url: str

    def _pg_ctl(self, *args: str) -> None:
        user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs the server as its own user under root
        pgdata = str(self.embedded.pgdata.resolve())
        subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", pgdata, "-w", *args], check=True, user=user)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")  # what `pg_ctl restart` does first

    def start(self) -> None:
        sockets = str(self.embedded.pgdata.resolve())
        log = str(self.embedded.pgdata.resolve() / "log")
        self._pg_ctl("-o", '-h ""', "-o", f"-k {sockets}", "-l", log, "start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("restarted-pg")
    folder.chmod(0o755)
    embedded = EmbeddedPostgres(folder)
    url = embedded.start()
    yield Server(embedded, url)
    embedded.stop()


@pytest.fixture
async def runtime(server: Server) -> AsyncIterator[Runtime]:
    """A runtime with serve's in-process worker on a fresh database of the module's server."""
    settings = Settings(database_url=await create_database(server.url), worker_heartbeat_timeout=2)
    runtime = await build_runtime(settings, worker=True)
    yield runtime
    await runtime.close()


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(runtime=runtime)))
    async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test", timeout=60) as client:
        yield client


async def health(http: httpx.AsyncClient, caller: Caller) -> dict[str, Any]:
    reply = await http.get("/api/v1/system/healthz", headers=caller.headers)
    return cast(dict[str, Any], reply.json())


async def wait_until(probe: Any, timeout: float, what: str) -> float:
    """Poll the async `probe` until it returns true; the seconds it took."""
    began = time.monotonic()
    while not await probe():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - began


async def test_inline_worker_resumes_after_a_database_restart(
    server: Server, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    caller = await new_caller(runtime)
    dataset = await new_dataset(http, caller, parser_config=CONFIG)
    big, small = await upload(http, caller, dataset["id"], ("big.txt", BIG), ("small.txt", b"Queued after it."))
    await call(http, caller, "POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [big["id"]]})

    async def big_is_running() -> bool:
        return "Task has been received." in (await document(http, caller, dataset["id"], big["id"]))["progress_msg"]

    await wait_until(big_is_running, 60, "the big document's run to start")
    await asyncio.to_thread(server.stop)
    try:
        await asyncio.sleep(1)
        assert runtime.worker is not None
        with pytest.raises(RuntimeError, match="reconnecting"):  # healthz says why nothing is consumed
            runtime.check_worker()
    finally:
        await asyncio.to_thread(server.start)

    async def queue_ok() -> bool:
        return (await health(http, caller)).get("queue") == "ok"

    resumed = await wait_until(queue_ok, 10, "the worker to reconnect")
    print(f"worker consuming again {resumed:.2f} s after the database was back")
    await call(http, caller, "POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [small["id"]]})
    assert (await wait_parsed(http, caller, dataset["id"], small["id"], timeout=30))["run"] == "DONE"

    finished = await wait_parsed(http, caller, dataset["id"], big["id"], timeout=60)
    assert finished["run"] == "DONE", finished["progress_msg"]
    assert finished["progress_msg"].count("Task has been received.") == 2  # the interrupted run, taken up again
    expected = len({draft.content for draft in chunk(parse(BIG, "big.txt"), "naive", CONFIG)})
    async with runtime.sessions() as db:
        stored = (await db.execute(select(Chunk.ordinal).where(Chunk.document_id == big["id"]))).scalars().all()
    assert finished["chunk_count"] == len(stored) == len(set(stored)) == expected
    assert (await health(http, caller))["status"] == "ok"


async def test_standalone_worker_gives_up_when_the_database_stays_away(server: Server, runtime: Runtime) -> None:
    async def connections() -> int:
        async with runtime.sessions() as db:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return int((await db.execute(query)).scalar_one())

    before = await connections()
    standalone = replace(runtime, settings=replace(runtime.settings, worker_reconnect_timeout=1.5))
    worker = asyncio.create_task(run_worker(standalone))

    async def connected() -> bool:
        return await connections() > before

    await wait_until(connected, 10, "the standalone worker to connect")
    began = time.monotonic()
    await asyncio.to_thread(server.stop)
    try:
        with pytest.raises(DatabaseUnreachable, match="gave up reconnecting after"):
            await asyncio.wait_for(worker, 10)
        assert time.monotonic() - began >= 1.5  # it tried for as long as it was told, not just once
    finally:
        await asyncio.to_thread(server.start)


async def test_a_job_delivered_again_after_its_run_ended_changes_nothing(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    caller = await new_caller(runtime)
    dataset = await new_dataset(http, caller)
    [doc] = await upload(http, caller, dataset["id"], ("once.txt", b"Parsed exactly once."))
    await call(http, caller, "POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [doc["id"]]})
    done = await wait_parsed(http, caller, dataset["id"], doc["id"])
    async with runtime.sessions() as db:
        run_id = (await db.execute(text("SELECT run_id FROM documents WHERE id = :id"), {"id": doc["id"]})).scalar()
        # As when a worker lost its connection after the run was DONE but before the queue heard of it.
        await enqueue(db, INGEST, [{"document_id": doc["id"], "run_id": run_id}])
        await db.commit()

    async def consumed() -> bool:
        async with runtime.sessions() as db:
            return not (await db.execute(text("SELECT count(*) FROM pgqueuer"))).scalar()

    await wait_until(consumed, 30, "the job delivered again to be consumed")
    again = await document(http, caller, dataset["id"], doc["id"])
    assert (again["run"], again["progress_msg"], again["chunk_count"]) == (
        "DONE",
        done["progress_msg"],
        done["chunk_count"],
    )
