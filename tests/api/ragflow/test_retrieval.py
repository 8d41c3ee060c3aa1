from __future__ import annotations

import math
from typing import Any

from service.domain.keyword_scoring import K1
from service.domain.retrieval import DEFAULT_VECTOR_WEIGHT
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, retrieve, upload
from tests.conftest import Caller

CORPUS = {
    "bees.txt": "Honey bees collect nectar and turn it into honey inside the hive.",
    "rust.txt": "Iron rusts when it reacts with oxygen and water to form iron oxide.",
    "tea.txt": "Green tea is brewed from unoxidised leaves of the Camellia sinensis plant.",
    "tokyo.txt": "東京は日本の首都です。京都は古い都市で、寺が多いです。",
}


async def corpus(client: Client, caller: Caller) -> tuple[str, dict[str, str]]:
    ds = await new_dataset(client, caller, "corpus")
    docs = await upload(client, caller, ds["id"], *[(name, text.encode()) for name, text in CORPUS.items()])
    await parse(client, caller, ds["id"], *[doc["id"] for doc in docs])
    return ds["id"], {doc["name"]: doc["id"] for doc in docs}


def names(result: dict[str, Any]) -> list[str]:
    return [chunk["document_keyword"] for chunk in result["chunks"]]


async def test_hybrid_ranks_the_relevant_chunk_first(client: Client, caller: Caller) -> None:
    ds, _ = await corpus(client, caller)
    result = await retrieve(client, caller, question="How do bees make honey?", dataset_ids=[ds])
    top = result["chunks"][0]
    assert top["document_keyword"] == "bees.txt"
    w = DEFAULT_VECTOR_WEIGHT  # no weight in the request, none on the dataset
    assert abs(top["similarity"] - ((1 - w) * top["term_similarity"] + w * top["vector_similarity"])) < 1e-5
    assert 0 < top["term_similarity"] <= 1 and 0 < top["vector_similarity"] <= 1
    assert result["total"] == len(result["chunks"])
    assert result["doc_aggs"][0] == {"doc_name": "bees.txt", "doc_id": top["document_id"], "count": 1}
    assert all(chunk["similarity"] >= 0.2 for chunk in result["chunks"])


async def test_vector_only_finds_paraphrases_keyword_only_needs_words(client: Client, caller: Caller) -> None:
    ds, _ = await corpus(client, caller)
    paraphrase = "corrosion of metal"
    vector = await retrieve(
        client, caller, question=paraphrase, dataset_ids=[ds], vector_similarity_weight=1.0, similarity_threshold=0.1
    )
    assert names(vector)[0] == "rust.txt"
    keyword = await retrieve(
        client, caller, question=paraphrase, dataset_ids=[ds], vector_similarity_weight=0.0, similarity_threshold=0.01
    )
    assert keyword["total"] == 0


async def test_cjk_query_matches_by_bigrams_and_highlights(client: Client, caller: Caller) -> None:
    ds, _ = await corpus(client, caller)
    result = await retrieve(
        client, caller, question="京都の寺", dataset_ids=[ds], vector_similarity_weight=0.0, highlight=True
    )
    assert names(result) == ["tokyo.txt"]
    assert "<em>京都</em>" in result["chunks"][0]["highlight"]
    english = await retrieve(client, caller, question="green tea leaves", dataset_ids=[ds], highlight=True)
    assert (
        "<em>tea</em>" in english["chunks"][0]["highlight"] and "<em>leaves</em>" in english["chunks"][0]["highlight"]
    )


async def test_pagination_threshold_and_document_filter(client: Client, caller: Caller) -> None:
    ds, ids = await corpus(client, caller)
    everything = await retrieve(client, caller, question="water", dataset_ids=[ds], similarity_threshold=0.0)
    assert everything["total"] == 4
    page2 = await retrieve(
        client, caller, question="water", dataset_ids=[ds], similarity_threshold=0.0, page=2, page_size=3
    )
    assert [c["id"] for c in page2["chunks"]] == [c["id"] for c in everything["chunks"][3:]]
    assert page2["total"] == 4
    none = await retrieve(client, caller, question="water", dataset_ids=[ds], similarity_threshold=1.0)
    assert none == {"total": 0, "chunks": [], "doc_aggs": []}
    only_tea = await retrieve(client, caller, question="water", dataset_ids=[ds], document_ids=[ids["tea.txt"]])
    assert names(only_tea) == ["tea.txt"]


async def test_disabled_document_is_not_retrieved(client: Client, caller: Caller) -> None:
    ds, ids = await corpus(client, caller)
    await call(client, caller, "PATCH", f"/datasets/{ds}/documents/{ids['bees.txt']}", json={"enabled": 0})
    result = await retrieve(client, caller, question="bees honey hive", dataset_ids=[ds], similarity_threshold=0)
    assert "bees.txt" not in names(result)


