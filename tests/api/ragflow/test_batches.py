"""Partial batches as RAGFlow v0.27 answers them: the valid ids are acted on, the others reported, and
repeated ids give `Duplicate <kind> ids: <id>` (issue 12, point 5)."""

from __future__ import annotations

from typing import Any

from tests.api.ragflow.chat_helpers import new_chat, new_session
from tests.api.ragflow.helpers import Client, call, document, new_dataset, parse, upload, wait_parsed
from tests.conftest import Caller

BIG = "\n".join(f"Paragraph {i} about cancelling long parsing jobs." for i in range(3000)).encode()


async def two_documents(client: Client, caller: Caller, content: bytes = b"hello bees") -> tuple[str, list[str]]:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 8})
    docs = await upload(client, caller, ds["id"], ("a.txt", content), ("b.txt", content))
    return ds["id"], [doc["id"] for doc in docs]


async def test_parse_acts_on_the_found_documents(client: Client, caller: Caller) -> None:
    ds, (a, b) = await two_documents(client, caller)
    for path in (f"/datasets/{ds}/documents/parse", f"/datasets/{ds}/chunks"):
        mixed = await call(client, caller, "POST", path, json={"document_ids": [a, "invalid_id", b]})
        assert mixed == {"code": 102, "message": "Documents not found: ['invalid_id']"}
        assert [(await wait_parsed(client, caller, ds, doc))["run"] for doc in (a, b)] == ["DONE", "DONE"]
    ghosts = await call(client, caller, "POST", f"/datasets/{ds}/documents/parse", json={"document_ids": ["x", "y"]})
    assert ghosts == {"code": 102, "message": "Documents not found: ['x', 'y']"}


async def test_parse_reports_duplicates_and_parses_each_once(client: Client, caller: Caller) -> None:
    ds, (a, b) = await two_documents(client, caller)
    twice = await call(client, caller, "POST", f"/datasets/{ds}/documents/parse", json={"document_ids": [a, b, a]})
    assert twice == {
        "code": 0,
        "data": {"success_count": 2, "errors": [f"Duplicate document ids: {a}"]},
        "message": "Partially parsed 2 documents with 1 errors",
    }
    assert [(await wait_parsed(client, caller, ds, doc))["run"] for doc in (a, b)] == ["DONE", "DONE"]
    legacy = await call(client, caller, "POST", f"/datasets/{ds}/chunks", json={"document_ids": [b, b]})
    assert legacy["code"] == 0 and legacy["data"] == {"success_count": 1, "errors": [f"Duplicate document ids: {b}"]}
    assert legacy["message"] == "Partially parsed 1 documents with 1 errors"
    await wait_parsed(client, caller, ds, b)


async def test_stop_stops_the_found_documents(client: Client, caller: Caller) -> None:
    ds, (a, b) = await two_documents(client, caller, BIG)
    await call(client, caller, "POST", f"/datasets/{ds}/documents/parse", json={"document_ids": [a, b]})
    stop = f"/datasets/{ds}/documents/stop"
    mixed = await call(client, caller, "POST", stop, json={"document_ids": [a, "invalid_id"]})
    assert mixed == {"code": 102, "message": "You don't own the document invalid_id."}
    assert (await document(client, caller, ds, a))["run"] == "CANCEL"
    legacy = await call(client, caller, "DELETE", f"/datasets/{ds}/chunks", json={"document_ids": [b, "invalid_id"]})
    assert legacy == {"code": 102, "message": "you don't own the document invalid_id"}
    assert (await document(client, caller, ds, b))["run"] == "CANCEL"


async def test_stop_reports_duplicates(client: Client, caller: Caller) -> None:
    ds, (a, b) = await two_documents(client, caller, BIG)
    await call(client, caller, "POST", f"/datasets/{ds}/documents/parse", json={"document_ids": [a, b]})
    twice = await call(client, caller, "POST", f"/datasets/{ds}/documents/stop", json={"document_ids": [a, a]})
    assert twice == {"code": 0, "data": {"success_count": 1, "errors": [f"Duplicate document ids: {a}"]}}
    legacy = await call(client, caller, "DELETE", f"/datasets/{ds}/chunks", json={"document_ids": [b, b]})
    assert legacy == {
        "code": 0,
        "data": {"success_count": 1, "errors": [f"Duplicate document ids: {b}"]},
        "message": "Partially stopped 1 documents with 1 errors",
    }
    assert [(await document(client, caller, ds, doc))["run"] for doc in (a, b)] == ["CANCEL", "CANCEL"]


async def total_documents(client: Client, caller: Caller, ds: str) -> int:
    return int((await call(client, caller, "GET", f"/datasets/{ds}/documents"))["data"]["total"])


async def test_document_delete(client: Client, caller: Caller) -> None:
    ds, (a, b) = await two_documents(client, caller)
    path = f"/datasets/{ds}/documents"
    ghost = await call(client, caller, "DELETE", path, json={"ids": ["invalid_id"]})
    assert ghost == {"code": 102, "message": "Documents not found: ['invalid_id']"}
    assert await total_documents(client, caller, ds) == 2
    mixed = await call(client, caller, "DELETE", path, json={"ids": [a, "invalid_id"]})
    assert mixed == {"code": 102, "message": "Documents not found: ['invalid_id']"}
    assert await total_documents(client, caller, ds) == 1
    twice = await call(client, caller, "DELETE", path, json={"ids": [b, b]})
    assert twice == {
        "code": 0,
        "data": {"success_count": 1, "errors": [f"Duplicate document ids: {b}"]},
        "message": "Partially deleted 1 documents with 1 errors",
    }
    assert await total_documents(client, caller, ds) == 0


