"""What the worker counts as the database going away (retry the job, keep the run) and what it does not (the
document fails with the error): a wrong call here either fails documents on a restart or retries them forever."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from workers.reconnect import connection_lost


async def test_an_unreachable_server_is_a_lost_connection(tmp_path: Path) -> None:
    with pytest.raises(OSError) as refused:  # no server socket in an empty folder
        await asyncpg.connect(f"postgresql://postgres@/postgres?host={tmp_path}", timeout=5)
    assert connection_lost(refused.value)
    try:
        raise RuntimeError("while handling it")
    except RuntimeError as wrapped:
        wrapped.__cause__ = refused.value
        assert connection_lost(wrapped)  # found under what wraps it


def test_a_missing_file_is_the_job_s_own_failure(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:  # a model folder that is not there, say
        (tmp_path / "model" / "config.json").read_text()
    assert not connection_lost(missing.value)
    assert not connection_lost(ValueError("Unable to create tensor"))
