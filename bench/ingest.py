"""NFCorpus through upload → parse → DONE, against raw SentenceTransformer.encode on the same chunks.

Reports pipeline chunks/s ÷ raw encode chunks/s, both measured in this run on this machine. Goal ≥ 0.85.
Run: `.venv/bin/python -m bench.ingest [--record]` (--record rewrites its section of bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time

from bench.common import (
    WORK,
    Api,
    corpus,
    document_chunks,
    document_text,
    record,
    server,
    upload_files,
    wait_all_parsed,
)

NAME = "nfcorpus"
UPLOAD_BATCH = 200
# A smaller sample for quick side-by-side iterations; RESULTS.md figures use the whole corpus.
LIMIT = int(os.environ.get("BENCH_DOCS", "0")) or None


def upload_corpus(api: Api, dataset_id: str) -> list[str]:
    files = [(f"{doc['_id']}.txt", document_text(doc)) for doc in corpus()[:LIMIT]]
    return upload_files(api, dataset_id, files, UPLOAD_BATCH)


def ingest(api: Api) -> tuple[str, int, float]:
    dataset = api.call("POST", "/datasets", json={"name": NAME})
    ids = upload_corpus(api, dataset["id"])
    began = time.perf_counter()
    for start in range(0, len(ids), 500):
        api.call("POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": ids[start : start + 500]})
    wait_all_parsed(api, dataset["id"], len(ids))
    elapsed = time.perf_counter() - began
    [stats] = api.call("GET", "/datasets", params={"id": dataset["id"]})
    return dataset["id"], int(stats["chunk_count"]), elapsed


def chunk_texts(api: Api, dataset_id: str) -> list[str]:
    return [chunk["content"] for _, chunks in document_chunks(api, dataset_id) for chunk in chunks]


def raw_encode_rates(texts: list[str]) -> tuple[float, float]:
    """Chunks/s of the bare model (which cuts each text at its window) and of the server's own encoder.

    The encoder embeds a chunk longer than the window in windows and pools them (service/providers/windows.py),
    the work the pipeline does; the ratio is taken against it.
    """
    from service.providers.embedding import load_embedder

    embedder = load_embedder("all-MiniLM-L6-v2@Builtin")  # parallel=1: torch keeps its default threads
    embedder.model.encode(texts[:64], batch_size=64)  # warm-up
    began = time.perf_counter()
    embedder.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    truncated = len(texts) / (time.perf_counter() - began)
    began = time.perf_counter()
    embedder.encode(texts)
    return truncated, len(texts) / (time.perf_counter() - began)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--record", action="store_true", help="rewrite this section of bench/RESULTS.md")
    shutil.rmtree(WORK / "ingest", ignore_errors=True)
    record_it = arguments.parse_args().record
    with server("ingest") as api:
        dataset_id, chunks, elapsed = ingest(api)
        texts = chunk_texts(api, dataset_id)
    pipeline = chunks / elapsed
    truncated, raw = raw_encode_rates(texts)
    ratio = pipeline / raw
    print(
        f"pipeline {chunks} chunks in {elapsed:.1f}s = {pipeline:.1f} chunks/s; raw encode {raw:.1f} chunks/s"
        f" (cut at the window: {truncated:.1f}); ratio {ratio:.2f}"
    )
    lines = [
        f"NFCorpus, {len(corpus()[:LIMIT]):,} documents uploaded as .txt, chunk_method naive (512 tokens)"
        f" → {chunks:,} chunks.",
        f"Machine: {platform.machine()}, 2 cores, CPU only. Measured in one run, side by side.",
        "The server runs one single-threaded encoder per core (NECTAR_EMBED_PARALLEL, default: the core count).",
        "",
        "| measure | chunks/s |",
        "|---|---|",
        f"| pipeline: parse request → every document DONE ({elapsed:.1f} s) | {pipeline:.1f} |",
        f"| raw: the server's encoder on the same chunks, one process (long chunks in windows, pooled) | {raw:.1f} |",
        f"| for reference: bare `SentenceTransformer.encode(batch_size=64)`, cut at 256 | {truncated:.1f} |",
        f"| **ratio pipeline ÷ raw** (goal ≥ 0.85) | **{ratio:.2f}** |",
    ]
    if record_it:
        record("Ingestion throughput (bench/ingest.py)", lines)


if __name__ == "__main__":
    main()
