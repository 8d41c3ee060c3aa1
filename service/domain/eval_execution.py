"""Running an evaluation run: what the worker does with an `EVAL_RUN` job (workers/eval_runs.py).

Every pending item is asked of the deployment through the `Answerer`, exactly as a user's first question in a
new conversation (retrieval, prompt, LLM, one recorded history), scored, and recorded.

Exactly once, across worker restarts and overlapping executions:
- each execution takes the run's `lease`; an item's result is written only while the lease is still its own,
  and only over a `pending` item (one conditional UPDATE), so no item is scored twice;
- an item's history id is chosen when the run is made: an execution that finds it already recorded (its
  predecessor answered, then died before scoring) scores that answer instead of asking again. A history left
  `cancelled` by a stopped worker is no answer: it is removed and the item asked again;
- tags and metadata go on the history in the transaction that records the item, so they come exactly once too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import EvalRun, EvalRunItem, Message, new_id, utcnow
from service.domain.answering import Answerer, Question
from service.domain.assistants import AssistantConfig
from service.domain.eval_runs import ACTIVE
from service.domain.judge import judge
from service.domain.metrics import LLM_JUDGE, Scored, score
from service.domain.system_tags import add_metadata, add_tag
from service.errors import DomainError
from service.jobs import EVAL_RUN, enqueue
from service.providers.llm import ModelRegistry

CHANNEL = "eval"  # how an evaluation run's histories show which face asked
PAGE = 200  # pending items read at a time (in item order)
UNRECORDED = "the answer could not be recorded (the deployment or the run's thread was deleted meanwhile)"
DEPLOYMENT_GONE = "the deployment was deleted during the run"


@dataclass
class Result:
    """An item's outcome, ready to be written."""

    status: str  # ok | error
    answer: str = ""
    error: str = ""
    scores: dict[str, float] | None = None
    judge_reason: str = ""
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class RunExecutor:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        answerer: Answerer,
        models: ModelRegistry,
        judge_llm: str | None,
    ) -> None:
        self.sessions = sessions
        self.answerer = answerer
        self.models = models
        self.judge_llm = judge_llm

    async def execute(self, run_id: str) -> None:
        """Answer the run's pending items, then mark it done (unless it was cancelled or taken over meanwhile)."""
        lease = new_id()
        run = await self._take(run_id, lease)
        if run is None:
            return
        try:
            await self._drain(run, lease)
        except BaseExceptionGroup as group:  # one item's unexpected failure, unwrapped for the worker
            raise group.exceptions[0] from None
        await self._finish(run, lease)

    async def _take(self, run_id: str, lease: str) -> EvalRun | None:
        async with self.sessions() as db:
            run = await db.scalar(select(EvalRun).where(EvalRun.id == run_id).with_for_update())
            if run is None or run.status not in ACTIVE:
                return None
            if run.assistant_id is None:
                run.status, run.error, run.finished_at = "failed", DEPLOYMENT_GONE, utcnow()
                await db.commit()
                return None
            run.status, run.lease, run.started_at = "running", lease, run.started_at or utcnow()
            await db.commit()
            return run

    async def _pending(self, run_id: str, after: int) -> Sequence[EvalRunItem]:
        async with self.sessions() as db:
            query = select(EvalRunItem).where(
                EvalRunItem.run_id == run_id, EvalRunItem.status == "pending", EvalRunItem.ordinal > after
            )
            return (await db.scalars(query.order_by(EvalRunItem.ordinal).limit(PAGE))).all()

    async def _drain(self, run: EvalRun, lease: str) -> None:
        """Up to `run.concurrency` items at a time, in item order, until none is pending or the run is not ours."""
        limiter = asyncio.Semaphore(run.concurrency)
        lost = asyncio.Event()

        async def one(item: EvalRunItem) -> None:
            try:
                if not await self._item(run, item, lease):
                    lost.set()
            finally:
                limiter.release()

        cursor = -1
        async with asyncio.TaskGroup() as group:
            while not lost.is_set() and (page := await self._pending(run.id, cursor)):
                for item in page:
                    await limiter.acquire()
                    if lost.is_set():
                        limiter.release()
                        return
                    group.create_task(one(item))
                cursor = page[-1].ordinal

    async def _item(self, run: EvalRun, item: EvalRunItem, lease: str) -> bool:
        """Answer, score and record one item; False (and nothing done) when the run is no longer ours."""
        async with self.sessions() as db:
            if not await _owned(db, run.id, lease):
                return False
            answered = await _earlier_answer(db, item)
        if not answered:
            await self._ask(run, item)
        async with self.sessions() as db:
            message = await db.get(Message, item.message_id)
            result = _measured(run, item, message)
            if not (self._judging(run) and result.status == "ok"):
                await _write(db, run, item, lease, result, message)
                return True
        assert message is not None  # an ok result has its history
        await self._judge(result, item, message)
        async with self.sessions() as db:
            await _write(db, run, item, lease, result, message)
        return True

    async def _ask(self, run: EvalRun, item: EvalRunItem) -> None:
        """The item's question through the deployment; the answer (or the failure) is recorded as its history."""
        question = Question(
            run.tenant_id,
            run.assistant_id,
            AssistantConfig.load(run.config),
            item.question,
            CHANNEL,
            session_id=run.thread_id,
            history=[],  # never the thread's other items
            message_id=item.message_id,
        )
        try:
            await self.answerer.complete(question)
        except DomainError:
            pass  # recorded as a failed history
        except IntegrityError:
            pass  # recorded first by an overlapping execution of this run, or not recordable at all

    def _judging(self, run: EvalRun) -> bool:
        return LLM_JUDGE in run.metrics

    async def _judge(self, result: Result, item: EvalRunItem, message: Message) -> None:
        if not self.judge_llm:
            result.judge_reason = "no judge model is configured (NECTAR_EVAL_JUDGE_LLM) on the worker that ran it"
            return
        verdict = await judge(self.models, self.judge_llm, item.question, item.expected, message.output)
        if verdict.score is not None and result.scores is not None:
            result.scores[LLM_JUDGE] = verdict.score
        result.judge_reason = verdict.reason

    async def _finish(self, run: EvalRun, lease: str) -> None:
        async with self.sessions() as db:
            pending = exists().where(EvalRunItem.run_id == run.id, EvalRunItem.status == "pending")
            mine = (EvalRun.id == run.id, EvalRun.lease == lease, EvalRun.status == "running")
            gone = await db.scalar(select(EvalRun.assistant_id.is_(None)).where(*mine))
            values = {"status": "failed", "error": DEPLOYMENT_GONE} if gone else {"status": "done"}
            await db.execute(update(EvalRun).where(*mine, ~pending).values(**values, finished_at=utcnow()))
            await db.commit()


