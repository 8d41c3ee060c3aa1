"""Exports over HTTP: histories (with search), evaluation-dataset items and run items, as CSV and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.api.opsbee.helpers import (
    Client,
    call,
    error,
    new_chat_history,
    new_deployment,
    new_tag,
    new_thread,
    org_path,
)
from tests.api.opsbee.run_helpers import eval_dataset, start_run, wait_run
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import Caller


async def download(client: Client, caller: Caller, path: str) -> tuple[str, str, str]:
    """(media type, content disposition, body) of an export that must succeed."""
    response = await client.get(org_path(caller, path), headers=caller.headers)
    assert response.status_code == 200, response.text
    return response.headers["content-type"], response.headers["content-disposition"], response.text


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def jsonl_rows(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


async def test_history_export_streams_every_matching_history_as_csv_or_jsonl(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"], "support")
    urgent = await new_tag(client, caller, "urgent")
    ids = []
    for i in range(5):
        fields = {"tag_ids": [urgent["id"]], "metadata": [{"source": "web"}]} if i % 2 == 0 else {}
        history = await new_chat_history(
            client, caller, deployment["id"], thread["id"], f'q{i}, "quoted"\nline', f"a{i}", **fields
        )
        ids.append(history["id"])
    base = f"/deployments/{deployment['id']}/histories/export"

    media, disposition, body = await download(client, caller, f"{base}?format=csv")
    assert media.startswith("text/csv") and f'filename="histories-{deployment["id"]}.csv"' in disposition
    rows = csv_rows(body)
    assert [row["id"] for row in rows] == ids  # oldest first, all of them
    assert rows[0]["input_text"] == 'q0, "quoted"\nline' and rows[0]["thread_name"] == "support"
    assert json.loads(rows[0]["tags"]) == ["urgent"] and json.loads(rows[0]["metadata"]) == {"source": "web"}
    assert json.loads(rows[1]["tags"]) == [] and rows[1]["feedback"] == "" and rows[1]["status"] == "ok"

    media, _, body = await download(client, caller, f"{base}?format=jsonl&search_query=tag_name:urgent")
    assert media.startswith("application/x-ndjson")
    found = jsonl_rows(body)
    assert [row["id"] for row in found] == ids[0::2]
    assert found[0]["metadata"] == {"source": "web"} and found[0]["input_token_count"] > 0 and found[0]["created_at"]

    _, _, empty = await download(client, caller, f"{base}?format=csv&search_query=input_text:nothing")
    assert empty.strip().split(",")[:2] == ["id", "thread_id"]  # the header alone
    _, _, none = await download(client, caller, f"{base}?format=jsonl&search_query=input_text:nothing")
    assert none == ""


async def test_bad_export_requests_and_other_organizations_are_refused(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    deployment = await new_deployment(client, caller, "qa")
    base = f"/deployments/{deployment['id']}/histories/export"
    assert "format" in await error(client, caller, "GET", base, 400)
    assert "format" in await error(client, caller, "GET", f"{base}?format=xlsx", 400)
    assert "search_query" in await error(client, caller, "GET", f"{base}?format=csv&search_query=nokey:1", 400)
    assert await error(client, other_caller, "GET", f"{base}?format=csv", 404)
    dataset_id = await eval_dataset(client, caller, [([{"input_text": "x"}], [{"output_text": "y"}])])
    assert await error(client, other_caller, "GET", f"/datasets/{dataset_id}/items/export?format=csv", 404)
    assert "format" in await error(client, caller, "GET", f"/datasets/{dataset_id}/items/export?format=", 400)


async def test_dataset_items_and_run_items_export(client: Client, caller: Caller) -> None:
    items = [
        ([{"input_text": "hello"}], [{"output_text": "echo: hello"}]),
        ([{"input_text": "bye"}], [{"output_text": "see you"}]),
    ]
    dataset_id = await eval_dataset(client, caller, items)
    _, disposition, body = await download(client, caller, f"/datasets/{dataset_id}/items/export?format=jsonl")
    exported = jsonl_rows(body)
    assert [row["inputs"] for row in exported] == [inputs for inputs, _ in items] and "dataset-items" in disposition
    _, _, body = await download(
        client, caller, f"/datasets/{dataset_id}/items/export?format=csv&search_query=input_values:bye"
    )
    assert [json.loads(row["outputs"]) for row in csv_rows(body)] == [[{"output_text": "see you"}]]

    chat = await new_chat(client, caller, "echo", llm_id="echo@echo")
    run = await start_run(client, caller, dataset_id, chat["id"], metrics=["exact_match"])
    await wait_run(client, caller, dataset_id, run["id"])
    path = f"/datasets/{dataset_id}/runs/{run['id']}/items/export"
    _, _, body = await download(client, caller, f"{path}?format=csv")
    rows = csv_rows(body)
    assert [(row["question"], row["answer"], json.loads(row["scores"])) for row in rows] == [
        ("hello", "echo: hello", {"exact_match": 1.0}),
        ("bye", "echo: bye", {"exact_match": 0.0}),
    ]
    _, _, body = await download(client, caller, f"{path}?format=jsonl")
    assert [row["history_id"] for row in jsonl_rows(body)] == [row["history_id"] for row in rows]
    assert "format" in await error(client, caller, "GET", f"{path}?format=pdf", 400)
    assert await call(client, caller, "GET", f"/datasets/{dataset_id}/runs/{run['id']}")
