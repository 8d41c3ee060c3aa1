"""Ingestion logs and summary (`/datasets/{id}/ingestions…`) as RAGFlow v0.27 serves them: one log per finished
parse run (DONE, FAIL or CANCEL), RAGFlow's fields, filters, paging, errors, and no tenant sees another's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from service.db.models import Document
from service.runtime import Runtime
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

TEXT = b"Bees make honey.\n\nHoney keeps for years."


def logs_path(dataset_id: str) -> str:
    return f"/datasets/{dataset_id}/ingestions"


async def file_logs(client: Client, caller: Caller, dataset_id: str, **params: Any) -> dict[str, Any]:
    reply = await call(client, caller, "GET", logs_path(dataset_id), params={"log_type": "file", **params})
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


async def parsed_dataset(client: Client, caller: Caller) -> tuple[str, str]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("bees.txt", TEXT))
    await parse(client, caller, ds["id"], doc["id"])
    return ds["id"], doc["id"]


async def test_a_new_dataset_has_no_logs_and_a_zero_summary(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    assert await call(client, caller, "GET", logs_path(ds["id"])) == {"code": 0, "data": {"total": 0, "logs": []}}
    summary = await call(client, caller, "GET", logs_path(ds["id"]) + "/summary")
    status = {"unstart_count": 0, "running_count": 0, "cancel_count": 0, "done_count": 0, "fail_count": 0}
    assert summary == {"code": 0, "data": {"doc_num": 0, "chunk_num": 0, "token_num": 0, "status": status}}


async def test_each_finished_run_is_a_log_with_its_state_and_message(client: Client, caller: Caller) -> None:
    dataset_id, document_id = await parsed_dataset(client, caller)
    # RAGFlow's default log type is the dataset-wide tasks (GraphRAG, RAPTOR): this server runs none.
    assert (await call(client, caller, "GET", logs_path(dataset_id)))["data"] == {"total": 0, "logs": []}
    [log] = (await file_logs(client, caller, dataset_id))["logs"]
    assert log["document_id"] == document_id and log["kb_id"] == dataset_id and log["tenant_id"] == caller.tenant_id
    assert (log["operation_status"], log["task_type"], log["progress"]) == ("3", "Parse", 1.0)
    assert (log["document_name"], log["document_suffix"], log["parser_id"], log["pipeline_title"]) == (
        "bees.txt",
        "txt",
        "naive",
        "naive",
    )
    assert "Task done" in log["progress_msg"] and log["process_duration"] > 0 and log["process_begin_at"]
    assert {"create_time", "create_date", "update_time", "update_date", "dsl", "source_from"} <= set(log)
    one = await call(client, caller, "GET", f"{logs_path(dataset_id)}/{log['id']}")
    assert one == {"code": 0, "data": log}
    await parse(client, caller, dataset_id, document_id)
    again = await file_logs(client, caller, dataset_id)
    assert again["total"] == 2 and again["logs"][1] == log  # newest first; the first run's log is unchanged


async def test_failed_and_stopped_runs_are_logged(client: Client, caller: Caller, runtime: Runtime) -> None:
    ds = await new_dataset(client, caller)
    bad, good = await upload(client, caller, ds["id"], ("broken.pdf", b"%PDF-1.4 not really"), ("ok.txt", TEXT))
    await parse(client, caller, ds["id"], bad["id"], good["id"])
    async with runtime.sessions() as db:  # a run in progress, as the worker leaves it until its next step
        await db.execute(update(Document).where(Document.id == good["id"]).values(run="RUNNING"))
        await db.commit()
    stop = {"document_ids": [good["id"]]}
    assert (await call(client, caller, "POST", f"/datasets/{ds['id']}/documents/stop", json=stop))["code"] == 0
    logs = (await file_logs(client, caller, ds["id"], orderby="create_time", desc="false"))["logs"]
    by_document = [(log["document_id"], log["operation_status"]) for log in logs]
    assert sorted(by_document) == sorted([(bad["id"], "4"), (good["id"], "3"), (good["id"], "2")])
    failed = next(log for log in logs if log["operation_status"] == "4")
    assert failed["progress"] == -1 and "[ERROR]" in failed["progress_msg"]
    stopped = next(log for log in logs if log["operation_status"] == "2")
    assert "Task stopped by user." in stopped["progress_msg"]
    status = (await call(client, caller, "GET", logs_path(ds["id"]) + "/summary"))["data"]["status"]
    assert (status["fail_count"], status["cancel_count"], status["done_count"]) == (1, 1, 0)


async def test_filters_and_paging(client: Client, caller: Caller) -> None:
    dataset_id, document_id = await parsed_dataset(client, caller)
    await parse(client, caller, dataset_id, document_id)

    async def total(**params: Any) -> int:
        return int((await file_logs(client, caller, dataset_id, **params))["total"])

    assert await total(operation_status="3") == 2
    assert await total(operation_status=["4", "2"]) == 0
    assert await total(operation_status="DONE") == 2
    assert await total(create_date_from="2999-01-01") == 0
    assert await total(create_date_to="2000-01-01 00:00:00") == 0
    assert await total(create_date_from="2000-01-01", create_date_to="2999-12-31") == 2
    assert await total(keywords="BEES") == 2 and await total(keywords="%") == 0
    page = await file_logs(client, caller, dataset_id, page=2, page_size=1)
    assert page["total"] == 2 and len(page["logs"]) == 1
    everything = await file_logs(client, caller, dataset_id, page=0, page_size=1)  # 0: RAGFlow's "all"
    assert len(everything["logs"]) == 2
    by_name = await file_logs(client, caller, dataset_id, orderby="document_name", desc="false")
    assert len(by_name["logs"]) == 2


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"page": "a"}, 101, "page and page_size must be integers"),
        ({"page_size": "1.5"}, 101, "page and page_size must be integers"),
        ({"page": "-1"}, 101, "page must be greater than or equal to 0"),
        ({"page_size": "101"}, 101, "page_size must be less than or equal to 100"),
        ({"orderby": "name"}, 101, "invalid orderby field: name"),
        (
            {"create_date_from": "yesterday"},
            101,
            "`create_date_from` should be a date such as 2025-01-31 or 2025-01-31 12:00:00, got yesterday",
        ),
        ({"log_type": "task"}, 102, 'Invalid "log_type", expected "dataset" or "file"'),
    ],
)
async def test_bad_queries(client: Client, caller: Caller, params: dict[str, str], code: int, message: str) -> None:
    ds = await new_dataset(client, caller)
    assert await call(client, caller, "GET", logs_path(ds["id"]), params=params) == {"code": code, "message": message}


async def test_unknown_log_and_dataset(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    missing_log = await call(client, caller, "GET", f"{logs_path(ds['id'])}/nonexistent_log_id")
    assert missing_log == {"code": 102, "message": "Log not found"}
    unknown = "0" * 32
    expected = {"code": 102, "message": "no authorization"}
    assert await call(client, caller, "GET", logs_path(unknown)) == expected
    assert await call(client, caller, "GET", f"{logs_path(unknown)}/some_log_id") == expected
    summary = await call(client, caller, "GET", logs_path(unknown) + "/summary")
    assert summary == {"code": 102, "message": f"User '{caller.tenant_id}' lacks permission for dataset '{unknown}'"}


async def test_summary_counts_the_datasets_documents(client: Client, caller: Caller) -> None:
    dataset_id, _ = await parsed_dataset(client, caller)
    await upload(client, caller, dataset_id, ("later.txt", b"not parsed yet"))
    data = (await call(client, caller, "GET", logs_path(dataset_id) + "/summary"))["data"]
    dataset = (await call(client, caller, "GET", f"/datasets/{dataset_id}"))["data"]
    assert (data["doc_num"], data["chunk_num"], data["token_num"]) == (2, dataset["chunk_count"], dataset["token_num"])
    assert data["chunk_num"] >= 1 and data["status"]["done_count"] == 1 and data["status"]["unstart_count"] == 1


async def test_logs_outlive_their_document(client: Client, caller: Caller) -> None:
    dataset_id, document_id = await parsed_dataset(client, caller)
    deleted = await call(client, caller, "DELETE", f"/datasets/{dataset_id}/documents", json={"ids": [document_id]})
    assert deleted["code"] == 0
    [log] = (await file_logs(client, caller, dataset_id))["logs"]
    assert log["document_id"] == document_id


async def test_another_tenant_sees_none_of_it(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id, _ = await parsed_dataset(client, caller)
    [log] = (await file_logs(client, caller, dataset_id))["logs"]
    refused = {"code": 102, "message": "no authorization"}
    assert await call(client, other_caller, "GET", logs_path(dataset_id), params={"log_type": "file"}) == refused
    assert await call(client, other_caller, "GET", f"{logs_path(dataset_id)}/{log['id']}") == refused
    summary = await call(client, other_caller, "GET", logs_path(dataset_id) + "/summary")
    lacks = f"User '{other_caller.tenant_id}' lacks permission for dataset '{dataset_id}'"
    assert summary == {"code": 102, "message": lacks}
    own = await new_dataset(client, other_caller)  # nor through a dataset of its own
    mine = await call(client, other_caller, "GET", f"{logs_path(own['id'])}/{log['id']}")
    assert mine == {"code": 102, "message": "Log not found"}


async def test_without_a_key_it_is_401(client: Client) -> None:
    response = await client.get("/api/v1" + logs_path("0" * 32))
    assert response.status_code == 401 and response.json()["code"] == 401