async def test_bad_requests(client: Client, caller: Caller, other_caller: Caller) -> None:
    ds, _ = await corpus(client, caller)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"dataset_ids": [ds]}, 102, "`question` is required."),
        ({"question": "x"}, 102, "`dataset_ids` is required."),
        ({"question": "x", "dataset_ids": [ds], "highlight": "yes"}, 101, "`highlight` should be a boolean"),
        ({"question": "x", "dataset_ids": [ds], "rerank_id": "bge-reranker@x"}, 102, "rerank"),
        ({"question": "x", "dataset_ids": [ds], "page_size": 1000}, 101, "page_size"),
        ({"question": "x", "dataset_ids": [ds], "vector_similarity_weight": "a"}, 101, "vector_similarity_weight"),
        ({"question": "x", "dataset_ids": ["0" * 32]}, 102, "You don't own the dataset"),
    ]
    for body, code, fragment in cases:
        reply = await call(client, caller, "POST", "/retrieval", json=body)
        assert reply["code"] == code and fragment in reply["message"], (body, reply)
    stolen = await call(client, other_caller, "POST", "/retrieval", json={"question": "honey", "dataset_ids": [ds]})
    assert stolen["code"] == 102 and "honey" not in str(stolen).replace('honey"', "")
    blank = await retrieve(client, caller, question="   ", dataset_ids=[ds])
    assert blank["total"] == 0


async def test_term_similarity_is_bm25_over_its_maximum_attainable_score(client: Client, caller: Caller) -> None:
    """`alpha` is in two of four parsed chunks, `gamma` in one, every chunk two words long: a chunk holding both
    once scores 1 / (k1 + 1), one holding only `alpha` its IDF share of that (test_retrieval_bm25.py goes on)."""
    ds = await new_dataset(client, caller, "idf")
    texts = {"a.txt": "alpha beta", "b.txt": "alpha gamma", "c.txt": "delta epsilon", "d.txt": "zeta theta"}
    docs = await upload(client, caller, ds["id"], *[(name, text.encode()) for name, text in texts.items()])
    await parse(client, caller, ds["id"], *[doc["id"] for doc in docs])
    result = await retrieve(
        client, caller, question="alpha gamma", dataset_ids=[ds["id"]], vector_similarity_weight=0.0,
        similarity_threshold=0.01,
    )  # fmt: skip
    idf = {df: math.log(1 + (4 - df + 0.5) / (df + 0.5)) for df in (1, 2)}
    shares = {chunk["document_keyword"]: chunk["term_similarity"] for chunk in result["chunks"]}
    assert shares.keys() == {"a.txt", "b.txt"}
    assert abs(shares["b.txt"] - 1 / (K1 + 1)) < 1e-6  # the API rounds to 6 places
    assert abs(shares["a.txt"] - idf[2] / (idf[1] + idf[2]) / (K1 + 1)) < 1e-6


async def test_a_question_of_thousands_of_distinct_words_is_answered(client: Client, caller: Caller) -> None:
    """A pasted document as the question: every term still counts, and the statement stays within bind limits."""
    ds, _ = await corpus(client, caller)
    filler = " ".join(f"w{n:05d}x" for n in range(40_000))  # 40,000 distinct terms none of the chunks hold
    result = await retrieve(
        client, caller, question=f"honey bees {filler}", dataset_ids=[ds], vector_similarity_weight=0.0,
        similarity_threshold=0.0,
    )  # fmt: skip
    assert names(result)[0] == "bees.txt"
    assert result["chunks"][0]["term_similarity"] > 0


async def test_a_dataset_carries_its_own_default_weight(client: Client, caller: Caller) -> None:
    ds, _ = await corpus(client, caller)
    shown = await call(client, caller, "GET", "/datasets", params={"id": ds})
    assert shown["data"][0]["vector_similarity_weight"] == DEFAULT_VECTOR_WEIGHT
    updated = await call(client, caller, "PUT", f"/datasets/{ds}", json={"vector_similarity_weight": 0.9})
    assert updated["code"] == 0 and updated["data"]["vector_similarity_weight"] == 0.9
    top = (await retrieve(client, caller, question="How do bees make honey?", dataset_ids=[ds]))["chunks"][0]
    assert abs(top["similarity"] - (0.1 * top["term_similarity"] + 0.9 * top["vector_similarity"])) < 1e-5
    asked = await retrieve(
        client, caller, question="How do bees make honey?", dataset_ids=[ds], vector_similarity_weight=0
    )
    assert asked["chunks"][0]["similarity"] == asked["chunks"][0]["term_similarity"]  # the request's weight wins
    await call(client, caller, "PUT", f"/datasets/{ds}", json={"vector_similarity_weight": None})
    shown = await call(client, caller, "GET", "/datasets", params={"id": ds})
    assert shown["data"][0]["vector_similarity_weight"] == DEFAULT_VECTOR_WEIGHT  # null: back to the default


async def test_a_dataset_weight_out_of_range_is_refused(client: Client, caller: Caller) -> None:
    for bad in (1.5, -0.1, "0.5", True, "NaN"):
        reply = await call(
            client, caller, "POST", "/datasets", json={"name": f"w{bad}", "vector_similarity_weight": bad}
        )
        assert reply["code"] == 101 and "vector_similarity_weight" in reply["message"], (bad, reply)
