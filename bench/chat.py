"""Chat over the OpenAI-compatible route against an OpenAI-compatible echo upstream (tests/support/upstream.py).

1. Time to first token through `/api/v1/chats_openai/<id>/chat/completions` minus the same upstream's TTFT
   called directly, against the retrieval endpoint's p50 on the same questions — interleaved, one run.
   Goal: overhead ≤ retrieval p50 + 15 ms.
2. 32 concurrent streams for 60 s: errors, TTFT p50/p99, and every turn recorded exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import time

import asyncpg
import openai

from bench.common import KEY, WORK, Api, corpus, database_url, document_text, queries, record, server, wait_all_parsed
from tests.support.upstream import UpstreamProcess

NAME = "chat"
DOCS = 300
SEQUENTIAL = 100
STREAMS = int(os.environ.get("BENCH_STREAMS", "32"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup(api: Api) -> tuple[str, str]:
    dataset = api.call("POST", "/datasets", json={"name": NAME})
    files = [("file", (f"{doc['_id']}.txt", document_text(doc).encode())) for doc in corpus()[:DOCS]]
    ids = [doc["id"] for doc in api.call("POST", f"/datasets/{dataset['id']}/documents", files=files)]
    api.call("POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": ids})
    wait_all_parsed(api, dataset["id"], len(ids))
    chat = api.call("POST", "/chats", json={"name": NAME, "dataset_ids": [dataset["id"]], "llm_id": "echo@echo"})
    return dataset["id"], chat["id"]


async def ttft(client: openai.AsyncOpenAI, model: str, question: str) -> float:
    began = time.perf_counter()
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], stream=True
    )
    first = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - began
    assert first is not None, "no content streamed"
    return first * 1000


async def sequential(api: Api, upstream: UpstreamProcess, dataset_id: str, chat_id: str) -> dict[str, list[float]]:
    direct = openai.AsyncOpenAI(base_url=upstream.base_url, api_key="none")
    nectar = openai.AsyncOpenAI(base_url=f"{api.base_url}/api/v1/chats_openai/{chat_id}", api_key=KEY)
    texts = list(queries()[0].values())[: SEQUENTIAL + 10]
    times: dict[str, list[float]] = {"direct": [], "nectar": [], "retrieval": []}
    for i, question in enumerate(texts):
        upstream_ms = await ttft(direct, "echo", question)
        nectar_ms = await ttft(nectar, "model", question)
        began = time.perf_counter()
        await asyncio.to_thread(
            api.call, "POST", "/retrieval", json={"question": question, "dataset_ids": [dataset_id], "page_size": 6}
        )
        retrieval_ms = (time.perf_counter() - began) * 1000
        if i >= 10:  # warm-up
            times["direct"].append(upstream_ms)
            times["nectar"].append(nectar_ms)
            times["retrieval"].append(retrieval_ms)
    await direct.close()
    await nectar.close()
    return times


async def concurrent(api: Api, chat_id: str) -> tuple[list[float], int, int]:
    nectar = openai.AsyncOpenAI(
        base_url=f"{api.base_url}/api/v1/chats_openai/{chat_id}", api_key=KEY, timeout=60, max_retries=0
    )
    texts = list(queries()[0].values())
    deadline = time.perf_counter() + SECONDS
    firsts: list[float] = []
    errors = 0
    sent = 0

    async def user(offset: int) -> None:
        nonlocal errors, sent
        i = offset
        while time.perf_counter() < deadline:
            sent += 1
            try:
                firsts.append(await ttft(nectar, "model", texts[i % len(texts)]))
            except Exception:  # counted, not raised: the figure is the error count
                errors += 1
            i += STREAMS

    await asyncio.gather(*(user(offset) for offset in range(STREAMS)))
    await nectar.close()
    return firsts, errors, sent


async def recorded(chat_id: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url(NAME).replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "SELECT status, count(*) FROM messages WHERE assistant_id = $1 GROUP BY status", chat_id
        )
    finally:
        await connection.close()
    return {row["status"]: int(row["count"]) for row in rows}


def report(times: dict[str, list[float]], firsts: list[float], errors: int, sent: int, rows: dict[str, int]) -> None:
    p50 = {name: statistics.median(values) for name, values in times.items()}
    overhead = p50["nectar"] - p50["direct"]
    goal = p50["retrieval"] + 15
    print(json.dumps({"p50": p50, "overhead": overhead, "goal": goal, "errors": errors, "sent": sent, "rows": rows}))
    record(
        "Chat TTFT and concurrency (bench/chat.py)",
        [
            f"{DOCS} NFCorpus documents; assistant with llm `echo@echo` (tests/support/upstream.py, an",
            "OpenAI-compatible echo server on loopback); OpenAI SDK streaming; NFCorpus test questions; medians over"
            f" {SEQUENTIAL} sequential questions after 10 warm-up, the three measures interleaved per question.",
            "",
            "| measure | p50 | p99 |",
            "|---|---|---|",
            *(
                f"| {label} | {p50[key]:.1f} ms | {percentile(times[key], 0.99):.1f} ms |"
                for key, label in (
                    ("direct", "TTFT, upstream called directly"),
                    ("nectar", "TTFT through `/chats_openai/<id>/chat/completions`"),
                    ("retrieval", "`POST /api/v1/retrieval` (page_size 6)"),
                )
            ),
            f"| **TTFT overhead** (goal ≤ retrieval p50 + 15 = {goal:.1f} ms) | **{overhead:.1f} ms** | |",
            "",
            f"{STREAMS} concurrent streams for {SECONDS:.0f} s: {sent} requests, {errors} errors, TTFT p50"
            f" {statistics.median(firsts):.0f} ms, p99 {percentile(firsts, 0.99):.0f} ms;"
            f" messages recorded for them: {sum(rows.values())}"
            f" ({', '.join(f'{k} {v}' for k, v in sorted(rows.items()))});"
            f" exactly once each: {sum(rows.values()) == sent}.",
        ],
    )


def main() -> None:
    shutil.rmtree(WORK / NAME, ignore_errors=True)
    with UpstreamProcess() as upstream:
        providers = json.dumps({"echo": {"base_url": upstream.base_url}})
        with server(NAME, NECTAR_LLM_PROVIDERS=providers) as api:
            dataset_id, chat_id = setup(api)
            times = asyncio.run(sequential(api, upstream, dataset_id, chat_id))
            before = asyncio.run(recorded(chat_id))
            firsts, errors, sent = asyncio.run(concurrent(api, chat_id))
            after = asyncio.run(recorded(chat_id))
    rows = {status: after[status] - before.get(status, 0) for status in after}  # turns of the concurrent run
    report(times, firsts, errors, sent, rows)


if __name__ == "__main__":
    main()
