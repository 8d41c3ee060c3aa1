"""Exports and usage analytics over 100k histories: rows/s and memory of the streamed exports, stats latency.

Histories (and evaluation items and run items) are inserted straight into the database of a real `nectar serve`
(the rows a face would record), then:
- exported over HTTP (`GET .../histories/export?format=csv|jsonl`, the dataset's and the run's item exports):
  rows/s, one client reading the stream as it comes; goal ≥ 20,000 rows/s;
- exported in-process (`domain.exports.stream`) under tracemalloc, whole and a tenth of it: the peak of Python
  memory must not grow with the rows (constant memory), and the server process's RSS is sampled during the HTTP
  export;
- `GET .../deployments/{d}/stats` over the whole range (day and hour intervals): p50/p99 over HTTP and of
  `deployment_usage` alone (its two statements over the rollups migration 0016 keeps); goal ≤ 100 ms.

Run: `.venv/bin/python -m bench.history_export [--record]` (BENCH_HISTORIES sets the count; --record writes the
section of bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import WORK, Api, database_url, record, server
from bench.history_search import HISTORIES_SQL, METADATA_SQL, TAGS_SQL, TOPICS, opsbee, percentile

NAME = "export"
HISTORIES = int(os.environ.get("BENCH_HISTORIES", "100000"))
STATS_REQUESTS = 50
NOW = datetime.now(UTC)
# Every history (one a minute, going back) by day; the last 40 days (960 intervals, under the 1,000 limit) by hour.
STATS_RANGES = {"day": NOW - timedelta(minutes=HISTORIES + 60), "hour": NOW - timedelta(days=40)}
ITEMS_SQL = """
INSERT INTO eval_items (id, tenant_id, dataset_id, inputs, outputs, tags, metadata, created_at, updated_at)
SELECT md5('i' || i), $1, $2, jsonb_build_array(jsonb_build_object('input_text', 'question ' || i)),
       jsonb_build_array(jsonb_build_object('output_text', 'answer ' || i)), '["bench"]', '[]',
       now() - i * interval '1 second', now() - i * interval '1 second'
FROM generate_series(1, $3) AS i
"""
RUN_SQL = """
INSERT INTO eval_runs (id, tenant_id, dataset_id, assistant_id, name, metrics, concurrency, config, status, total,
                       error, created_at, updated_at)
VALUES (md5('run'), $1, $2, $3, 'bench', '["exact_match"]', 4, '{}', 'done', $4, '', now(), now())
"""
RUN_ITEMS_SQL = """
INSERT INTO eval_run_items (id, tenant_id, run_id, item_id, ordinal, message_id, question, expected, relevant,
                            status, answer, scores, judge_reason, latency_ms, prompt_tokens, completion_tokens, error,
                            created_at, updated_at)
SELECT md5('r' || i), $1, md5('run'), md5('i' || i), i, md5('m' || i), 'question ' || i, 'answer ' || i,
       '{"documents": [], "chunks": []}', 'ok', 'answer ' || i, jsonb_build_object('exact_match', i % 2),
       '', i % 500, i % 40, i % 30, '', now(), now()