async def test_chunk_delete(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 8})
    [doc] = await upload(client, caller, ds["id"], ("a.txt", b"\n".join(b"Line %d about bees." % i for i in range(12))))
    await parse(client, caller, ds["id"], doc["id"])
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    ids = [chunk["id"] for chunk in (await call(client, caller, "GET", path))["data"]["chunks"]]
    assert len(ids) >= 3
    mixed = await call(client, caller, "DELETE", path, json={"chunk_ids": [ids[0], "invalid_id"]})
    assert mixed == {"code": 102, "message": "rm_chunk deleted chunks 1, expect 2"}
    twice = await call(client, caller, "DELETE", path, json={"chunk_ids": [ids[1], ids[1]]})
    assert twice == {
        "code": 0,
        "data": {"success_count": 1, "errors": [f"Duplicate chunk ids: {ids[1]}"]},
        "message": "Partially deleted 1 chunks with 1 errors",
    }
    left = (await call(client, caller, "GET", path))["data"]
    assert left["total"] == len(ids) - 2 and left["doc"]["chunk_count"] == len(ids) - 2
    assert {chunk["id"] for chunk in left["chunks"]}.isdisjoint(ids[:2])


async def chat_ids(client: Client, caller: Caller) -> set[str]:
    return {chat["id"] for chat in (await call(client, caller, "GET", "/chats"))["data"]["chats"]}


async def test_chat_delete(client: Client, caller: Caller, other_caller: Caller) -> None:
    a, b, c = [(await new_chat(client, caller, f"batch{i}"))["id"] for i in range(3)]
    foreign = (await new_chat(client, other_caller, "theirs"))["id"]
    mixed = await call(client, caller, "DELETE", "/chats", json={"ids": [a, "invalid_id", foreign]})
    assert mixed == {
        "code": 0,
        "message": "Partially deleted 1 chats with 2 errors",
        "data": {"success_count": 1, "errors": ["Chat(invalid_id) not found.", f"Chat({foreign}) not found."]},
    }
    assert await chat_ids(client, caller) == {b, c}
    assert await chat_ids(client, other_caller) == {foreign}
    ghosts = await call(client, caller, "DELETE", "/chats", json={"ids": ["x", "y"]})
    assert ghosts == {"code": 102, "message": "Chat(x) not found.; Chat(y) not found."}
    twice = await call(client, caller, "DELETE", "/chats", json={"ids": [b, b, c]})
    assert twice == {
        "code": 0,
        "message": "Partially deleted 2 chats with 1 errors",
        "data": {"success_count": 2, "errors": [f"Duplicate chat ids: {b}"]},
    }
    assert await chat_ids(client, caller) == set()


async def session_ids(client: Client, caller: Caller, chat: str) -> set[str]:
    body: dict[str, Any] = await call(client, caller, "GET", f"/chats/{chat}/sessions")
    return {session["id"] for session in body["data"]}


async def test_session_delete(client: Client, caller: Caller) -> None:
    chat, elsewhere = [(await new_chat(client, caller, f"sessions{i}"))["id"] for i in range(2)]
    a, b, c = [(await new_session(client, caller, chat))["id"] for _ in range(3)]
    foreign = (await new_session(client, caller, elsewhere))["id"]
    path = f"/chats/{chat}/sessions"
    mixed = await call(client, caller, "DELETE", path, json={"ids": ["invalid_id", a, foreign]})
    assert mixed == {
        "code": 0,
        "message": "Partially deleted 1 sessions with 2 errors",
        "data": {
            "success_count": 1,
            "errors": ["The chat doesn't own the session invalid_id", f"The chat doesn't own the session {foreign}"],
        },
    }
    assert await session_ids(client, caller, chat) == {b, c}
    assert await session_ids(client, caller, elsewhere) == {foreign}
    ghost = await call(client, caller, "DELETE", path, json={"ids": ["invalid_id"]})
    assert ghost == {"code": 102, "message": "The chat doesn't own the session invalid_id"}
    twice = await call(client, caller, "DELETE", path, json={"ids": [b, c, b]})
    assert twice == {
        "code": 0,
        "message": "Partially deleted 2 sessions with 1 errors",
        "data": {"success_count": 2, "errors": [f"Duplicate session ids: {b}"]},
    }
    assert await session_ids(client, caller, chat) == set()
    done = await call(client, caller, "DELETE", f"/chats/{elsewhere}/sessions", json={"ids": [foreign]})
    assert done == {"code": 0, "message": "success", "data": True}


async def test_dataset_delete_refuses_repeats_and_unknown_ids_before_acting(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller, "batch-kb"))["id"]
    twice = await call(client, caller, "DELETE", "/datasets", json={"ids": [ds, ds]})
    assert twice == {
        "code": 101,
        "message": f"Field: <ids> - Message: <Duplicate ids: '{ds}'> - Value: <['{ds}', '{ds}']>",
    }
    mixed = await call(client, caller, "DELETE", "/datasets", json={"ids": [ds, "0" * 32]})
    assert mixed["code"] == 102 and mixed["message"].endswith(f"lacks permission for datasets: '{'0' * 32}'")
    assert (await call(client, caller, "GET", "/datasets", params={"id": ds}))["data"][0]["id"] == ds
    assert await call(client, caller, "DELETE", "/datasets", json={"ids": [ds]}) == {
        "code": 0,
        "data": {"success_count": 1},
    }
