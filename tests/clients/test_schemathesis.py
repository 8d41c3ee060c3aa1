"""Schemathesis (its own venv, `make clients`) over the published OpenAPI document, against a real `nectar serve` on
loopback with a database of its own: no request it generates, valid or not, may get a server error (5xx).

Bounded: a few examples per operation and a time budget, so the run stays well under two minutes on two cores.
Before the run one object of each kind is made, and schemathesis draws most path parameters from their ids, so the
generated bodies reach the code behind the lookups and not only "not found".
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import httpx

from tests.clients.conftest import CLIENT_VENVS, start_server, stop_server
from tests.conftest import create_database

SCHEMATHESIS = CLIENT_VENVS / "schemathesis-4.32.5" / "bin" / "schemathesis"
KEY = "nectar-schemathesis-key"
MAX_EXAMPLES = 5
TIME_BUDGET = 45  # seconds, for schemathesis's own phases
CHECKS = "not_a_server_error"


def seeded_ids(base_url: str) -> dict[str, list[str]]:
    """One object of each kind, made through the public API: {path parameter name: ids it may take}."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as http:
        ids = {**ragflow_and_apps_objects(http), **opsbee_objects(http), "organization_id": ["me"]}
    ids["dataset_id"] += ids.pop("eval_dataset_id")
    return ids


def made(http: httpx.Client, path: str, body: dict[str, object], *keys: str) -> str:
    """The id of what a POST made (under `keys` of the reply); the family's success is asserted."""
    reply = http.post(path, json=body)
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found.get("code") in (None, 0, "success"), found
    for key in keys:
        found = found[key]
    return str(found["id"])


def ragflow_and_apps_objects(http: httpx.Client) -> dict[str, list[str]]:
    dataset = made(http, "/api/v1/datasets", {"name": "fuzzed"}, "data")
    upload = http.post(f"/api/v1/datasets/{dataset}/documents", files={"file": ("bees.txt", b"Bees make honey.")})
    document = str(upload.json()["data"][0]["id"])
    chunk = made(http, f"/api/v1/datasets/{dataset}/documents/{document}/chunks", {"content": "Honey"}, "data", "chunk")
    chat = made(http, "/api/v1/chats", {"name": "fuzzed", "dataset_ids": [dataset]}, "data")
    session = made(http, f"/api/v1/chats/{chat}/sessions", {"name": "fuzzed"}, "data")
    app = made(http, "/apps", {"name": "fuzzed app"}, "data")
    message = made(http, f"/apps/{app}/debug", {"query": "What do bees make?"}, "data")
    return {
        "dataset_id": [dataset],
        "document_id": [document],
        "chunk_id": [chunk],
        "chat_id": [chat],
        "model_id": [chat],
        "session_id": [session],
        "app_id": [app],
        "message_id": [message],
    }


def opsbee_objects(http: httpx.Client) -> dict[str, list[str]]:
    org = "/opsbee-llm/organizations/me"
    chat = made(http, f"{org}/deployments", {"name": "fuzzed chat deployment", "type": "chat"})
    qa = made(http, f"{org}/deployments", {"name": "fuzzed qa deployment", "type": "qa"})
    thread = made(http, f"{org}/deployments/{chat}/threads", {"name": "fuzzed"})
    history = made(http, f"{org}/deployments/{chat}/threads/{thread}/histories", {"input_text": "q"})
    qa_history = made(http, f"{org}/deployments/{qa}/qa_histories", {"input_text": "q", "output_text": "a"})
    metadata = made(http, f"{org}/deployments/{qa}/qa_histories/{qa_history}/metadata", {"key": "k", "value": "v"})
    evaluation = made(http, f"{org}/datasets", {"name": "fuzzed", "type": "qa"})
    item = made(http, f"{org}/datasets/{evaluation}/items", {"inputs": [{"q": "x"}], "outputs": [{"a": "y"}]})
    return {
        "deployment_id": [chat, qa],
        "thread_id": [thread],
        "history_id": [history, qa_history],
        "metadata_id": [metadata],
        "tag_id": [made(http, f"{org}/tags", {"name": "fuzzed"})],
        "eval_dataset_id": [evaluation],  # `dataset_id` under /opsbee-llm: merged into the RAGFlow ones below
        "item_id": [item],
    }


def config_file(ids: dict[str, list[str]], folder: Path) -> Path:
    """A schemathesis.toml drawing each path parameter from its ids most of the time (else a generated value)."""
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}' for name in ids]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def schemathesis_run(base_url: str, report: Path) -> subprocess.CompletedProcess[str]:
    if not SCHEMATHESIS.exists():
        raise RuntimeError(f"{SCHEMATHESIS} is missing: run `make clients` (make test does it)")
    config = config_file(seeded_ids(base_url), report.parent)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(TIME_BUDGET),
        "--seed",
        "13",
        "--header",
        f"Authorization: Bearer {KEY}",
        "--request-timeout",
        "20",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIME_BUDGET + 60, cwd=report.parent)


async def test_no_operation_answers_a_server_error(server_url: str, tmp_path: Path) -> None:
    """Also no internal error behind an HTTP 200 (RAGFlow's code 100): the server logs none."""
    database_url = await create_database(server_url)  # fuzzing creates and deletes at random: a database of its own
    env = {"DATABASE_URL": database_url, "NECTAR_API_KEY": KEY, "NECTAR_DATA_DIR": tempfile.mkdtemp()}
    process, base_url = start_server(env)  # no upstream LLM: answers come from the built-in extractive model
    try:
        operations = len(published_operations(base_url))
        result = schemathesis_run(base_url, tmp_path / "events.ndjson")
    finally:
        log = stop_server(process)
    summary = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    assert f"Tested: {operations}" in result.stdout, summary
    assert "unhandled error" not in log and "Traceback" not in log, log[-6000:]


def published_operations(base_url: str) -> list[tuple[str, str]]:
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=30).json()
    return [(method, path) for path, item in document["paths"].items() for method in item if method != "parameters"]
