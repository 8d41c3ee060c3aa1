"""The keyword side is BM25 over per-dataset statistics the database keeps as chunks change.

Each check computes BM25 in Python from the chunks the dataset holds at that moment (the formula written out
below) and compares it with the `term_similarity` `POST /retrieval` returns for every chunk, and compares the
kept statistics with a recount from the chunks themselves.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import Any

from sqlalchemy import text

from service.db.models import Document
from service.domain.chunk_store import ChunkRow, insert_chunks
from service.domain.keyword_scoring import K1, B
from service.runtime import Runtime
from service.text.search_text import index_text
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, retrieve, upload
from tests.conftest import Caller


def words(content: str) -> list[str]:
    """The test corpus's words are their own lexemes (no stop words, no two sharing a stem); CJK as bigrams."""
    return index_text(content).lower().split()


def reference_bm25(corpus: dict[str, str], question: str) -> dict[str, float]:
    """Okapi BM25 (Lucene's idf) over `corpus` (chunk id → content) for the question's distinct words, divided
    by the query's maximum attainable score Σ idf · (k1 + 1); a word no chunk holds weighs nothing."""
    docs = {chunk_id: words(content) for chunk_id, content in corpus.items()}
    n = len(docs)
    avgdl = sum(len(d) for d in docs.values()) / n
    df = Counter(term for d in docs.values() for term in set(d))
    weight = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in set(words(question)) if df[t]}
    best = sum(weight.values()) * (K1 + 1)
    scores = {}
    for chunk_id, d in docs.items():
        norm = K1 * (1 - B + B * len(d) / avgdl)
        tf = Counter(d)
        scores[chunk_id] = sum(w * tf[t] * (K1 + 1) / (tf[t] + norm) for t, w in weight.items() if tf[t]) / best
    return scores


async def term_similarities(client: Client, caller: Caller, dataset_ids: list[str], question: str) -> dict[str, float]:
    result = await retrieve(
        client, caller, question=question, dataset_ids=dataset_ids, vector_similarity_weight=0.0,
        similarity_threshold=0.0, page_size=100,
    )  # fmt: skip
    return {chunk["id"]: chunk["term_similarity"] for chunk in result["chunks"]}


async def assert_bm25(client: Client, caller: Caller, corpus: dict[str, str], ds: list[str], question: str) -> None:
    expected = reference_bm25(corpus, question)
    found = await term_similarities(client, caller, ds, question)
    assert found.keys() == expected.keys()
    for chunk_id, score in expected.items():
        assert abs(found[chunk_id] - score) < 2e-6, (corpus[chunk_id], found[chunk_id], score)  # 6 places shown


KEPT = """
SELECT 'corpus', dataset_id, '', chunks, words FROM keyword_corpus WHERE dataset_id = ANY(:ds)
UNION ALL SELECT 'term', dataset_id, term, chunks, 0 FROM keyword_terms WHERE dataset_id = ANY(:ds)
"""
RECOUNTED = """
SELECT 'corpus', dataset_id, '', count(*), sum(keyword_length) FROM chunks WHERE dataset_id = ANY(:ds)
GROUP BY dataset_id
UNION ALL SELECT 'term', c.dataset_id, u.lexeme, count(*), 0 FROM chunks c, unnest(c.tsv) u
WHERE c.dataset_id = ANY(:ds) GROUP BY c.dataset_id, u.lexeme
"""


async def assert_statistics_exact(runtime: Runtime, *dataset_ids: str) -> None:
    """What the triggers kept equals a recount from the chunks (and nothing is left pending)."""
    async with runtime.sessions() as db:
        params = {"ds": list(dataset_ids)}
        kept = {tuple(row) for row in await db.execute(text(KEPT), params)}
        recounted = {tuple(row) for row in await db.execute(text(RECOUNTED), params)}
        pending = await db.scalar(text("SELECT count(*) FROM keyword_deltas"))
    assert kept == recounted
    assert pending == 0


async def empty_document(client: Client, caller: Caller, ds: str, name: str = "empty.txt") -> str:
    [doc] = await upload(client, caller, ds, (name, b"x"))  # never parsed: it holds only the chunks added to it
    return str(doc["id"])


