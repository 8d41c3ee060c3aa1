"""One peer of bench/peers.py (LlamaIndex or LangChain) on NFCorpus, run in .venv-peers, never in Nectar's venv.

It imports nothing of Nectar's. bench/peers.py writes a request (JSON) and runs
`.venv-peers/bin/python bench/peer_run.py REQUEST RESULT`; this script ingests the corpus into its own database
of the shared PostgreSQL (split + embed + store, until a query sees the chunks), runs every query (warm-up
queries first, untimed), and writes the result (JSON): ingest seconds, chunk count and, per query mode, each
query's ranked document ids (a document at its best chunk, top 100) and seconds.
Every library keeps its defaults (splitter, batch sizes, torch threads) unless said here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local folder: nothing may be downloaded
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TOP_K = 100
WARMUP = 5
LANGCHAIN_CHUNK_SIZE = 1000  # characters, the size LangChain's own examples use
LANGCHAIN_CHUNK_OVERLAP = 200
Search = Callable[[str], list[str]]
Ingested = tuple[int, dict[str, Search], dict[str, Any], float]  # chunks, searches by mode, settings, start time


def load_corpus(path: str, limit: int | None) -> list[tuple[str, str]]:
    """(document id, text) as Nectar gets it: the title, a blank line, the text."""
    with open(path) as lines:
        rows = [json.loads(line) for line in lines][:limit]
    return [(row["_id"], (row.get("title", "") + "\n\n" + row.get("text", "")).strip()) for row in rows]


def best_first(doc_ids: list[str]) -> list[str]:
    """Document ids in the order of their best chunk, at most TOP_K."""
    return list(dict.fromkeys(doc_ids))[:TOP_K]


def llamaindex(request: dict[str, Any], docs: list[tuple[str, str]]) -> Ingested:
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.postgres import PGVectorStore

    socket_dir, database = request["socket_dir"], request["database"]
    store = PGVectorStore.from_params(
        connection_string=f"postgresql+psycopg2://postgres@/{database}?host={socket_dir}",
        async_connection_string=f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}",
        table_name="nfcorpus",
        embed_dim=384,
        hybrid_search=True,
        text_search_config="english",
    )
    embed_model = HuggingFaceEmbedding(model_name=request["model"], device="cpu")
    splitter = SentenceSplitter()
    began = time.perf_counter()  # the model is loaded: the clock runs from here, as Nectar's from its upload
    index = VectorStoreIndex.from_documents(
        [Document(text=text, id_=doc_id) for doc_id, text in docs],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed_model,
        transformations=[splitter],
    )

    def searcher(mode: str) -> Search:
        retriever = index.as_retriever(similarity_top_k=TOP_K, sparse_top_k=TOP_K, vector_store_query_mode=mode)
        return lambda question: best_first([str(hit.node.ref_doc_id) for hit in retriever.retrieve(question)])

    chunks = _count(store, "SELECT count(*) FROM data_nfcorpus")
    settings = {
        "splitter": f"SentenceSplitter() (chunk_size {splitter.chunk_size} tokens, overlap {splitter.chunk_overlap})",
        "embedding": f"HuggingFaceEmbedding(embed_batch_size {embed_model.embed_batch_size}, max_length "
        f"{embed_model.max_length})",
        "store": "PGVectorStore(hybrid_search=True, text_search_config='english'), no HNSW index (its default)",
    }
    return chunks, {"hybrid": searcher("hybrid"), "vector": searcher("default")}, settings, began


def _count(store: Any, sql: str) -> int:
    from sqlalchemy import text

    with store._engine.connect() as connection:  # the store's own engine: no second connection setup
        return int(connection.execute(text(sql)).scalar_one())


def langchain(request: dict[str, Any], docs: list[tuple[str, str]]) -> Ingested:
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_postgres import PGVector
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=request["model"], model_kwargs={"device": "cpu"})
    store = PGVector(
        embeddings=embeddings,
        connection=f"postgresql+psycopg://postgres@/{request['database']}?host={request['socket_dir']}",
        collection_name="nfcorpus",
        use_jsonb=True,
    )
    splitter = RecursiveCharacterTextSplitter(chunk_size=LANGCHAIN_CHUNK_SIZE, chunk_overlap=LANGCHAIN_CHUNK_OVERLAP)
    began = time.perf_counter()  # the model is loaded and the tables exist: the clock runs from here
    chunks = splitter.split_documents([Document(page_content=text, metadata={"doc_id": i}) for i, text in docs])
    store.add_documents(chunks)

    def search(question: str) -> list[str]:
        return best_first([hit.metadata["doc_id"] for hit in store.similarity_search(question, k=TOP_K)])

    settings = {
        "splitter": f"RecursiveCharacterTextSplitter(chunk_size={LANGCHAIN_CHUNK_SIZE}, "
        f"chunk_overlap={LANGCHAIN_CHUNK_OVERLAP}) (characters)",
        "embedding": "HuggingFaceEmbeddings (sentence-transformers defaults: batch 32, max_seq_length "
        f"{embeddings._client.max_seq_length})",
        "store": "langchain-postgres PGVector (cosine, use_jsonb), no HNSW index (its default)",
    }
    return len(chunks), {"vector": search}, settings, began


def timed_runs(searches: dict[str, Search], queries: dict[str, str]) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for mode, search in searches.items():
        for question in list(queries.values())[:WARMUP]:
            search(question)
        rankings, seconds = {}, []
        for query_id, question in queries.items():
            began = time.perf_counter()
            rankings[query_id] = search(question)
            seconds.append(time.perf_counter() - began)
        runs[mode] = {"rankings": rankings, "seconds": seconds}
    return runs


def main() -> None:
    request_path, result_path = sys.argv[1:3]
    with open(request_path) as source:
        request = json.load(source)
    docs = load_corpus(request["corpus"], request.get("docs"))
    ingest = {"llamaindex": llamaindex, "langchain": langchain}[request["system"]]
    chunks, searches, settings, began = ingest(request, docs)
    first = next(iter(searches.values()))(next(iter(request["queries"].values())))  # searchable: a query sees it
    ingest_seconds = time.perf_counter() - began
    if not first:
        raise RuntimeError("the first query found nothing after ingestion")
    result = {
        "documents": len(docs),
        "chunks": chunks,
        "ingest_seconds": ingest_seconds,
        "settings": settings,
        "runs": timed_runs(searches, request["queries"]),
    }
    with open(result_path, "w") as target:
        json.dump(result, target)


if __name__ == "__main__":
    main()