async def _owned(db: AsyncSession, run_id: str, lease: str) -> bool:
    """Still running, under this execution's lease, with its deployment."""
    row = (
        await db.execute(select(EvalRun.status, EvalRun.lease, EvalRun.assistant_id).where(EvalRun.id == run_id))
    ).first()
    return row is not None and row[0] == "running" and row[1] == lease and row[2] is not None


async def _earlier_answer(db: AsyncSession, item: EvalRunItem) -> bool:
    """Whether an earlier execution recorded the item's answer. One a stopped worker left `cancelled` is no
    answer: it is removed, and the item asked again."""
    message = await db.get(Message, item.message_id)
    if message is not None and message.status == "cancelled":
        await db.delete(message)
        await db.commit()
        return False
    return message is not None


def _measured(run: EvalRun, item: EvalRunItem, message: Message | None) -> Result:
    """The item's result from its recorded history: every metric but the judge's."""
    if message is None:
        return Result("error", error=UNRECORDED)
    result = Result(
        "ok" if message.status == "ok" else "error",
        answer=message.output,
        error=message.error or ("" if message.status == "ok" else f"the answer ended {message.status}"),
        latency_ms=round(message.latency_ms, 3),
        prompt_tokens=message.prompt_tokens,
        completion_tokens=message.completion_tokens,
    )
    if result.status == "ok":
        scored = Scored(
            message.output,
            item.expected,
            list(message.reference.get("chunks", [])),
            frozenset(item.relevant.get("documents", [])),
            frozenset(item.relevant.get("chunks", [])),
            message.latency_ms,
            message.prompt_tokens + message.completion_tokens,
        )
        result.scores = score(run.metrics, scored)
    return result


async def _write(
    db: AsyncSession, run: EvalRun, item: EvalRunItem, lease: str, result: Result, message: Message | None
) -> None:
    """Record the result and, with it, the history's tag and links (the failed turns' too), then commit."""
    if await _record(db, run, item, lease, result) and message is not None:
        if run.tag_id:
            await add_tag(db, message, run.tag_id)
        add_metadata(db, message, [("run_id", run.id), ("item_id", item.item_id)])
    await db.commit()


async def _record(db: AsyncSession, run: EvalRun, item: EvalRunItem, lease: str, result: Result) -> bool:
    """Write the item's result if it is still pending and the run still this execution's; False otherwise."""
    ours = exists().where(EvalRun.id == run.id, EvalRun.lease == lease)
    written = await db.execute(
        update(EvalRunItem)
        .where(EvalRunItem.id == item.id, EvalRunItem.status == "pending", ours)
        .values(
            status=result.status,
            answer=result.answer,
            error=result.error,
            scores=result.scores or {},
            judge_reason=result.judge_reason,
            latency_ms=result.latency_ms,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            updated_at=utcnow(),
        )
        .returning(EvalRunItem.id)
    )
    return written.first() is not None


async def requeue(sessions: async_sessionmaker[AsyncSession], run_id: str) -> bool:
    """Queue the run again when it is still queued or running (its worker is stopping); True when queued."""
    async with sessions() as db:
        status = await db.scalar(select(EvalRun.status).where(EvalRun.id == run_id))
        if status not in ACTIVE:
            return False
        await enqueue(db, EVAL_RUN, [{"run_id": run_id}])
        await db.commit()
        return True


async def fail(sessions: async_sessionmaker[AsyncSession], run_id: str, error: str) -> None:
    """The run stops for good with `error` (a fault of ours, not of one item)."""
    async with sessions() as db:
        await db.execute(
            update(EvalRun)
            .where(EvalRun.id == run_id, EvalRun.status.in_(ACTIVE))
            .values(status="failed", error=error, finished_at=utcnow())
        )
        await db.commit()
