"""The PostgreSQL job queue (pgqueuer), producer side: jobs are enqueued inside the caller's transaction.

The consumer (what `nectar worker` runs) is `workers/`; both meet only through the job names below.
"""

from __future__ import annotations

import json
from typing import Any

from pgqueuer import AsyncpgDriver
from pgqueuer.queries import Queries
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

INGEST = "ingest_document"  # payload: {"document_id", "run_id"}
MEMORY = "update_memory"  # payload: {"message_id"}
EVAL_RUN = "eval_run"  # payload: {"run_id"}; an evaluation run, resumed where it stopped


async def enqueue(db: AsyncSession, entrypoint: str, payloads: list[dict[str, Any]]) -> None:
    """Insert jobs on the session's own connection, so they commit (or roll back) with the caller's rows."""
    if not payloads:
        return
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    queries = Queries(AsyncpgDriver(raw.driver_connection))
    await queries.enqueue(
        [entrypoint] * len(payloads),
        [json.dumps(payload).encode() for payload in payloads],
        [0] * len(payloads),
    )


async def queue_depth(db: AsyncSession) -> dict[str, int]:
    """Jobs by status (queued, picked, ...)."""
    rows = await db.execute(text("SELECT status::text, count(*) FROM pgqueuer GROUP BY status"))
    return {status: int(count) for status, count in rows}
