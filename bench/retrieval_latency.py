"""Latency of `POST /api/v1/retrieval` at ≥ 100k chunks against its floor: query embedding + the search SQL alone.

Chunks are synthetic but shaped like real ones: texts are 3–6 random NFCorpus sentences, vectors are real
all-MiniLM-L6-v2 embeddings of NFCorpus documents plus noise (so the HNSW graph sees clusters, not uniform
noise). They are written straight into the tables (the ingestion pipeline has its own benchmark), across 100
documents of one dataset, and kept in bench/.data/latency for later runs. Queries are NFCorpus test queries.
Goal: endpoint p50 and p99 ≤ 1.5 × (embedding + SQL).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import Api, corpus, database_url, document_text, find_dataset, queries, record, server
from service.db.engine import make_engine, make_sessions
from service.db.models import Document
from service.domain.chunk_store import ChunkRow, insert_chunks
from service.domain.retrieval import DEFAULT_VECTOR_WEIGHT, RetrievalQuery, plan_search, tune_hnsw
from service.providers.embedding import BUILTIN, load_embedder

NAME = "synthetic"
CHUNKS = int(os.environ.get("BENCH_CHUNKS", "100000"))
DOCUMENTS = 100
BASE_VECTORS = 600
QUERIES = 200
WARMUP = 20
rng = random.Random(7)


def sentences() -> list[str]:
    found: list[str] = []
    for doc in corpus():
        found.extend(s for s in re.split(r"(?<=[.!?])\s+", doc["text"]) if len(s) > 30)
    return found


def synthetic_rows(count: int, pool: list[str], base: np.ndarray) -> list[ChunkRow]:
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 0.04, (count, base.shape[1]))
    vectors = base[[rng.randrange(len(base)) for _ in range(count)]] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        ChunkRow(" ".join(rng.sample(pool, rng.randint(3, 6))), vector.tolist(), ordinal=i, token_count=100)
        for i, vector in enumerate(vectors)
    ]


async def fill(db: AsyncSession, document_ids: list[str]) -> None:
    pool = sentences()
    embedder = load_embedder(BUILTIN)
    base = np.array(embedder.encode([document_text(doc) for doc in rng.sample(corpus(), BASE_VECTORS)]))
    per_document = CHUNKS // DOCUMENTS
    for number, document_id in enumerate(document_ids):
        document = await db.get_one(Document, document_id)
        rows = synthetic_rows(per_document, pool, base)
        for start in range(0, len(rows), 250):
            await insert_chunks(db, document, BUILTIN, rows[start : start + 250])
        document.run, document.progress, document.chunk_count, document.token_count = "DONE", 1.0, len(rows), 100
        await db.commit()
        print(f"filled {number + 1}/{len(document_ids)} documents", end="\r", flush=True)
    await db.execute(text("ANALYZE chunks"))
    await db.commit()


def ensure_dataset(api: Api) -> tuple[str, bool]:
    """The synthetic dataset's id, and whether its chunks still have to be written."""
    dataset = find_dataset(api, NAME)
    if dataset is not None and dataset["chunk_count"] >= CHUNKS:
        return str(dataset["id"]), False
    if dataset is not None:
        api.call("DELETE", "/datasets", json={"ids": [dataset["id"]]})
    dataset = api.call("POST", "/datasets", json={"name": NAME})
    files = [("file", (f"part-{i:03}.txt", b"synthetic")) for i in range(DOCUMENTS)]
    api.call("POST", f"/datasets/{dataset['id']}/documents", files=files)
    return str(dataset["id"]), True


def endpoint_latencies(api: Api, dataset_id: str, questions: list[str]) -> list[float]:
    timings = []
    for number, question in enumerate(questions):
        began = time.perf_counter()
        api.call("POST", "/retrieval", json={"question": question, "dataset_ids": [dataset_id]})
        if number >= WARMUP:
            timings.append(time.perf_counter() - began)
    return timings


