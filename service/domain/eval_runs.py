"""Evaluation runs (our extension of OpsBee, like Langfuse's dataset runs): a dataset asked of a deployment.

Making a run copies what each item asks and expects into `eval_run_items` and queues one `EVAL_RUN` job; the
worker answers the items (domain/eval_execution.py). Each answer is a history of the deployment, recorded in a
thread of the run (a QA deployment's own thread), tagged with the run's name and carrying `run_id`/`item_id`
metadata. Progress, scores and comparisons: domain/eval_summary.py.

What an item asks: the `inputs` entry named `input_text`, `question`, `query`, `input` or `prompt` (else the
last entry other than `thread_name`). What it expects: the `outputs` entry `output_text`, `expected_output`,
`expected`, `answer` or `output` (else the first entry). What should be retrieved: entries of `outputs` or
`metadata` named `document_id(s)`, `document_name(s)` (a name matches with or without its extension) or
`chunk_id(s)`, each a string (commas separate several) or a list of strings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, EvalDataset, EvalItem, EvalRun, EvalRunItem, new_id, utcnow
from service.domain import conversations, threads
from service.domain.assistants import config_of
from service.domain.deployments import get_deployment
from service.domain.judge import check_judge
from service.domain.metrics import LLM_JUDGE, check_metrics
from service.domain.pages import Page, paged
from service.domain.system_tags import ensure_tag
from service.errors import Conflict, Invalid, NotFound
from service.jobs import EVAL_RUN, enqueue
from service.providers.llm import ModelRegistry

STATUSES = ("queued", "running", "done", "cancelled", "failed")
ACTIVE = ("queued", "running")
ITEM_STATUSES = ("pending", "ok", "error")
MAX_CONCURRENCY = 16
DEFAULT_CONCURRENCY = 4
QUESTION_KEYS = ("input_text", "question", "query", "input", "prompt")
EXPECTED_KEYS = ("output_text", "expected_output", "expected", "answer", "output")
DOCUMENT_KEYS = ("document_id", "document_ids", "document_name", "document_names")
CHUNK_KEYS = ("chunk_id", "chunk_ids")
RUN_TAG_COLOR = "blue"
NO_QUESTION = "the item has no input text: its inputs need an `input_text` (or `question`) entry"


@dataclass
class RunRequest:
    deployment_id: str
    name: str
    metrics: list[str]
    concurrency: int


def _concurrency(value: Any) -> int:
    if value is None:
        return DEFAULT_CONCURRENCY
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise Invalid(f"`concurrency` must be an integer from 1 to {MAX_CONCURRENCY}")
    return value


def _run_name(value: Any) -> str:
    if value is None:
        return "run " + datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if not isinstance(value, str) or not value.strip():
        raise Invalid("`name` must be a non-empty string")
    if len(value.strip().encode()) > 255:
        raise Invalid("`name` must be at most 255 bytes")
    return value.strip()


def run_request(body: dict[str, Any]) -> RunRequest:
    deployment_id = body.get("deployment_id")
    if not isinstance(deployment_id, str) or not deployment_id:
        raise Invalid("`deployment_id` is required")
    return RunRequest(
        deployment_id,
        _run_name(body.get("name")),
        check_metrics(body.get("metrics")),
        _concurrency(body.get("concurrency")),
    )


# --- what an item asks, expects and should retrieve -----------------------------------------------------------


def _entries(pairs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(key, value) for pair in pairs if isinstance(pair, dict) for key, value in pair.items()]


def _named(entries: list[tuple[str, Any]], keys: tuple[str, ...]) -> str | None:
    found = {key: value for key, value in entries if isinstance(value, str)}
    return next((found[key] for key in keys if key in found), None)


def question_of(item: EvalItem) -> str:
    entries = _entries(item.inputs)
    named = _named(entries, QUESTION_KEYS)
    if named is None:
        others = [value for key, value in entries if key != "thread_name" and isinstance(value, str)]
        named = others[-1] if others else ""
    return named.strip()


def expected_of(item: EvalItem) -> str | None:
    entries = [(k, v) for k, v in _entries(item.outputs) if k not in DOCUMENT_KEYS + CHUNK_KEYS]
    named = _named(entries, EXPECTED_KEYS)
    if named is None:
        named = next((value for _, value in entries if isinstance(value, str)), None)
    return named


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [part.strip() for part in value if isinstance(part, str) and part.strip()]
    return []


def relevant_of(item: EvalItem) -> dict[str, list[str]]:
    entries = _entries(item.outputs) + _entries(item.metadata_)
    documents = [v for key, value in entries if key in DOCUMENT_KEYS for v in _values(value)]
    chunks = [v for key, value in entries if key in CHUNK_KEYS for v in _values(value)]
    return {"documents": list(dict.fromkeys(documents)), "chunks": list(dict.fromkeys(chunks))}


def _planned(run: EvalRun, ordinal: int, item: EvalItem) -> dict[str, Any]:
    question = question_of(item)
    return {
        "id": new_id(),
        "tenant_id": run.tenant_id,
        "run_id": run.id,
        "item_id": item.id,
        "ordinal": ordinal,
        "message_id": new_id(),
        "question": question,
        "expected": expected_of(item),
        "relevant": relevant_of(item),
        "status": "pending" if question else "error",
        "error": "" if question else NO_QUESTION,
        "answer": "",
        "scores": {},
        "judge_reason": "",
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }


# --- making, reading, cancelling, deleting --------------------------------------------------------------------


async def _thread_of(db: AsyncSession, assistant: Assistant, name: str) -> str:
    """A QA deployment records in its one thread; a chat deployment's run gets a thread of its own."""
    if assistant.kind == "qa":
        return (await threads.qa_thread(db, assistant)).id
    return (await conversations.create_session(db, assistant, f"evaluation run: {name}"[:255])).id


