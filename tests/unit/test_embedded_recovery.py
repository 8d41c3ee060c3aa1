"""The embedded PostgreSQL after a crash: what a `kill -9` or a reboot leaves in the data directory is cleared on
the next start, and the last live process to stop still stops the server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from pgserver._commands import POSTGRES_BIN_PATH

from service.db.embedded import EmbeddedPostgres
from service.db.engine import asyncpg_dsn

ROOT = Path(__file__).resolve().parents[2]
# A process that starts (or joins) the embedded server of a data directory and then waits to be killed.
HOLDER = (
    "import sys, time; from pathlib import Path; from service.db.embedded import EmbeddedPostgres; "
    "EmbeddedPostgres(Path(sys.argv[1])).start(); print('up', flush=True); time.sleep(600)"
)


def servers_of(pgdata: Path) -> list[int]:
    """Pids of the PostgreSQL processes working in `pgdata` (the postmaster and its backends)."""
    found: list[int] = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "postgres" and Path(process.cwd()).resolve() == pgdata.resolve():
                found.append(int(process.pid))
        except psutil.Error:
            continue
    return found


def wait_for_no_server(pgdata: Path, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := servers_of(pgdata)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data folder of its own; whatever server a failing test leaves in it is shut down afterwards."""
    tmp_path.chmod(0o755)  # the server runs as its own user
    yield tmp_path
    for pid in servers_of(tmp_path / "pg"):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).send_signal(
                signal.SIGINT
            )  # the postmaster shuts down fast; a backend only cancels its query
    wait_for_no_server(tmp_path / "pg")


def kill_holder(data_dir: Path) -> None:
    """Start a process holding the embedded server of `data_dir`, then kill it with -9."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == b"up\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


async def answers(url: str) -> bool:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return bool(await connection.fetchval("SELECT 1") == 1)
    finally:
        await connection.close()


async def test_server_stops_with_the_last_live_process_after_others_were_killed(data_dir: Path) -> None:
    pgdata = data_dir / "pg"
    kill_holder(data_dir)  # as `nectar serve` killed with -9: its server runs on, its pid stays in the handles
    server = postmaster_pid(pgdata)
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        assert postmaster_pid(pgdata) == server  # joined the running server, did not start a second one
        assert await answers(url)
        kill_holder(data_dir)  # as a `nectar worker` that joined through the data dir, killed with -9
    finally:
        embedded.stop()
    assert wait_for_no_server(pgdata) == []


async def test_start_clears_a_stale_postmaster_pid_naming_a_live_process(data_dir: Path) -> None:
    pgdata = data_dir / "pg"
    embedded = EmbeddedPostgres(data_dir)
    embedded.start()
    left_by_crash = {name: (pgdata / name).read_text() for name in ("postmaster.pid", ".s.PGSQL.5432.lock")}
    embedded.stop()
    # As after a reboot: the files of the server that went down with the machine, their pid now another
    # process's (a child of ours, not our parent: pgserver 0.1.5 kills the process it takes for the server
    # when `pg_ctl stop` fails).
    other = subprocess.Popen(["sleep", "60"])
    try:
        for name, text in left_by_crash.items():
            _, rest = text.split("\n", 1)
            (pgdata / name).write_text(f"{other.pid}\n{rest}")
        handles = pgdata / ".handle_pids.json"
        handles.write_text(json.dumps([other.pid]))
        before_reboot = time.time() - 3600
        os.utime(handles, (before_reboot, before_reboot))
        url = embedded.start()
        try:
            assert await answers(url)
            assert postmaster_pid(pgdata) != other.pid
        finally:
            embedded.stop()
        assert wait_for_no_server(pgdata) == []
        assert other.poll() is None  # never signalled
    finally:
        other.kill()
        other.wait()


def pg_ctl(pgdata: Path, *args: str) -> None:
    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs the server as its own user under root
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", *args], check=True, user=user)


async def test_stop_stops_a_server_restarted_since_start(data_dir: Path) -> None:
    pgdata = data_dir / "pg"
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        first = postmaster_pid(pgdata)
        pg_ctl(pgdata, "-m", "fast", "restart")  # as an operator would, or as the worker tests do
        assert postmaster_pid(pgdata) != first
        assert await answers(url)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(first) and time.monotonic() < deadline:  # until init has reaped the old one
            time.sleep(0.1)
    finally:
        embedded.stop()
    assert wait_for_no_server(pgdata) == []
