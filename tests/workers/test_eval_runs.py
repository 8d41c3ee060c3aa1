"""Evaluation runs on the worker: an upstream failing on some items, the LLM judge, a 1,000-item run that
survives its worker being stopped, and two executions of one run at once; each item is scored exactly once.

A runtime of this module's own (a fresh database, the flaky upstream and a judge configured, no worker of its
own: each test starts the workers it needs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.db.models import EvalRun, EvalRunItem, Message, MessageMetadata, MessageTag
from service.domain.eval_execution import RunExecutor
from service.runtime import Runtime, build_runtime
from service.settings import LLMProvider, Settings
from tests.api.opsbee.helpers import call
from tests.api.opsbee.run_helpers import eval_dataset, many_items, start_run, wait_run
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import ASGIApp, Caller, create_database, new_caller
from tests.support.upstream import UpstreamProcess
from tests.workers.flaky_upstream import VERDICT, flaky_upstream
from workers.main import InlineWorker, start_inline


@pytest.fixture(scope="module")
def flaky_url() -> Iterator[str]:
    with flaky_upstream() as url:
        yield url


@pytest.fixture(scope="module")
async def own_runtime(
    server_url: str, upstream: UpstreamProcess, flaky_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Runtime]:
    settings = Settings(
        database_url=await create_database(server_url),
        data_dir=Path(tmp_path_factory.mktemp("eval-runs")),
        llm_providers={"echo": LLMProvider(upstream.base_url), "flaky": LLMProvider(flaky_url)},
        llm_timeout=5,
        eval_judge_llm="judge@flaky",
        worker_heartbeat_timeout=2,
    )
    runtime = await build_runtime(settings, worker=False)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="module")
async def own_client(own_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(runtime=own_runtime)))
    async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test", timeout=60) as client:
        yield client


@asynccontextmanager
async def consuming(runtime: Runtime) -> AsyncIterator[InlineWorker]:
    worker = await start_inline(runtime)
    try:
        yield worker
    finally:
        await worker.stop(timeout=5)


async def scalar(runtime: Runtime, query: Any) -> Any:
    async with runtime.sessions() as db:
        return await db.scalar(query)


async def test_an_upstream_failing_on_some_items_fails_those_items_only(
    own_runtime: Runtime, own_client: httpx.AsyncClient
) -> None:
    caller = await new_caller(own_runtime)
    deployment = await new_chat(own_client, caller, "flaky", llm_id="flaky@flaky")
    items = [
        ([{"input_text": "alpha"}], [{"output_text": "echo: alpha"}]),
        ([{"input_text": "FAIL beta"}], [{"output_text": "echo: beta"}]),
        ([{"input_text": "gamma UNREADABLE"}], [{"output_text": "echo: gamma UNREADABLE"}]),
    ]
    dataset_id = await eval_dataset(own_client, caller, items)
    async with consuming(own_runtime):
        run = await start_run(
            own_client, caller, dataset_id, deployment["id"], name="flaky", metrics=["exact_match", "llm_judge"]
        )
        run = await wait_run(own_client, caller, dataset_id, run["id"])
    assert run["status"] == "done" and run["progress"]["succeeded"] == 2 and run["progress"]["failed"] == 1
    [failure] = run["failures"]
    assert "HTTP 500" in failure["error_message"] and "upstream exploded" in failure["error_message"]
    assert run["scores"]["exact_match"] == {"count": 2, "mean": 1.0, "p50": 1.0, "p90": 1.0}
    assert run["scores"]["llm_judge"]["count"] == 1 and run["scores"]["llm_judge"]["mean"] == VERDICT["score"]

    page = await call(own_client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}/items")
    alpha, beta, gamma = page["items"]
    assert alpha["scores"]["llm_judge"] == 0.75 and alpha["judge_reason"] == VERDICT["reason"]
    assert beta["status"] == "error" and beta["scores"] == {} and beta["history_id"]  # the failed turn is a history
    assert "llm_judge" not in gamma["scores"] and "holds no score" in gamma["judge_reason"]
    failed = await call(
        own_client, caller, "GET", f"/deployments/{deployment['id']}/histories",
        params={"search_query": 'tag_name:"flaky" AND status:error'},
    )  # fmt: skip
    assert [history["id"] for history in failed["histories"]] == [beta["history_id"]]


async def wait_progress(runtime: Runtime, run_id: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done = int(
            await scalar(
                runtime, select(func.count()).where(EvalRunItem.run_id == run_id, EvalRunItem.status != "pending")
            )
        )
        if done >= at_least:
            return done
        assert time.monotonic() < deadline, done
        await asyncio.sleep(0.02)


async def assert_scored_once(runtime: Runtime, run_id: str, total: int) -> None:
    """Every item scored, each answer recorded as exactly one history, tagged and linked once."""
    async with runtime.sessions() as db:
        run = await db.get(EvalRun, run_id)
        assert run is not None and run.status == "done"
        statuses = dict(
            (
                await db.execute(
                    select(EvalRunItem.status, func.count())
                    .where(EvalRunItem.run_id == run_id)
                    .group_by(EvalRunItem.status)
                )
            ).all()
        )
        assert statuses == {"ok": total}
        planned = select(EvalRunItem.message_id).where(EvalRunItem.run_id == run_id)
        messages = dict(
            (
                await db.execute(
                    select(Message.status, func.count()).where(Message.id.in_(planned)).group_by(Message.status)
                )
            ).all()
        )
        assert messages == {"ok": total}  # no second answer, no abandoned one left behind
        links = await db.scalar(
            select(func.count()).where(MessageMetadata.message_id.in_(planned), MessageMetadata.key == "item_id")
        )
        tagged = await db.scalar(
            select(func.count()).where(MessageTag.message_id.in_(planned), MessageTag.tag_id == run.tag_id)
        )
        assert (links, tagged) == (total, total)


def stop_mid_job(worker: InlineWorker) -> None:
    """What a worker does when it loses the database under a running job (and a stopping worker's process does to
    its tasks): the job is cancelled where it is. Stopping first keeps it from consuming again."""
    manager = worker.worker._manager
    assert manager is not None
    worker.worker.stop()
    worker.worker._abandon(manager)


async def test_a_run_of_1000_items_resumes_after_its_worker_stops_and_scores_each_item_once(
    own_runtime: Runtime, own_client: httpx.AsyncClient
) -> None:
    caller = await new_caller(own_runtime)
    deployment = await new_chat(own_client, caller, "extractive")  # the built-in model: quick, no upstream
    dataset_id = await many_items(own_runtime, caller, 1000)
    async with consuming(own_runtime) as first:
        run = await start_run(own_client, caller, dataset_id, deployment["id"], concurrency=16, metrics=["exact_match"])
        await wait_progress(own_runtime, run["id"], 150)
        stop_mid_job(first)
    stopped_at = await wait_progress(own_runtime, run["id"], 0)
    await asyncio.sleep(0.3)
    assert 150 <= stopped_at == await wait_progress(own_runtime, run["id"], 0) < 1000  # nothing runs on
    assert await scalar(own_runtime, select(EvalRun.status).where(EvalRun.id == run["id"])) == "running"
    async with consuming(own_runtime):
        finished = await wait_run(own_client, caller, dataset_id, run["id"], timeout=120)
    assert finished["progress"] == {
        "total": 1000,
        "done": 1000,
        "succeeded": 1000,
        "failed": 0,
        "pending": 0,
        "ratio": 1.0,
    }
    await assert_scored_once(own_runtime, run["id"], 1000)


async def test_two_executions_of_one_run_at_once_still_score_each_item_once(
    own_runtime: Runtime, own_client: httpx.AsyncClient
) -> None:
    """What a stale worker racing the one that took its job over comes to: the later lease wins, nothing doubles."""
    caller = await new_caller(own_runtime)
    deployment = await new_chat(own_client, caller, "echo", llm_id="echo@echo")
    dataset_id = await many_items(own_runtime, caller, 40)
    run = await start_run(own_client, caller, dataset_id, deployment["id"], concurrency=4, metrics=["exact_match"])
    executor = RunExecutor(own_runtime.sessions, own_runtime.answerer(), own_runtime.models, None)
    first = asyncio.create_task(executor.execute(run["id"]))
    await wait_progress(own_runtime, run["id"], 5)
    await asyncio.gather(first, executor.execute(run["id"]))
    await assert_scored_once(own_runtime, run["id"], 40)
    page = await call(own_client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}")
    assert page["scores"]["exact_match"]["mean"] == 1.0


async def test_a_run_whose_deployment_is_deleted_fails_and_says_why(
    own_runtime: Runtime, own_client: httpx.AsyncClient
) -> None:
    caller: Caller = await new_caller(own_runtime)
    deployment = await new_chat(own_client, caller, "doomed")
    dataset_id = await many_items(own_runtime, caller, 3)
    run = await start_run(own_client, caller, dataset_id, deployment["id"])
    await call(own_client, caller, "DELETE", f"/deployments/{deployment['id']}")
    async with consuming(own_runtime):
        failed = await wait_run(own_client, caller, dataset_id, run["id"])
    assert failed["status"] == "failed" and "deleted" in failed["error_message"] and failed["deployment_id"] is None
