"""The embedded PostgreSQL is tuned for the machine it shares with the service."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from service.db.embedded import EmbeddedPostgres
from service.db.engine import asyncpg_dsn


async def test_parallel_queries_leave_the_leader_its_core(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # the server runs as its own user
    embedded = EmbeddedPostgres(tmp_path)
    url = embedded.start()
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            workers = await connection.fetchval("SHOW max_parallel_workers_per_gather")
        finally:
            await connection.close()
    finally:
        embedded.stop()
    assert int(workers) == max(1, (os.cpu_count() or 2) - 1)
