"""Evaluation runs over HTTP: a dataset asked of a deployment by the worker, scored, paged, compared, cancelled."""

from __future__ import annotations

import pytest

from service.runtime import Runtime
from tests.api.opsbee.helpers import Client, call, error
from tests.api.opsbee.run_helpers import eval_dataset, many_items, start_run, wait_run
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import Caller

ECHO = "echo@echo"
ITEMS = [
    ([{"thread_name": "t"}, {"input_text": "hello bees"}], [{"output_text": "echo: hello bees"}]),
    ([{"question": "where is the hive"}], [{"expected_output": "the hive is in the garden"}]),
    ([{"thread_name": "only a thread"}], [{"output_text": "nothing asked"}]),
]
TEXT_METRICS = ["exact_match", "contains", "f1", "rouge_l", "latency_ms", "tokens"]


async def echo_deployment(client: Client, caller: Caller, name: str = "echo") -> str:
    return str((await new_chat(client, caller, name, llm_id=ECHO))["id"])


async def test_a_run_asks_every_item_of_the_deployment_and_scores_the_answers(client: Client, caller: Caller) -> None:
    dataset_id = await eval_dataset(client, caller, ITEMS)
    deployment_id = await echo_deployment(client, caller)
    started = await start_run(client, caller, dataset_id, deployment_id, name="baseline", metrics=TEXT_METRICS)
    assert started["status"] == "queued" and started["progress"]["total"] == 3 and started["metrics"] == TEXT_METRICS

    run = await wait_run(client, caller, dataset_id, started["id"])
    assert run["status"] == "done", run
    assert run["progress"] == {"total": 3, "done": 3, "succeeded": 2, "failed": 1, "pending": 0, "ratio": 1.0}
    assert run["scores"]["exact_match"] == {"count": 2, "mean": 0.5, "p50": 0.5, "p90": 0.9}
    assert run["scores"]["contains"]["mean"] == 0.5 and 0 < run["scores"]["f1"]["mean"] < 1
    assert run["scores"]["tokens"]["count"] == 2 and run["scores"]["latency_ms"]["mean"] > 0
    [failure] = run["failures"]
    assert "no input text" in failure["error_message"]

    page = await call(client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}/items?limit=2")
    assert (page["total"], page["has_next"], len(page["items"])) == (3, True, 2)
    first, second = page["items"]
    assert first["answer"] == "echo: hello bees" and first["scores"]["exact_match"] == 1.0
    assert second["question"] == "where is the hive" and second["scores"]["exact_match"] == 0.0
    assert first["history_id"] and first["input_token_count"] > 0
    rest = await call(client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}/items?offset=2&status=error")
    assert rest["total"] == 1 and rest["items"] == []
    failed = await call(client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}/items?status=error")
    assert failed["items"][0]["history_id"] is None and failed["items"][0]["status"] == "error"

    # each answer is a history of the deployment: tagged with the run's name, linked to the run and the item
    found = await call(
        client, caller, "GET", f"/deployments/{deployment_id}/histories", params={"search_query": 'tag_name:"baseline"'}
    )
    assert {history["id"] for history in found["histories"]} == {first["history_id"], second["history_id"]}
    history = next(h for h in found["histories"] if h["id"] == first["history_id"])
    assert history["thread_id"] == run["thread_id"] and history["input_text"] == "hello bees"
    assert {item["key"]: item["value"] for item in history["metadata"]} == {
        "run_id": run["id"],
        "item_id": first["item_id"],
    }

    listed = await call(client, caller, "GET", f"/datasets/{dataset_id}/runs")
    assert [row["id"] for row in listed["runs"]] == [run["id"]] and "scores" not in listed["runs"][0]


async def test_two_runs_compare_per_metric_and_show_the_items_that_changed_most(client: Client, caller: Caller) -> None:
    dataset_id = await eval_dataset(client, caller, ITEMS[:2])
    echo = await echo_deployment(client, caller)
    extractive = str((await new_chat(client, caller, "extractive"))["id"])  # the built-in model: no knowledge
    metrics = ["exact_match", "f1"]
    first = await start_run(client, caller, dataset_id, extractive, name="before", metrics=metrics)
    second = await start_run(client, caller, dataset_id, echo, name="after", metrics=metrics)
    for run in (first, second):
        assert (await wait_run(client, caller, dataset_id, run["id"]))["status"] == "done"

    compared = await call(
        client, caller, "GET", f"/datasets/{dataset_id}/runs/compare?ids={first['id']},{second['id']}"
    )
    assert compared["baseline"]["id"] == first["id"] and compared["candidate"]["id"] == second["id"]
    assert compared["deltas"]["exact_match"] == 0.5 and compared["deltas"]["f1"] > 0
    assert compared["compared_items"] == 2
    top, *_ = compared["changed_items"]
    assert top["question"] == "hello bees" and top["deltas"]["exact_match"] == 1.0 and top["largest_change"] == 1.0
    one = await call(
        client, caller, "GET", f"/datasets/{dataset_id}/runs/compare?ids={first['id']},{second['id']}&limit=1"
    )
    assert len(one["changed_items"]) == 1

    for query, says in [
        ("ids=" + first["id"], "ids"),
        (f"ids={first['id']},{first['id']}", "ids"),
        ("ids=", "ids"),
        (f"ids={first['id']},{second['id']}&limit=0", "limit"),
    ]:
        assert says in await error(client, caller, "GET", f"/datasets/{dataset_id}/runs/compare?{query}", 400)
    assert await error(client, caller, "GET", f"/datasets/{dataset_id}/runs/compare?ids={first['id']},{'0' * 32}", 404)