FROM generate_series(1, $2) AS i
"""


async def seed(ids: dict[str, str]) -> None:
    connection = await asyncpg.connect(database_url(NAME).replace("postgresql+asyncpg", "postgresql"))
    try:
        async with connection.transaction():
            tenant, deployment = ids["tenant"], ids["deployment"]
            await connection.execute(HISTORIES_SQL, tenant, deployment, ids["thread"], TOPICS, HISTORIES)
            await connection.execute("UPDATE messages SET latency_ms = random() * 2000, thumbup = random() < 0.5")
            await connection.execute(TAGS_SQL, tenant, ids["urgent"], ids["billing"], HISTORIES, deployment)
            await connection.execute(METADATA_SQL, tenant, HISTORIES, deployment)
            await connection.execute(ITEMS_SQL, tenant, ids["dataset"], HISTORIES)
            await connection.execute(RUN_SQL, tenant, ids["dataset"], deployment, HISTORIES)
            await connection.execute(RUN_ITEMS_SQL, tenant, HISTORIES)
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def setup(api: Api) -> dict[str, str]:
    deployment = opsbee(api, "POST", "/deployments", json={"name": NAME, "type": "chat", "description": ""})
    thread = opsbee(api, "POST", f"/deployments/{deployment['id']}/threads", json={"name": "t", "description": ""})
    tags = {
        name: str(opsbee(api, "POST", "/tags", json={"name": name, "description": "", "color": "red"})["id"])
        for name in ("urgent", "billing")
    }
    dataset = opsbee(api, "POST", "/datasets", json={"name": "bench", "type": "qa"})
    ids = {
        "tenant": str(deployment["organization_id"]),
        "deployment": str(deployment["id"]),
        "thread": str(thread["id"]),
        "dataset": str(dataset["id"]),
        **tags,
    }
    asyncio.run(seed(ids))
    return ids


def server_pid(port: str) -> int:
    """The `nectar serve` listening on `port` (bench.common does not hand out its process)."""
    found = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(found.split("pid=")[1].split(",")[0])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class RssSampler:
    """The server's RSS every 20 ms while the block runs: (before, peak)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.before, self.peak = pid, rss_mib(pid), 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def http_export(api: Api, path: str, pid: int) -> tuple[int, float, float, float, int]:
    """(rows, seconds, server RSS before, peak during, bytes) of one streamed export read line by line."""
    url = f"{api.base_url}/opsbee-llm/organizations/me{path}"
    with RssSampler(pid) as rss:
        began, lines, size = time.perf_counter(), 0, 0
        with api.http.stream("GET", url) as reply:
            reply.raise_for_status()
            for chunk in reply.iter_bytes():
                lines += chunk.count(b"\n")
                size += len(chunk)
        seconds = time.perf_counter() - began
    rows = lines - (1 if "format=csv" in path else 0)  # CSV: a header line (no cell here holds a newline)
    return rows, seconds, rss.before, rss.peak, size


async def in_process_peaks(ids: dict[str, str]) -> list[tuple[str, int, float]]:
    """tracemalloc's peak while `exports.stream` renders all histories, and a tenth of them."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from service.db.engine import make_sessions
    from service.domain import exports
    from service.domain.deployments import get_deployment

    engine = create_async_engine(database_url(NAME))
    sessions = make_sessions(engine)
    since = (datetime.now(UTC) - timedelta(minutes=HISTORIES // 10)).isoformat()
    found = []
    try:
        async with sessions() as db:
            assistant = await get_deployment(db, ids["tenant"], ids["deployment"])
        for label, query in (("all", None), ("a tenth", f"created_at:>={since}")):
            export = exports.history_export(assistant, query, "csv")
            tracemalloc.start()
            rows = 0
            async for chunk in exports.stream(sessions, export):
                rows += chunk.count(b"\n")
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            found.append((label, rows - 1, peak))
    finally:
        await engine.dispose()
    return found


async def stats_query_timings(ids: dict[str, str], interval: str, start: datetime) -> list[float]:
    """The usage statistics alone (`deployment_usage`), in-process."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from service.db.engine import make_sessions
    from service.domain.deployments import get_deployment
    from service.domain.usage_stats import deployment_usage

    engine = create_async_engine(database_url(NAME))
    samples = []
    try:
        async with make_sessions(engine)() as db:
            assistant = await get_deployment(db, ids["tenant"], ids["deployment"])
            gc.freeze()  # as the server does once started (service/runtime.py): its libraries are not rescanned
            for i in range(STATS_REQUESTS + 5):
                began = time.perf_counter()
                usage = await deployment_usage(db, assistant, start, datetime.now(UTC), interval)
                if i >= 5:
                    samples.append((time.perf_counter() - began) * 1000)
            assert usage.total.messages > 0, usage.total
    finally:
        await engine.dispose()
    return samples