async def _check_name_free(db: AsyncSession, dataset: EvalDataset, name: str) -> None:
    taken = await db.scalar(select(EvalRun.id).where(EvalRun.dataset_id == dataset.id, EvalRun.name == name))
    if taken is not None:
        raise Conflict(f"dataset {dataset.id} already has a run named {name!r}")


async def create_run(
    db: AsyncSession, dataset: EvalDataset, body: dict[str, Any], models: ModelRegistry, judge_llm: str | None
) -> EvalRun:
    """Check the request, copy the items, queue the job (committed with the run, or not at all)."""
    request = run_request(body)
    assistant = await get_deployment(db, dataset.tenant_id, request.deployment_id)
    config = dataclasses.replace(config_of(assistant), memory_mode="none")  # each item is a first question
    if LLM_JUDGE in request.metrics:
        check_judge(models, judge_llm)
    await _check_name_free(db, dataset, request.name)
    items = list(
        await db.scalars(
            select(EvalItem).where(EvalItem.dataset_id == dataset.id).order_by(EvalItem.created_at, EvalItem.id)
        )
    )
    if not items:
        raise Invalid(f"dataset {dataset.id} has no items to run")
    run = EvalRun(
        tenant_id=dataset.tenant_id,
        dataset_id=dataset.id,
        assistant_id=assistant.id,
        name=request.name,
        metrics=request.metrics,
        concurrency=request.concurrency,
        config=config.dump(),
        status="queued",
        total=len(items),
        tag_id=await ensure_tag(
            db, dataset.tenant_id, request.name, f"evaluation run of {dataset.name}", RUN_TAG_COLOR
        ),
        thread_id=await _thread_of(db, assistant, request.name),
        error="",
    )
    db.add(run)
    await db.flush()
    await db.execute(insert(EvalRunItem), [_planned(run, ordinal, item) for ordinal, item in enumerate(items)])
    await enqueue(db, EVAL_RUN, [{"run_id": run.id}])
    await db.refresh(run)
    return run


async def get_run(db: AsyncSession, dataset: EvalDataset, run_id: str) -> EvalRun:
    run = await db.scalar(select(EvalRun).where(EvalRun.id == run_id, EvalRun.dataset_id == dataset.id))
    if run is None:
        raise NotFound(f"run {run_id} not found in dataset {dataset.id}")
    return run


async def list_runs(db: AsyncSession, dataset: EvalDataset, page: Page) -> tuple[list[EvalRun], int]:
    query = select(EvalRun).where(EvalRun.dataset_id == dataset.id)
    return await paged(db, query.order_by(EvalRun.created_at.desc(), EvalRun.id), page)


async def update_run(db: AsyncSession, run: EvalRun, body: dict[str, Any]) -> EvalRun:
    """The one change a run takes: `{"status": "cancelled"}`."""
    if body.get("status") != "cancelled" or set(body) - {"status"}:
        raise Invalid('a run takes one change: `{"status": "cancelled"}`')
    return await cancel_run(db, run)


async def cancel_run(db: AsyncSession, run: EvalRun) -> EvalRun:
    """A queued or running run stops: the worker takes no further item (those being answered are kept)."""
    if run.status not in ACTIVE:
        raise Conflict(f"run {run.id} is {run.status}; only a queued or running run can be cancelled")
    run.status, run.finished_at = "cancelled", utcnow()
    await db.flush()
    await db.refresh(run)
    return run


async def delete_run(db: AsyncSession, run: EvalRun) -> None:
    """The run and its items go (a running one stops at its next item); the histories it recorded stay."""
    await db.delete(run)
    await db.flush()


def item_status(value: str | None) -> str | None:
    if value is not None and value not in ITEM_STATUSES:
        raise Invalid(f"`status` must be one of {', '.join(ITEM_STATUSES)}")
    return value


async def list_run_items(
    db: AsyncSession, run: EvalRun, page: Page, status: str | None = None
) -> tuple[list[EvalRunItem], int]:
    query = select(EvalRunItem).where(EvalRunItem.run_id == run.id)
    if item_status(status) is not None:
        query = query.where(EvalRunItem.status == status)
    return await paged(db, query.order_by(EvalRunItem.ordinal), page)