async def test_cancel_stops_a_run_and_delete_removes_it(client: Client, caller: Caller, runtime: Runtime) -> None:
    dataset_id = await many_items(runtime, caller, 60)
    deployment_id = await echo_deployment(client, caller)
    run = await start_run(client, caller, dataset_id, deployment_id, concurrency=1, metrics=["exact_match"])
    path = f"/datasets/{dataset_id}/runs/{run['id']}"
    cancelled = await call(client, caller, "PATCH", path, json={"status": "cancelled"})
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]
    settled = await wait_run(client, caller, dataset_id, run["id"])
    assert settled["status"] == "cancelled" and settled["progress"]["pending"] > 0  # the worker took no more items
    assert "cancelled" in await error(client, caller, "PATCH", path, 409, json={"status": "cancelled"})
    assert "status" in await error(client, caller, "PATCH", path, 400, json={"status": "done"})

    removed = await call(client, caller, "DELETE", path)
    assert removed["id"] == run["id"]
    assert await error(client, caller, "GET", path, 404)
    assert (await call(client, caller, "GET", f"/datasets/{dataset_id}/runs"))["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({}, 400, "deployment_id"),
        ({"deployment_id": "0" * 32}, 404, "deployment"),
        ({"metrics": ["bleu"]}, 400, "unknown metric"),
        ({"metrics": ["retrieval_hit@0"]}, 400, "unknown metric"),
        ({"metrics": []}, 400, "metrics"),
        ({"metrics": ["llm_judge"]}, 400, "NECTAR_EVAL_JUDGE_LLM"),
        ({"concurrency": 0}, 400, "concurrency"),
        ({"concurrency": 17}, 400, "concurrency"),
        ({"concurrency": True}, 400, "concurrency"),
        ({"name": ""}, 400, "name"),
        ({"name": 5}, 400, "name"),
    ],
)
async def test_bad_run_requests_are_refused_clearly(
    client: Client, caller: Caller, body: dict[str, object], status: int, says: str
) -> None:
    dataset_id = await eval_dataset(client, caller, ITEMS[:1])
    deployment_id = await echo_deployment(client, caller)
    sent = {"deployment_id": deployment_id, **body} if "deployment_id" not in body and body != {} else body
    assert says in await error(client, caller, "POST", f"/datasets/{dataset_id}/runs", status, json=sent)


async def test_runs_need_items_a_published_deployment_and_a_free_name(client: Client, caller: Caller) -> None:
    deployment_id = await echo_deployment(client, caller)
    empty = await eval_dataset(client, caller, [])
    assert "no items" in await error(
        client, caller, "POST", f"/datasets/{empty}/runs", 400, json={"deployment_id": deployment_id}
    )
    dataset_id = await eval_dataset(client, caller, ITEMS[:1])
    app = await client.post("/apps", json={"name": "draft only"}, headers=caller.headers)  # unpublished
    body = {"deployment_id": app.json()["data"]["id"]}
    assert "not published" in await error(client, caller, "POST", f"/datasets/{dataset_id}/runs", 409, json=body)
    await start_run(client, caller, dataset_id, deployment_id, name="same")
    again = {"deployment_id": deployment_id, "name": "same"}
    assert "already has a run" in await error(client, caller, "POST", f"/datasets/{dataset_id}/runs", 409, json=again)
    assert "not found" in await error(client, caller, "GET", f"/datasets/{dataset_id}/runs/{'0' * 32}/items", 404)


async def test_another_organization_sees_no_run(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id = await eval_dataset(client, caller, ITEMS[:1])
    deployment_id = await echo_deployment(client, caller)
    run = await start_run(client, caller, dataset_id, deployment_id)
    theirs = await echo_deployment(client, other_caller, "theirs")
    body = {"deployment_id": theirs}
    assert "deployment" in await error(client, caller, "POST", f"/datasets/{dataset_id}/runs", 404, json=body)
    for method, path in [
        ("GET", f"/datasets/{dataset_id}/runs"),
        ("GET", f"/datasets/{dataset_id}/runs/{run['id']}"),
        ("GET", f"/datasets/{dataset_id}/runs/{run['id']}/items"),
        ("GET", f"/datasets/{dataset_id}/runs/{run['id']}/items/export?format=csv"),
        ("GET", f"/datasets/{dataset_id}/runs/compare?ids={run['id']},{'0' * 32}"),
        ("DELETE", f"/datasets/{dataset_id}/runs/{run['id']}"),
    ]:
        assert await error(client, other_caller, method, path, 404)
    other_dataset = await eval_dataset(client, other_caller, ITEMS[:1])
    assert await error(client, other_caller, "GET", f"/datasets/{other_dataset}/runs/{run['id']}", 404)
    await wait_run(client, caller, dataset_id, run["id"])
    assert "status" in await error(
        client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}/items?status=x", 400
    )
