"""Adding a chunk as RAGFlow v0.27 does (its test_add_chunk.py): codes, texts, verbatim content, tags kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, upload
from tests.conftest import Caller


async def chunks_path(client: Client, caller: Caller) -> tuple[str, str, str]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("empty.txt", b"x"))
    return f"/datasets/{ds['id']}/documents/{doc['id']}/chunks", ds["id"], doc["id"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"content": None}, "`content` is required"),
        ({"content": ""}, "`content` is required"),
        ({"content": " "}, "`content` is required"),
        ({"content": "x", "important_keywords": "abc"}, "`important_keywords` is required to be a list"),
        ({"content": "x", "important_keywords": [1]}, "`important_keywords` must be a list of strings"),
        ({"content": "x", "questions": 123}, "`questions` is required to be a list"),
        ({"content": "x", "tag_kwd": "abc"}, "`tag_kwd` is required to be a list"),
        ({"content": "x", "tag_kwd": [1]}, "`tag_kwd` must be a list of strings"),
    ],
)
async def test_refusals_are_102_with_ragflows_text(
    client: Client, caller: Caller, payload: dict[str, Any], message: str
) -> None:
    path, _, _ = await chunks_path(client, caller)
    assert await call(client, caller, "POST", path, json=payload) == {"code": 102, "message": message}


async def test_content_is_kept_verbatim_and_lists_as_ragflow_keeps_them(client: Client, caller: Caller) -> None:
    path, dataset_id, document_id = await chunks_path(client, caller)
    body = {
        "content": "\n!?。；！？\"'",
        "important_keywords": ["a", "a", ""],
        "questions": [" why? ", "", "how"],
        "tag_kwd": ["tag1", "tag2"],
    }
    chunk = (await call(client, caller, "POST", path, json=body))["data"]["chunk"]
    assert (chunk["dataset_id"], chunk["document_id"]) == (dataset_id, document_id)
    assert chunk["content"] == body["content"] and chunk["important_keywords"] == ["a", "a", ""]
    assert chunk["questions"] == ["why?", "how"] and chunk["tag_kwd"] == ["tag1", "tag2"]
    stored = (await call(client, caller, "GET", f"{path}/{chunk['id']}"))["data"]
    assert stored["content_with_weight"] == body["content"] and stored["tag_kwd"] == ["tag1", "tag2"]
    changed = await call(client, caller, "PATCH", f"{path}/{chunk['id']}", json={"tag_kwd": ["other"]})
    assert changed["code"] == 0
    [listed] = (await call(client, caller, "GET", path))["data"]["chunks"]
    assert listed["tag_kwd"] == ["other"]


async def test_an_unknown_document_or_dataset_in_its_words(client: Client, caller: Caller) -> None:
    _, dataset_id, _ = await chunks_path(client, caller)
    ghost = "0" * 32
    no_doc = await call(
        client, caller, "POST", f"/datasets/{dataset_id}/documents/{ghost}/chunks", json={"content": "a"}
    )
    assert no_doc == {"code": 102, "message": f"you don't own the document {ghost}"}
    no_ds = await call(client, caller, "POST", f"/datasets/{ghost}/documents/{ghost}/chunks", json={"content": "a"})
    assert no_ds == {"code": 102, "message": f"You don't own the dataset {ghost}."}


async def test_a_chunks_tags_come_back_with_it_from_retrieval(client: Client, caller: Caller) -> None:
    path, dataset_id, _ = await chunks_path(client, caller)
    body = {"content": "Honey bees make honey from nectar.", "tag_kwd": ["apiary"]}
    assert (await call(client, caller, "POST", path, json=body))["code"] == 0
    found = await call(
        client, caller, "POST", "/retrieval", json={"question": "honey bees", "dataset_ids": [dataset_id]}
    )
    [hit] = [chunk for chunk in found["data"]["chunks"] if chunk["content"] == body["content"]]
    assert hit["tag_kwd"] == ["apiary"]
