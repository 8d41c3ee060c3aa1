"""Workers across PostgreSQL restarts: how soon consuming resumes once the database is back.

A real `nectar serve` (its in-process worker) and a standalone `nectar worker` that joined through the data dir
share one embedded PostgreSQL, which is stopped (`pg_ctl -m fast stop`), left down, and started again, ROUNDS
times. Measured from `pg_ctl -w start` returning: both workers' queue connections back (pg_stat_activity), and a
small document queued then parsed to DONE over HTTP. Once, a big document is mid-parse when the database stops:
the time until a worker takes it up again. Last, the database stays down longer than the standalone worker's
NECTAR_WORKER_RECONNECT_TIMEOUT: the time until it exits, and its exit status.

    .venv/bin/python -m bench.worker_reconnect [--record]   (--record rewrites its section of bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
from pgserver._commands import POSTGRES_BIN_PATH

from bench.common import ROOT, WORK, Api, database_url, record, server

NAME = "worker_reconnect"
ROUNDS = 5
DOWN = 2.0  # seconds the database stays down each round
RECONNECT_TIMEOUT = 8.0  # the standalone worker's NECTAR_WORKER_RECONNECT_TIMEOUT in the last step
BIG = "\n".join(f"Paragraph {i}: the database may restart, the work goes on." for i in range(1500)).encode()


def pg_ctl(*args: str) -> None:
    pgdata = WORK / NAME / "pg"
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", *args],
        check=True,
        user=user,
        stdout=subprocess.DEVNULL,  # pg_ctl's server inherits its output: a pipe would never close
        stderr=subprocess.DEVNULL,
    )


def start_database() -> float:
    pgdata = WORK / NAME / "pg"
    pg_ctl("-o", '-h ""', "-o", f"-k {pgdata}", "-l", str(pgdata / "log"), "start")
    return time.monotonic()


def worker_connections() -> int:
    async def count() -> int:
        connection = await asyncpg.connect(database_url(NAME).replace("+asyncpg", ""))
        try:
            query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'nectar-worker'"
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    try:
        return asyncio.run(count())
    except (OSError, asyncpg.PostgresError):
        return 0


def wait(probe: Callable[[], bool], timeout: float = 120) -> float:
    began = time.monotonic()
    while not probe():
        if time.monotonic() - began > timeout:
            raise TimeoutError("not within the timeout")
        time.sleep(0.05)
    return time.monotonic()


def upload(api: Api, dataset_id: str, name: str, data: bytes) -> str:
    [doc] = api.call("POST", f"/datasets/{dataset_id}/documents", files=[("file", (name, data))])
    api.call("POST", f"/datasets/{dataset_id}/documents/parse", json={"document_ids": [doc["id"]]})
    return str(doc["id"])


def doc(api: Api, dataset_id: str, document_id: str) -> dict[str, object]:
    return dict(api.call("GET", f"/datasets/{dataset_id}/documents", params={"id": document_id})["docs"][0])


def parsed_to_done(api: Api, dataset_id: str, document_id: str) -> Callable[[], bool]:
    return lambda: doc(api, dataset_id, document_id)["run"] == "DONE"


def standalone_worker(log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NECTAR_DATA_DIR": str(WORK / NAME),
        "DATABASE_URL": "",
        "NECTAR_LOG_LEVEL": "WARNING",
        "NECTAR_WORKER_RECONNECT_TIMEOUT": str(RECONNECT_TIMEOUT),
    }
    output = open(log, "wb")  # noqa: SIM115 - the worker's log, open for its whole life
    command = [sys.executable, "-m", "service", "worker"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)


def rounds(api: Api, dataset_id: str) -> tuple[list[float], list[float]]:
    reconnected, parsed = [], []
    for round_ in range(ROUNDS):
        pg_ctl("-m", "fast", "stop")
        time.sleep(DOWN)
        back = start_database()
        reconnected.append(wait(lambda: worker_connections() == 2) - back)
        small = upload(api, dataset_id, f"small-{round_}.txt", b"Parsed after the restart.")
        parsed.append(wait(parsed_to_done(api, dataset_id, small)) - back)
    return reconnected, parsed


def interrupted(api: Api, dataset_id: str) -> tuple[float, float]:
    """A big document mid-parse when the database stops: seconds until it is taken up again, and until DONE."""
    big = upload(api, dataset_id, "big.txt", BIG)

    def received(times: int) -> Callable[[], bool]:
        return lambda: str(doc(api, dataset_id, big)["progress_msg"]).count("Task has been received.") == times

    wait(received(1))
    pg_ctl("-m", "fast", "stop")
    time.sleep(DOWN)
    back = start_database()
    again = wait(received(2)) - back
    done = wait(parsed_to_done(api, dataset_id, big), timeout=600) - back
    return again, done


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--record", action="store_true", help="rewrite this section of bench/RESULTS.md")
    should_record = arguments.parse_args().record
    with server(NAME) as api:
        worker = standalone_worker(WORK / NAME / "worker.log")
        wait(lambda: worker_connections() == 2, timeout=300)
        dataset = api.call("POST", "/datasets", json={"name": f"restarts-{time.time_ns()}"})
        reconnected, parsed = rounds(api, dataset["id"])
        again, done = interrupted(api, dataset["id"])
        pg_ctl("-m", "fast", "stop")
        stopped = time.monotonic()
        status = worker.wait(timeout=RECONNECT_TIMEOUT + 60)
        exited = time.monotonic() - stopped
        start_database()
        wait(lambda: worker_connections() == 1)  # serve's in-process worker never gives up
    lines = [
        f"One `nectar serve` and one standalone `nectar worker` on one embedded PostgreSQL; the database is stopped"
        f" (`pg_ctl -m fast stop`) for {DOWN:g} s and started {ROUNDS} times. Times from `pg_ctl -w start` returning."
        " 2 cores, CPU only, one run.",
        "",
        "| measure | median | max |",
        "|---|---|---|",
        f"| both workers' queue connections back | {statistics.median(reconnected):.2f} s | {max(reconnected):.2f} s |",
        f"| a document queued after the restart DONE | {statistics.median(parsed):.2f} s | {max(parsed):.2f} s |",
        "",
        f"A document mid-parse when the database stopped (1,500 paragraphs): taken up again {again:.1f} s after the"
        f" database was back (its lease expires NECTAR_WORKER_HEARTBEAT_TIMEOUT = 10 s after its last heartbeat),"
        f" DONE after {done:.1f} s.",
        f"Database kept down: the standalone worker (NECTAR_WORKER_RECONNECT_TIMEOUT = {RECONNECT_TIMEOUT:g}) exited"
        f" {exited:.1f} s after the stop with status {status}; serve's in-process worker reconnected once it was back.",
    ]
    print("\n".join(lines))
    if should_record:
        record("Workers across database restarts (bench/worker_reconnect.py)", lines)


if __name__ == "__main__":
    main()
