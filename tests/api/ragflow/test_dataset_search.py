"""RAGFlow v0.27's dataset search (`POST /datasets/{id}/search`, `POST /datasets/search`; its test_search.py):
hybrid retrieval in the named datasets, chunks in its retriever's field names, RAGFlow's codes and texts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

HONEY = b"Bees make honey from nectar.\n\nThe hive keeps honey for the winter."
NESTS = b"Ants build nests underground.\n\nThe colony digs tunnels."


async def parsed(client: Client, caller: Caller, name: str, content: bytes) -> tuple[str, str]:
    ds = await new_dataset(client, caller, name=name)
    [doc] = await upload(client, caller, ds["id"], (f"{name}.txt", content))
    await parse(client, caller, ds["id"], doc["id"])
    return ds["id"], doc["id"]


async def search(client: Client, caller: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return await call(client, caller, "POST", path, json=body)


async def test_search_one_dataset(client: Client, caller: Caller) -> None:
    dataset_id, document_id = await parsed(client, caller, "bees", HONEY)
    reply = await search(client, caller, f"/datasets/{dataset_id}/search", {"question": "honey"})
    assert reply["code"] == 0, reply
    data = reply["data"]
    assert data["total"] >= 1 and data["labels"] is None
    top = data["chunks"][0]
    assert (top["doc_id"], top["kb_id"], top["docnm_kwd"]) == (document_id, dataset_id, "bees.txt")
    assert "honey" in top["content_with_weight"] and top["chunk_id"] and 0 < top["similarity"] <= 1
    assert {"vector_similarity", "term_similarity", "important_kwd", "positions", "image_id"} <= set(top)
    assert data["doc_aggs"] == [{"doc_name": "bees.txt", "doc_id": document_id, "count": len(data["chunks"])}]


@pytest.mark.parametrize(
    "options",
    [
        {"page": 1, "size": 2},
        {"similarity_threshold": 0.5},
        {"vector_similarity_weight": 0.7},
        {"top_k": 10},
        {"page_size": 1, "knn_top_k": 5, "use_kg": False, "keyword": False},
    ],
)
async def test_search_options_of_ragflows_suite(client: Client, caller: Caller, options: dict[str, Any]) -> None:
    dataset_id, document_id = await parsed(client, caller, "bees", HONEY)
    reply = await search(client, caller, f"/datasets/{dataset_id}/search", {"question": "honey", **options})
    assert reply["code"] == 0, reply
    with_docs = await search(
        client, caller, f"/datasets/{dataset_id}/search", {"question": "honey", "doc_ids": [document_id], **options}
    )
    assert with_docs["code"] == 0 and all(c["doc_id"] == document_id for c in with_docs["data"]["chunks"])


async def test_page_size_limits_the_chunks(client: Client, caller: Caller) -> None:
    dataset_id, _ = await parsed(client, caller, "bees", HONEY + b"\n\nHoney is sweet.\n\nNectar becomes honey.")
    reply = await search(client, caller, f"/datasets/{dataset_id}/search", {"question": "honey", "size": 1})
    assert len(reply["data"]["chunks"]) == 1


async def test_search_several_datasets(client: Client, caller: Caller) -> None:
    bees, _ = await parsed(client, caller, "bees", HONEY)
    ants, _ = await parsed(client, caller, "ants", NESTS)
    reply = await search(client, caller, "/datasets/search", {"question": "tunnels", "dataset_ids": [bees, ants]})
    assert reply["code"] == 0 and reply["data"]["chunks"][0]["kb_id"] == ants
    only_bees = await search(client, caller, "/datasets/search", {"question": "tunnels", "dataset_ids": [bees]})
    assert all(chunk["kb_id"] == bees for chunk in only_bees["data"]["chunks"])


async def test_without_question_it_is_102(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    expected = {"code": 102, "message": "`question` is required."}
    assert await search(client, caller, f"/datasets/{ds['id']}/search", {}) == expected
    assert await search(client, caller, "/datasets/search", {"dataset_ids": [ds["id"]]}) == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "q", "dataset_ids": []}, "dataset_ids"),
        ({"question": "q"}, "dataset_ids"),
        ({"question": "q", "dataset_ids": ["x"], "top_k": 0}, "top_k"),
        ({"question": "q", "dataset_ids": ["x"], "similarity_threshold": 1.1}, "similarity_threshold"),
        ({"question": "q", "dataset_ids": ["x"], "size": 101}, "size"),
        ({"question": 5, "dataset_ids": ["x"]}, "question"),
    ],
)
async def test_bad_bodies_are_101(client: Client, caller: Caller, body: dict[str, Any], field: str) -> None:
    reply = await search(client, caller, "/datasets/search", body)
    assert reply["code"] == 101 and reply["message"].startswith(f"Field: <{field}> - Message: <"), reply


async def test_options_this_server_lacks_are_refused(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    path = f"/datasets/{ds['id']}/search"
    assert await search(client, caller, path, {"question": "q", "search_id": "s1"}) == {
        "code": 102,
        "message": "Invalid search_id",
    }
    rerank = await search(client, caller, path, {"question": "q", "rerank_id": "bge-reranker@Builtin"})
    assert rerank["code"] == 102 and "no reranker" in rerank["message"]
    metadata = await search(client, caller, path, {"question": "q", "meta_data_filter": {"method": "auto"}})
    assert metadata == {
        "code": 101,
        "message": "`meta_data_filter` is not supported here; POST /retrieval takes `metadata_condition`",
    }


async def test_another_tenants_dataset_is_refused(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id, _ = await parsed(client, caller, "bees", HONEY)
    refused = {"code": 102, "message": f"Only owner of dataset {dataset_id} authorized for this operation."}
    assert await search(client, other_caller, f"/datasets/{dataset_id}/search", {"question": "honey"}) == refused
    own = await new_dataset(client, other_caller)
    both = {"question": "honey", "dataset_ids": [own["id"], dataset_id]}
    assert await search(client, other_caller, "/datasets/search", both) == refused


async def test_a_body_that_is_not_json_is_refused(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    reply = await call(client, caller, "POST", f"/datasets/{ds['id']}/search", content=b"question=honey")
    assert reply == {"code": 101, "message": "Unsupported content type: Expected application/json, got None"}


async def test_without_a_key_it_is_401(client: Client) -> None:
    response = await client.post("/api/v1/datasets/dataset_id/search", json={"question": "test"})
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}
