"""NFCorpus through upload → parse → DONE, against raw SentenceTransformer.encode on the same chunks.

Reports pipeline chunks/s ÷ raw encode chunks/s, both measured in this run on this machine. Goal ≥ 0.85.
"""

from __future__ import annotations

import os
import platform
import shutil
import time

from bench.common import WORK, Api, corpus, document_text, record, server, wait_all_parsed

NAME = "nfcorpus"
UPLOAD_BATCH = 200
# A smaller sample for quick side-by-side iterations; RESULTS.md figures use the whole corpus.
LIMIT = int(os.environ.get("BENCH_DOCS", "0")) or None


def upload_corpus(api: Api, dataset_id: str) -> list[str]:
    ids: list[str] = []
    docs = corpus()[:LIMIT]
    for start in range(0, len(docs), UPLOAD_BATCH):
        files = [
            ("file", (f"{doc['_id']}.txt", document_text(doc).encode())) for doc in docs[start : start + UPLOAD_BATCH]
        ]
        ids.extend(doc["id"] for doc in api.call("POST", f"/datasets/{dataset_id}/documents", files=files))
    return ids


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
    texts: list[str] = []
    page = 1
    while True:
        listing = api.call("GET", f"/datasets/{dataset_id}/documents", params={"page": page, "page_size": 100})
        if not listing["docs"]:
            return texts
        for doc in listing["docs"]:
            chunks = api.call("GET", f"/datasets/{dataset_id}/documents/{doc['id']}/chunks", params={"page_size": 100})
            texts.extend(chunk["content"] for chunk in chunks["chunks"])
        page += 1


def raw_encode_rate(texts: list[str]) -> float:
    from service.providers.embedding import load_embedder

    model = load_embedder("all-MiniLM-L6-v2@Builtin").model  # parallel=1: torch keeps its default threads
    model.encode(texts[:64], batch_size=64)  # warm-up
    began = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - began)


def main() -> None:
    shutil.rmtree(WORK / "ingest", ignore_errors=True)
    with server("ingest") as api:
        dataset_id, chunks, elapsed = ingest(api)
        texts = chunk_texts(api, dataset_id)
    pipeline = chunks / elapsed
    raw = raw_encode_rate(texts)
    ratio = pipeline / raw
    print(
        f"pipeline {chunks} chunks in {elapsed:.1f}s = {pipeline:.1f} chunks/s; raw encode {raw:.1f} chunks/s; "
        f"ratio {ratio:.2f}"
    )
    record(
        "Ingestion throughput (bench/ingest.py)",
        [
            f"NFCorpus, {len(corpus()[:LIMIT]):,} documents uploaded as .txt, chunk_method naive (512 tokens)"
            f" → {chunks:,} chunks.",
            f"Machine: {platform.machine()}, 2 cores, CPU only. Measured in one run, side by side.",
            "The server runs one single-threaded encoder per core (NECTAR_EMBED_PARALLEL, default: the core count).",
            "",
            "| measure | chunks/s |",
            "|---|---|",
            f"| pipeline: parse request → every document DONE ({elapsed:.1f} s) | {pipeline:.1f} |",
            f"| raw `SentenceTransformer.encode(batch_size=64)` on the same chunks | {raw:.1f} |",
            f"| **ratio pipeline ÷ raw** (goal ≥ 0.85) | **{ratio:.2f}** |",
        ],
    )


if __name__ == "__main__":
    main()