def stats_http_timings(api: Api, deployment_id: str, interval: str, start: datetime) -> list[float]:
    samples = []
    for i in range(STATS_REQUESTS + 5):
        began = time.perf_counter()
        body = opsbee(
            api, "GET", f"/deployments/{deployment_id}/stats", params={"interval": interval, "from": start.isoformat()}
        )
        if i >= 5:
            samples.append((time.perf_counter() - began) * 1000)
    assert body["total"]["messages"] > 0, body["total"]  # type: ignore[index]
    return samples


def measure(api: Api, ids: dict[str, str]) -> dict[str, Any]:
    pid = server_pid(api.base_url.rsplit(":", 1)[1])
    exports = {}
    for label, path in [
        ("histories, CSV", f"/deployments/{ids['deployment']}/histories/export?format=csv"),
        ("histories, JSON Lines", f"/deployments/{ids['deployment']}/histories/export?format=jsonl"),
        (
            "histories tagged `urgent`, CSV",
            f"/deployments/{ids['deployment']}/histories/export?format=csv&search_query=tag_name:urgent",
        ),
        ("dataset items, JSON Lines", f"/datasets/{ids['dataset']}/items/export?format=jsonl"),
        ("run items, CSV", f"/datasets/{ids['dataset']}/runs/{run_id()}/items/export?format=csv"),
    ]:
        exports[label] = http_export(api, path, pid)
        print(label, exports[label])
    stats = {}
    for interval, start in STATS_RANGES.items():
        http = stats_http_timings(api, ids["deployment"], interval, start)
        stats[interval] = (http, asyncio.run(stats_query_timings(ids, interval, start)))
    return {"exports": exports, "peaks": asyncio.run(in_process_peaks(ids)), "stats": stats}


def run_id() -> str:
    import hashlib

    return hashlib.md5(b"run", usedforsecurity=False).hexdigest()


def lines_of(found: dict[str, Any]) -> list[str]:
    lines = [
        f"{HISTORIES:,} histories in one chat deployment (10% tagged `urgent`, 25% with metadata), {HISTORIES:,}"
        f" evaluation items and {HISTORIES:,} run items, inserted into a real `nectar serve`. Exports read over HTTP"
        " by one client as they stream; the server's RSS sampled every 20 ms. Goal ≥ 20,000 rows/s, constant memory.",
        "",
        "| export | rows | seconds | rows/s | MB sent | server RSS before → peak |",
        "|---|---|---|---|---|---|",
    ]
    for label, (rows, seconds, before, peak, size) in found["exports"].items():
        lines.append(
            f"| {label} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} | {size / 1e6:.1f} |"
            f" {before:.0f} → {peak:.0f} MiB |"
        )
    lines += ["", "In-process (`domain.exports.stream`, CSV), Python memory at its peak (tracemalloc):", ""]
    lines += ["| histories | rows | peak |", "|---|---|---|"]
    lines += [f"| {label} | {rows:,} | {peak:.1f} MiB |" for label, rows, peak in found["peaks"]]
    lines += [
        "",
        f"`GET .../deployments/{{d}}/stats`: every history by day, the last 40 days by hour; {STATS_REQUESTS} requests"
        " after 5 warm-up, over HTTP and `deployment_usage` alone (in-process). Goal ≤ 100 ms.",
        "",
        "| interval | intervals | histories counted | HTTP p50 | HTTP p99 | query p50 | query p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for interval, (http, query) in found["stats"].items():
        span = NOW - STATS_RANGES[interval]
        buckets = span.days + 2 if interval == "day" else int(span.total_seconds() // 3600) + 1
        counted = min(HISTORIES, int(span.total_seconds() // 60))
        lines.append(
            f"| {interval} | {buckets:,} | {counted:,} | {statistics.median(http):.1f} ms |"
            f" {percentile(http, 0.99):.1f} ms | {statistics.median(query):.1f} ms | {percentile(query, 0.99):.1f} ms |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", action="store_true", help="write the section of bench/RESULTS.md")
    args = parser.parse_args()
    shutil.rmtree(WORK / NAME, ignore_errors=True)
    with server(NAME) as api:
        found = measure(api, setup(api))
    lines = lines_of(found)
    print("\n".join(lines))
    if args.record:
        record("History export and usage analytics (bench/history_export.py)", lines)


if __name__ == "__main__":
    main()