async def add(client: Client, caller: Caller, ds: str, doc: str, content: str) -> str:
    reply = await call(client, caller, "POST", f"/datasets/{ds}/documents/{doc}/chunks", json={"content": content})
    assert reply["code"] == 0, reply
    return str(reply["data"]["chunk"]["id"])


CORPUS = [
    "alpha alpha beta",
    "alpha gamma delta epsilon zeta",
    "beta beta beta gamma",
    "zeta eta theta iota kappa lambda omicron",
    "東京都の京都",
]
QUESTION = "alpha beta gamma gamma 京都"  # a word said twice counts once


async def test_term_similarity_is_normalised_bm25_through_add_edit_and_deletes(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    ds = (await new_dataset(client, caller, "bm25"))["id"]
    doc = await empty_document(client, caller, ds)
    corpus = {await add(client, caller, ds, doc, content): content for content in CORPUS}
    await assert_bm25(client, caller, corpus, [ds], QUESTION)
    await assert_statistics_exact(runtime, ds)

    edited = next(chunk_id for chunk_id, content in corpus.items() if content.startswith("alpha gamma"))
    path = f"/datasets/{ds}/documents/{doc}/chunks"
    reply = await call(client, caller, "PUT", f"{path}/{edited}", json={"content": "beta delta delta"})
    assert reply["code"] == 0, reply
    corpus[edited] = "beta delta delta"
    await assert_bm25(client, caller, corpus, [ds], QUESTION)

    doomed = next(chunk_id for chunk_id, content in corpus.items() if content == "alpha alpha beta")
    assert (await call(client, caller, "DELETE", path, json={"chunk_ids": [doomed]}))["code"] == 0
    del corpus[doomed]
    await assert_bm25(client, caller, corpus, [ds], QUESTION)

    other = await empty_document(client, caller, ds, "other.txt")
    await add(client, caller, ds, other, "gamma gamma gamma gamma gamma gamma")
    await call(client, caller, "DELETE", f"/datasets/{ds}/documents", json={"ids": [other]})
    await assert_bm25(client, caller, corpus, [ds], QUESTION)
    await assert_statistics_exact(runtime, ds)


async def test_statistics_are_per_dataset_and_datasets_searched_together_are_one_corpus(
    client: Client, caller: Caller, other_caller: Caller, runtime: Runtime
) -> None:
    first, second = [(await new_dataset(client, caller, name))["id"] for name in ("first", "second")]
    corpora: dict[str, dict[str, str]] = {first: {}, second: {}}
    for ds, contents in ((first, CORPUS[:3]), (second, ["alpha kappa", "alpha lambda", "alpha mu nu", "beta"])):
        doc = await empty_document(client, caller, ds)
        corpora[ds] = {await add(client, caller, ds, doc, content): content for content in contents}
    # Another tenant's chunks full of the same words change nothing here.
    theirs = (await new_dataset(client, other_caller, "theirs"))["id"]
    their_doc = await empty_document(client, other_caller, theirs)
    for n in range(3):
        await add(client, other_caller, theirs, their_doc, f"alpha alpha gamma {n}")
    for ds in (first, second):
        await assert_bm25(client, caller, corpora[ds], [ds], QUESTION)
    await assert_bm25(client, caller, corpora[first] | corpora[second], [first, second], QUESTION)
    assert set((await term_similarities(client, other_caller, [theirs], "beta")).values()) == {0.0}

    await call(client, caller, "DELETE", "/datasets", json={"ids": [second]})
    await assert_statistics_exact(runtime, first, second)  # the deleted dataset leaves no statistics


async def test_concurrent_writers_in_one_dataset_lose_no_update(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    """Writers of several documents sharing every word commit together: none waits forever or deadlocks, and
    the counts are exact (each writer's change is applied as an increment at its commit, in key order)."""
    ds = (await new_dataset(client, caller, "busy"))["id"]
    docs = [await empty_document(client, caller, ds, f"d{n}.txt") for n in range(4)]
    shared = "omega sigma tau upsilon phi chi psi"

    async def write(n: int) -> str:
        return await add(client, caller, ds, docs[n % 4], f"{shared} {' '.join(shared.split()[::-1])} n{n}")

    added = await asyncio.gather(*(write(n) for n in range(16)))
    path = f"/datasets/{ds}/documents/{docs[0]}/chunks"
    deletes = [call(client, caller, "DELETE", path, json={"chunk_ids": [chunk_id]}) for chunk_id in added[::4]]
    replies, _ = await asyncio.gather(asyncio.gather(*deletes), asyncio.gather(*(write(n) for n in range(16, 24))))
    assert all(reply["code"] == 0 for reply in replies)
    await assert_statistics_exact(runtime, ds)


async def test_a_reparse_replaces_the_documents_statistics(client: Client, caller: Caller, runtime: Runtime) -> None:
    ds = (await new_dataset(client, caller, "reparse"))["id"]
    docs = await upload(client, caller, ds, ("a.txt", b"alpha beta gamma delta"), ("b.txt", b"alpha epsilon"))
    ids = [doc["id"] for doc in docs]
    await parse(client, caller, ds, *ids)
    await parse(client, caller, ds, *ids)  # the same chunks again: replaced, not counted twice
    await assert_statistics_exact(runtime, ds)
    async with runtime.sessions() as db:
        kept = await db.execute(text("SELECT chunks, words FROM keyword_corpus WHERE dataset_id = :ds"), {"ds": ds})
        assert kept.one() == (2, 6)


async def test_equal_scores_are_ordered_by_closeness_in_meaning_not_by_id(client: Client, caller: Caller) -> None:
    """Keyword-only and no chunk holds a word of the question: every score is 0, and the chunks still come
    closest in meaning first (they used to come in chunk-id order)."""
    ds = (await new_dataset(client, caller, "ties"))["id"]
    doc = await empty_document(client, caller, ds)
    topics = ["Bees make honey in hives.", "Iron rusts in water.", "Tea grows in hills.", "Stars are suns.",
              "Cats chase mice.", "Rivers run to the sea."]  # fmt: skip
    for topic in topics:
        await add(client, caller, ds, doc, topic)
    result = await retrieve(
        client, caller, question="pollinating insects", dataset_ids=[ds], vector_similarity_weight=0.0,
        similarity_threshold=0.0,
    )  # fmt: skip
    chunks: list[dict[str, Any]] = result["chunks"]
    assert len(chunks) == len(topics) and {chunk["similarity"] for chunk in chunks} == {0.0}
    closeness = [chunk["vector_similarity"] for chunk in chunks]
    assert closeness == sorted(closeness, reverse=True)
    assert chunks[0]["content"] == "Bees make honey in hives."


async def test_writers_interleaving_shared_words_neither_wait_nor_deadlock(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    """Two transactions (as two parses of one dataset) each write chunks holding the other's words, in opposite
    orders: statistics updated statement by statement would make each wait for the other's lock (a deadlock);
    they are applied at commit, so both commit and both changes count."""
    ds = await new_dataset(client, caller, "interleaved")
    first, second = [await empty_document(client, caller, ds["id"], f"{n}.txt") for n in ("first", "second")]
    vector = [1.0] + [0.0] * 383
    async with runtime.sessions() as one, runtime.sessions() as two:
        documents = [await one.get_one(Document, first), await two.get_one(Document, second)]
        steps = [(one, 0, "alpha"), (two, 1, "beta"), (one, 0, "beta gamma"), (two, 1, "alpha gamma")]
        for db, n, content in steps:
            row = ChunkRow(content, vector)
            await asyncio.wait_for(insert_chunks(db, documents[n], ds["embedding_model"], [row]), timeout=10)
        await asyncio.wait_for(one.commit(), timeout=10)
        await asyncio.wait_for(two.commit(), timeout=10)
    await assert_statistics_exact(runtime, ds["id"])
    async with runtime.sessions() as db:
        held = await db.execute(
            text("SELECT term, chunks FROM keyword_terms WHERE dataset_id = :ds ORDER BY term"), {"ds": ds["id"]}
        )
        assert [tuple(row) for row in held] == [("alpha", 2), ("beta", 2), ("gamma", 2)]
