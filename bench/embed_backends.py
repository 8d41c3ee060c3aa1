"""The server's encoder on torch, ONNX Runtime and ONNX Runtime int8, side by side in one process (issue #16).

Chunks: NFCorpus documents chunked exactly as the worker does (`.txt`, chunk_method naive at the defaults),
embedded through `SentenceTransformerEmbedder.embed` one request per document, all at once, with
NECTAR_EMBED_PARALLEL's default (one single-threaded encoder per core): what the ingestion worker asks of it.
Backends take turns, round after round, so a load that comes and goes hits each alike. Query latency: each
NFCorpus test query embedded alone, one after another, as `POST /retrieval` embeds its question.

`--pipeline BACKEND` first ingests the same documents through a real `nectar serve` running that backend
(NECTAR_EMBED_BACKEND; upload → parse → every document DONE, as bench/ingest.py times it), takes the chunks
the server made, measures the encoders on exactly those, and gives the pipeline's share of the fastest one.

Run: `flock /tmp/bench.lock .venv/bin/python -m bench.embed_backends [--docs N] [--rounds R] [--pipeline B]`
(`--record` rewrites its section of bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import time
from dataclasses import dataclass

import numpy as np

from bench.common import (
    WORK,
    corpus,
    document_chunks,
    document_text,
    queries,
    record,
    server,
    upload_files,
    wait_all_parsed,
)
from service.domain.datasets import default_parser_config
from service.providers.embedding import BUILTIN, SentenceTransformerEmbedder, load_embedder
from service.settings import EMBED_BACKENDS
from service.text.chunk import chunk
from service.text.parse import parse

CORES = len(os.sched_getaffinity(0))


def chunked_here(docs: int) -> list[list[str]]:
    """Each document's chunk texts, as the worker cuts them."""
    config = default_parser_config("naive")
    return [
        [draft.content for draft in chunk(parse(document_text(doc).encode(), f"{doc['_id']}.txt"), "naive", config)]
        for doc in corpus()[:docs]
    ]


async def ingest_rate(embedder: SentenceTransformerEmbedder, documents: list[list[str]]) -> tuple[float, np.ndarray]:
    began = time.perf_counter()
    vectors = await asyncio.gather(*(embedder.embed(texts) for texts in documents))
    elapsed = time.perf_counter() - began
    flat = np.array([vector for document in vectors for vector in document], dtype=np.float32)
    return len(flat) / elapsed, flat


async def query_latencies(embedder: SentenceTransformerEmbedder, texts: list[str]) -> list[float]:
    seconds = []
    for text in texts:
        began = time.perf_counter()
        await embedder.embed([text])
        seconds.append(time.perf_counter() - began)
    return sorted(seconds)


@dataclass
class Pipeline:
    backend: str
    chunks: int
    seconds: float


def ingested(docs: int, backend: str) -> tuple[Pipeline, list[list[str]]]:
    """The first `docs` documents through a real server running `backend`; its timing and its chunks."""
    name = "embed-backends-pipeline"
    shutil.rmtree(WORK / name, ignore_errors=True)
    with server(name, NECTAR_EMBED_BACKEND=backend) as api:
        dataset = api.call("POST", "/datasets", json={"name": "nfcorpus"})
        files = [(f"{doc['_id']}.txt", document_text(doc)) for doc in corpus()[:docs]]
        ids = upload_files(api, dataset["id"], files)
        began = time.perf_counter()
        for start in range(0, len(ids), 500):
            api.call(
                "POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": ids[start : start + 500]}
            )
        wait_all_parsed(api, dataset["id"], len(ids))
        seconds = time.perf_counter() - began
        documents = [[chunk["content"] for chunk in chunks] for _, chunks in document_chunks(api, dataset["id"])]
    return Pipeline(backend, sum(map(len, documents)), seconds), documents


async def measure(docs: int, rounds: int, pipeline_backend: str | None) -> list[str]:
    pipeline, documents = ingested(docs, pipeline_backend) if pipeline_backend else (None, chunked_here(docs))
    chunk_count = sum(map(len, documents))
    questions = list(queries("test")[0].values())
    cache = WORK / "embed-backends" / "models"
    embedders = {}
    for backend in EMBED_BACKENDS:  # exports (first run only) happen here, outside the timings
        embedders[backend] = load_embedder(BUILTIN, parallel=CORES, backend=backend, cache_dir=cache)
        await embedders[backend].embed(["warm-up"])
    rates: dict[str, list[float]] = {backend: [] for backend in EMBED_BACKENDS}
    latencies: dict[str, list[float]] = {backend: [] for backend in EMBED_BACKENDS}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for backend, embedder in embedders.items():
            rate, vectors[backend] = await ingest_rate(embedder, documents)
            rates[backend].append(rate)
            latencies[backend].extend(await query_latencies(embedder, questions))
    torch_rate = float(np.median(rates["torch"]))
    source = "chunked by the server" if pipeline else "chunked as the worker does"
    lines = [
        f"NFCorpus, the first {len(documents):,} documents {source} (naive, 512 tokens) →"
        f" {chunk_count:,} chunks, embedded whole (windows) through `SentenceTransformerEmbedder.embed`, one request",
        f"per document, all at once; {CORES} single-threaded encoders (NECTAR_EMBED_PARALLEL default); medians of"
        f" {rounds} rounds, backends taking turns. Queries: the {len(questions)} NFCorpus test queries, each embedded",
        f"alone ({rounds} passes). Machine: {platform.machine()}, {CORES} cores, CPU only, one process, side by side.",
        "",
        "| backend | chunks/s | × torch | query p50 | query p99 | cosine to torch: min / mean |",
        "|---|---|---|---|---|---|",
    ]
    for backend in EMBED_BACKENDS:
        rate = float(np.median(rates[backend]))
        seconds = sorted(latencies[backend])
        cosines = (vectors[backend] * vectors["torch"]).sum(axis=1)
        lines.append(
            f"| {backend} | {rate:.1f} | {rate / torch_rate:.2f} | {1000 * seconds[len(seconds) // 2]:.1f} ms"
            f" | {1000 * seconds[int(len(seconds) * 0.99)]:.1f} ms | {cosines.min():.4f} / {cosines.mean():.4f} |"
        )
    if pipeline:
        fastest = max(EMBED_BACKENDS, key=lambda backend: float(np.median(rates[backend])))
        rate = pipeline.chunks / pipeline.seconds
        ratio = rate / float(np.median(rates[fastest]))
        lines += [
            "",
            f"Pipeline, `nectar serve` with NECTAR_EMBED_BACKEND={pipeline.backend}, upload done → parse request →"
            f" every document DONE: {pipeline.chunks:,} chunks in {pipeline.seconds:.1f} s = {rate:.1f} chunks/s;"
            f" **ratio pipeline ÷ fastest encoder ({fastest}) {ratio:.2f}** (goal ≥ 0.90).",
        ]
    return lines


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--docs", type=int, default=600, help="NFCorpus documents to chunk and embed")
    arguments.add_argument("--rounds", type=int, default=2, help="rounds of every backend, taking turns")
    arguments.add_argument("--pipeline", choices=EMBED_BACKENDS, help="also ingest through a server on this backend")
    arguments.add_argument("--record", action="store_true", help="rewrite this section of bench/RESULTS.md")
    args = arguments.parse_args()
    lines = asyncio.run(measure(args.docs, args.rounds, args.pipeline))
    print("\n".join(lines))
    if args.record:
        record("Embedding backends (bench/embed_backends.py)", lines)


if __name__ == "__main__":
    main()