async def floor_latencies(db: AsyncSession, dataset_id: str, questions: list[str]) -> tuple[list[float], list[float]]:
    """Per query: the query embedding alone, and the one search statement alone (same plan as the endpoint)."""
    embedder = load_embedder(BUILTIN)
    embeds, sqls = [], []
    for number, question in enumerate(questions):
        query = RetrievalQuery(question, [dataset_id])
        plan = await plan_search(db, embedder, BUILTIN, query)
        began = time.perf_counter()
        await embedder.embed([question])
        embedded = time.perf_counter()
        await tune_hnsw(db, plan.params["vector_k"])
        (await db.execute(plan.statement, plan.params)).all()
        done = time.perf_counter()
        await db.rollback()
        if number >= WARMUP:
            embeds.append(embedded - began)
            sqls.append(done - embedded)
    return embeds, sqls


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if q < 100 else max(values) * 1000


async def measure_floor(
    database_url: str, dataset_id: str, document_ids: list[str] | None, questions: list[str]
) -> Any:
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as db:
            if document_ids is not None:
                await fill(db, document_ids)
            return await floor_latencies(db, dataset_id, questions)
    finally:
        await engine.dispose()


def explain(url: str, dataset_id: str, question: str) -> str:
    async def run() -> str:
        engine = make_engine(url)
        try:
            async with make_sessions(engine)() as db:
                plan = await plan_search(db, load_embedder(BUILTIN), BUILTIN, RetrievalQuery(question, [dataset_id]))
                await tune_hnsw(db, plan.params["vector_k"])
                rows = await db.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + str(plan.statement)), plan.params)
                return "\n".join(row[0] for row in rows)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def main() -> None:
    texts, _ = queries("test")
    questions = list(texts.values())[: QUERIES + WARMUP]
    with server("latency") as api:
        dataset_id, empty = ensure_dataset(api)
        url = database_url("latency")
        document_ids = None
        if empty:
            listing = api.call("GET", f"/datasets/{dataset_id}/documents", params={"page_size": DOCUMENTS})
            document_ids = [doc["id"] for doc in listing["docs"]]
        # The floor is measured first (it also fills the table), then the endpoint, with the server idle between.
        embeds, sqls = asyncio.run(measure_floor(url, dataset_id, document_ids, questions))
        endpoint = endpoint_latencies(api, dataset_id, questions)
        [dataset] = api.call("GET", "/datasets", params={"id": dataset_id})
        plan = explain(url, dataset_id, questions[0])
    floor = [e + s for e, s in zip(embeds, sqls, strict=True)]
    rows = [
        ("query embedding", embeds),
        ("search SQL alone", sqls),
        ("floor: embedding + SQL", floor),
        ("`POST /api/v1/retrieval` over HTTP", endpoint),
    ]
    lines = [
        f"{dataset['chunk_count']:,} synthetic chunks in one dataset (NFCorpus sentences, clustered real MiniLM "
        f"vectors); {len(endpoint)} NFCorpus test queries after {WARMUP} warm-up; default parameters (page_size 30,",
        f"top_k 1024, vector_similarity_weight {DEFAULT_VECTOR_WEIGHT} (the default), similarity_threshold 0.2);",
        "one client, sequential.",
        "",
        "| measure | p50 | p99 |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {pct(values, 50):.1f} ms | {pct(values, 99):.1f} ms |" for label, values in rows]
    lines += [
        f"| **endpoint ÷ floor** (goal ≤ 1.5) | **{pct(endpoint, 50) / pct(floor, 50):.2f}** | "
        f"**{pct(endpoint, 99) / pct(floor, 99):.2f}** |",
        "",
        "Plan of the search statement (first query):",
        "",
        "```",
        plan,
        "```",
    ]
    print("\n".join(lines))
    record("Retrieval latency (bench/retrieval_latency.py)", lines)


if __name__ == "__main__":
    main()
