"""An evaluation run over NFCorpus questions through a real `nectar serve`: the metrics it reports, and how fast.

A parsed NFCorpus subset: QUESTIONS test queries (those with a highly relevant document), their relevant
documents and as many other documents, each uploaded as `<doc id>.txt`. A RAGFlow chat over that dataset with
the built-in extractive model is the deployment. Each query becomes an evaluation item: its input the query, its
expected output the first sentence of its most relevant document (NFCorpus has no written answers, so the text
metrics measure how much of that sentence the extractive answer quotes), and `document_names` its relevant
documents (graded ≥ 1 in BEIR's qrels), which retrieval_hit@k and mrr score.

Run: `.venv/bin/python -m bench.eval_run [--questions 50] [--record]`; the dataset is kept in bench/.data/eval-run.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from bench.common import (
    Api,
    corpus,
    document_text,
    find_dataset,
    queries,
    record,
    server,
    upload_files,
    wait_all_parsed,
)

NAME = "eval-run"
METRICS = [
    "exact_match",
    "contains",
    "f1",
    "rouge_l",
    "retrieval_hit@1",
    "retrieval_hit@5",
    "mrr",
    "latency_ms",
    "tokens",
]


def opsbee(api: Api, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    reply = api.http.request(method, f"{api.base_url}/opsbee-llm/organizations/me{path}", **kwargs)
    if reply.status_code != 200:
        raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
    return dict(reply.json())


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]


def subset(questions: int) -> tuple[list[tuple[str, str, list[str]]], dict[str, dict[str, str]]]:
    """(query, best document id, relevant document ids) for `questions` queries, and the documents to upload."""
    texts, qrels = queries("test")
    documents = {doc["_id"]: doc for doc in corpus()}
    chosen = []
    for query_id in sorted(qrels):
        graded = sorted(qrels[query_id].items(), key=lambda pair: -pair[1])
        relevant = [doc_id for doc_id, grade in graded if grade >= 1 and doc_id in documents]
        if relevant and graded[0][1] >= 2:
            chosen.append((texts[query_id], relevant[0], relevant))
        if len(chosen) == questions:
            break
    wanted = {doc_id for _, _, relevant in chosen for doc_id in relevant}
    others = [doc_id for doc_id in sorted(documents) if doc_id not in wanted][: len(wanted)]
    return chosen, {doc_id: documents[doc_id] for doc_id in sorted(wanted) + others}


def knowledge_base(api: Api, documents: dict[str, dict[str, str]]) -> str:
    found = find_dataset(api, NAME)
    if found is not None:
        return str(found["id"])
    dataset = api.call("POST", "/datasets", json={"name": NAME})
    files = [(f"{doc_id}.txt", document_text(doc)) for doc_id, doc in documents.items()]
    ids = upload_files(api, dataset["id"], files)
    api.call("POST", f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": ids})
    wait_all_parsed(api, dataset["id"], len(ids))
    return str(dataset["id"])


def evaluation_set(api: Api, chosen: list[tuple[str, str, list[str]]], documents: dict[str, dict[str, str]]) -> str:
    dataset = opsbee(api, "POST", "/datasets", json={"name": f"nfcorpus-{len(chosen)}", "type": "qa"})
    for query, best, relevant in chosen:
        outputs = [{"output_text": first_sentence(documents[best]["text"])}, {"document_names": relevant}]
        body = {"inputs": [{"input_text": query}], "outputs": outputs, "tags": ["nfcorpus"], "metadata": []}
        opsbee(api, "POST", f"/datasets/{dataset['id']}/items", json=body)
    return str(dataset["id"])


def run(api: Api, dataset_id: str, deployment_id: str, concurrency: int) -> tuple[dict[str, Any], float]:
    body = {"deployment_id": deployment_id, "metrics": METRICS, "concurrency": concurrency}
    started = opsbee(api, "POST", f"/datasets/{dataset_id}/runs", json=body)
    began = time.perf_counter()
    while (found := opsbee(api, "GET", f"/datasets/{dataset_id}/runs/{started['id']}"))["status"] not in (
        "done", "failed", "cancelled",
    ):  # fmt: skip
        time.sleep(0.2)
    return found, time.perf_counter() - began


def lines_of(found: dict[str, Any], seconds: float, documents: int, concurrency: int) -> list[str]:
    progress = found["progress"]
    lines = [
        f"{progress['total']} NFCorpus test queries (each with a relevant document graded 2) over {documents} NFCorpus"
        " documents (their relevant documents and as many others), a RAGFlow chat with the built-in"
        f" `nectar-extractive` model (default retrieval settings) as the deployment; {concurrency} items at a time."
        " Expected output: the first sentence of the most relevant document (NFCorpus has no written answers);"
        " relevant documents: qrels grade ≥ 1.",
        "",
        f"Run {found['status']}: {progress['succeeded']} answered, {progress['failed']} failed, in {seconds:.1f} s"
        f" ({progress['total'] / seconds:.1f} items/s, answering included).",
        "",
        "| metric | items | mean | p50 | p90 |",
        "|---|---|---|---|---|",
    ]
    for name, figures in found["scores"].items():
        lines.append(
            f"| {name} | {figures['count']} | {figures['mean']:.3f} | {figures['p50']:.3f} | {figures['p90']:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--record", action="store_true", help="write the section of bench/RESULTS.md")
    args = parser.parse_args()
    chosen, documents = subset(args.questions)
    with server(NAME) as api:
        knowledge = knowledge_base(api, documents)
        chat = api.call("POST", "/chats", json={"name": f"nfcorpus-{time.time_ns()}", "dataset_ids": [knowledge]})
        found, seconds = run(api, evaluation_set(api, chosen, documents), str(chat["id"]), args.concurrency)
    lines = lines_of(found, seconds, len(documents), args.concurrency)
    print("\n".join(lines))
    if args.record:
        record("Evaluation run over NFCorpus (bench/eval_run.py)", lines)


if __name__ == "__main__":
    main()
