"""Shared by the benchmarks: a real `nectar serve` process on its own embedded database, and NFCorpus loading."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NFCORPUS_DIR", ROOT.parent / "shared" / "data" / "nfcorpus"))
WORK = ROOT / "bench" / ".data"
KEY = "nectar-bench-key"


@dataclass
class Api:
    base_url: str
    http: httpx.Client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.http.request(method, self.base_url + "/api/v1" + path, **kwargs)
        reply.raise_for_status()
        body = reply.json()
        if body.get("code") != 0:
            raise RuntimeError(f"{method} {path}: {body}")
        return body.get("data")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(name: str, **env: str) -> Iterator[Api]:
    """`nectar serve` with its own embedded PostgreSQL under bench/.data/<name> (kept between runs)."""
    data_dir = WORK / name
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    full_env = {
        **os.environ,
        "NECTAR_DATA_DIR": str(data_dir),
        "NECTAR_API_KEY": KEY,
        "NECTAR_PORT": str(port),
        "NECTAR_LOG_LEVEL": "WARNING",
        "DATABASE_URL": "",
        **env,
    }
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed once the server has exited
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        env=full_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=600)
    try:
        for _ in range(600):
            try:
                if http.get(base_url + "/api/v1/system/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError("nectar serve exited")
            time.sleep(0.5)
        yield Api(base_url, http)
    finally:
        http.close()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        log.close()


def database_url(name: str) -> str:
    """The embedded PostgreSQL of `server(name)`, reached over its socket while that server runs."""
    return f"postgresql+asyncpg://postgres@/postgres?host={WORK / name / 'pg'}"


def corpus() -> list[dict[str, str]]:
    with open(DATA / "corpus.jsonl") as lines:
        return [json.loads(line) for line in lines]


def document_text(doc: dict[str, str]) -> str:
    return (doc.get("title", "") + "\n\n" + doc.get("text", "")).strip()


def queries(split: str = "test") -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    with open(DATA / "queries.jsonl") as lines:
        texts = {row["_id"]: row["text"] for row in map(json.loads, lines)}
    qrels: dict[str, dict[str, int]] = {}
    with open(DATA / "qrels" / f"{split}.tsv") as lines:
        next(lines)
        for line in lines:
            query_id, doc_id, score = line.rstrip("\n").split("\t")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    return {qid: texts[qid] for qid in qrels}, qrels


def upload_files(api: Api, dataset_id: str, files: list[tuple[str, str]], batch: int = 200) -> list[str]:
    """Uploads `(file name, text)` pairs as documents, `batch` per request; their document ids, in order."""
    ids: list[str] = []
    for start in range(0, len(files), batch):
        part = [("file", (name, text.encode())) for name, text in files[start : start + batch]]
        ids.extend(doc["id"] for doc in api.call("POST", f"/datasets/{dataset_id}/documents", files=part))
    return ids


def document_chunks(api: Api, dataset_id: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every document of the dataset, as (its name, its chunks in their order)."""
    page = 1
    while docs := api.call("GET", f"/datasets/{dataset_id}/documents", params={"page": page, "page_size": 100})["docs"]:
        for doc in docs:
            yield doc["name"], list(_paged_chunks(api, dataset_id, doc["id"]))
        page += 1


def _paged_chunks(api: Api, dataset_id: str, document_id: str) -> Iterator[dict[str, Any]]:
    page = 1
    while rows := api.call(
        "GET", f"/datasets/{dataset_id}/documents/{document_id}/chunks", params={"page": page, "page_size": 100}
    )["chunks"]:
        yield from rows
        page += 1


def find_dataset(api: Api, name: str) -> dict[str, Any] | None:
    for dataset in api.call("GET", "/datasets", params={"page_size": 100}):
        if dataset["name"] == name:
            return dict(dataset)
    return None


def wait_all_parsed(api: Api, dataset_id: str, expected: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [dataset] = api.call("GET", "/datasets", params={"id": dataset_id, "include_parsing_status": "true"})
        if dataset["done_count"] + dataset["fail_count"] >= expected:
            if dataset["fail_count"]:
                raise RuntimeError(f"{dataset['fail_count']} documents failed")
            return
        time.sleep(0.5)
    raise TimeoutError("parsing did not finish")


def record(section: str, lines: list[str]) -> None:
    """Replace (or append) `section` in bench/RESULTS.md."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n\nEach section is rewritten by its script.\n"
    header = f"## {section}"
    block = header + "\n\n" + "\n".join(lines).rstrip() + "\n"
    if header in text:
        start = text.index(header)
        end = text.find("\n## ", start + len(header))
        text = text[:start] + block + ("" if end == -1 else text[end:])
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text)
