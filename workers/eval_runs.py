"""The evaluation-run job: `{"run_id": ...}` → the run's pending items answered and scored (domain/eval_execution.py).

A worker that dies mid-run leaves its job to the queue, which hands it to another worker once its heartbeat is
stale. A worker that is stopped (Ctrl-C, SIGTERM, a lost queue connection) has its job cancelled, which the
queue then forgets: the run is queued again here first, so it resumes wherever a worker is left. Either way the
execution that resumes scores only what is still pending (see eval_execution's lease).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain import eval_execution
from service.domain.answering import Answerer
from service.providers.llm import ModelRegistry
from workers.reconnect import connection_lost

log = logging.getLogger(__name__)


class EvalRunJob:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        answerer: Answerer,
        models: ModelRegistry,
        judge_llm: str | None,
    ) -> None:
        self.sessions = sessions
        self.executor = eval_execution.RunExecutor(sessions, answerer, models, judge_llm)

    async def __call__(self, payload: dict[str, Any]) -> None:
        run_id = str(payload["run_id"])
        try:
            await self.executor.execute(run_id)
        except asyncio.CancelledError:
            with anyio.CancelScope(shield=True):
                await self._requeue(run_id)
            raise
        except Exception as exc:
            if connection_lost(exc):
                raise  # the consumer queues the job again (the database's doing, not the run's)
            log.exception("evaluation run %s failed", run_id)
            await eval_execution.fail(
                self.sessions, run_id, f"internal error ({type(exc).__name__}); see the worker log"
            )

    async def _requeue(self, run_id: str) -> None:
        try:
            if await eval_execution.requeue(self.sessions, run_id):
                log.info("evaluation run %s queued again: its worker is stopping", run_id)
        except Exception:  # the database is gone too: the queue's own stale-heartbeat pickup takes the job up
            log.warning("evaluation run %s could not be queued again; the queue will hand it out", run_id)
