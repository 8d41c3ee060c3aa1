"""Chunk ids as RAGFlow derives them: xxh64 of the content followed by the document id."""

from __future__ import annotations

import xxhash

from tests.api.ragflow.helpers import Client, call, document, new_dataset, parse, upload
from tests.conftest import Caller


def ragflow_id(content: str, document_id: str) -> str:
    return xxhash.xxh64((content + document_id).encode("utf-8")).hexdigest()


async def test_an_added_chunk_has_ragflows_id_and_the_same_text_is_one_chunk(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("empty.txt", b"x"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    first = await call(client, caller, "POST", path, json={"content": "Bees make honey.", "important_keywords": ["a"]})
    assert first["data"]["chunk"]["id"] == ragflow_id("Bees make honey.", doc["id"])
    again = await call(client, caller, "POST", path, json={"content": "Bees make honey.", "important_keywords": ["b"]})
    assert again["data"]["chunk"]["id"] == first["data"]["chunk"]["id"]
    other = await call(client, caller, "POST", path, json={"content": "Wasps do not."})
    listed = await call(client, caller, "GET", path)
    chunks = {chunk["id"]: chunk for chunk in listed["data"]["chunks"]}
    assert set(chunks) == {first["data"]["chunk"]["id"], other["data"]["chunk"]["id"]}
    assert chunks[first["data"]["chunk"]["id"]]["important_keywords"] == ["b"]  # the later add replaced it
    # Counted once: RAGFlow adds one per request even when it overwrote the chunk (its count then runs ahead).
    assert (await document(client, caller, ds["id"], doc["id"]))["chunk_count"] == 2


async def test_the_same_text_in_two_documents_is_two_chunks(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    docs = await upload(client, caller, ds["id"], ("a.txt", b"x"), ("b.txt", b"y"))
    ids = []
    for doc in docs:
        path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
        ids.append((await call(client, caller, "POST", path, json={"content": "same"}))["data"]["chunk"]["id"])
    assert ids == [ragflow_id("same", doc["id"]) for doc in docs] and ids[0] != ids[1]


async def test_a_parsed_document_repeating_a_passage_keeps_it_once(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 8, "delimiter": "\n"})
    text = "Honey bees dance to point the way.\nIron rusts in water and air.\nHoney bees dance to point the way.\n"
    [doc] = await upload(client, caller, ds["id"], ("repeat.txt", text.encode()))
    [parsed] = await parse(client, caller, ds["id"], doc["id"])
    listed = await call(client, caller, "GET", f"/datasets/{ds['id']}/documents/{doc['id']}/chunks")
    contents = [chunk["content"] for chunk in listed["data"]["chunks"]]
    assert len(contents) == len(set(contents)) == parsed["chunk_count"], (contents, parsed)
    assert all(chunk["id"] == ragflow_id(chunk["content"], doc["id"]) for chunk in listed["data"]["chunks"])
