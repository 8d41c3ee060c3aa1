"""List and query-string checks of the RAGFlow family, with RAGFlow 0.27's codes and texts (issue 12, points 3
and 8): the dataset list's pydantic model, the lax page/page_size of the other lists, document list filters
and their `total`, and `/retrieval`'s numbers. Huge page numbers never reach PostgreSQL's OFFSET or LIMIT."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.ragflow.chat_helpers import new_chat, new_session
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

HUGE = "99999999999999999999"  # past bigint: PostgreSQL would refuse it as an OFFSET or LIMIT


def field_error(field: str, message: str, value: str) -> dict[str, Any]:
    return {"code": 101, "message": f"Field: <{field}> - Message: <{message}> - Value: <{value}>"}


async def listed(client: Client, caller: Caller, path: str, **params: Any) -> dict[str, Any]:
    return await call(client, caller, "GET", path, params=params)


async def test_dataset_list_refuses_bad_query_strings_as_ragflow(client: Client, caller: Caller) -> None:
    for index in range(3):
        await new_dataset(client, caller, f"ds{index}")
    not_int = "Input should be a valid integer, unable to parse string as an integer"
    at_least_one = "Input should be greater than or equal to 1"
    not_bool = "Input should be a valid boolean, unable to interpret input"
    not_order = "Input should be 'create_time' or 'update_time'"
    cases: list[tuple[dict[str, str], dict[str, Any]]] = [
        ({"page": "0"}, field_error("page", at_least_one, "0")),
        ({"page": "a"}, field_error("page", not_int, "a")),
        ({"page": "1e20"}, field_error("page", not_int, "1e20")),
        ({"page_size": "0"}, field_error("page_size", at_least_one, "0")),
        ({"page_size": "a"}, field_error("page_size", not_int, "a")),
        ({"desc": "unknown"}, field_error("desc", not_bool, "unknown")),
        ({"desc": "3.14"}, field_error("desc", not_bool, "3.14")),
        ({"id": ""}, field_error("id", "Invalid UUID format", "")),
        ({"id": "not_uuid"}, field_error("id", "Invalid UUID format", "not_uuid")),
        ({"orderby": " create_time "}, field_error("orderby", not_order, " create_time ")),
        ({"orderby": "CREATE_TIME"}, field_error("orderby", not_order, "CREATE_TIME")),
        ({"unknown_field": "x"}, field_error("unknown_field", "Extra inputs are not permitted", "x")),
    ]
    for params, expected in cases:
        assert await listed(client, caller, "/datasets", **params) == expected, params
    stranger = uuid.uuid4().hex  # any UUID version is well-formed; this one is nobody's
    reply = await listed(client, caller, "/datasets", id=stranger)
    assert reply == {"code": 102, "message": f"User '{caller.tenant_id}' lacks permission for dataset '{stranger}'"}


async def test_dataset_list_reads_desc_and_pages_as_pydantic_does(client: Client, caller: Caller) -> None:
    for index in range(3):
        await new_dataset(client, caller, f"ds{index}")

    async def names(**params: str) -> list[str]:
        reply = await listed(client, caller, "/datasets", **params)
        assert reply["code"] == 0 and reply["total_datasets"] == 3 and "message" not in reply, reply
        return [dataset["name"] for dataset in reply["data"]]

    for value, order in (("n", ["ds0", "ds1", "ds2"]), ("no", ["ds0", "ds1", "ds2"]), ("0", ["ds0", "ds1", "ds2"])):
        assert await names(desc=value) == order
    for value in ("y", "yes", "1", "True", "true"):
        assert await names(desc=value) == ["ds2", "ds1", "ds0"]
    assert await names(page="2", page_size="2", desc="false") == ["ds2"]
    assert await names(page=HUGE) == []
    assert await names(page_size=HUGE) == ["ds2", "ds1", "ds0"]
    assert await names(name="") == ["ds2", "ds1", "ds0"]


async def test_document_list_time_window_keeps_ragflows_total(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller, "docs"))["id"]
    docs = await upload(client, caller, ds, ("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.md", b"gamma"))
    path = f"/datasets/{ds}/documents"

    async def page(**params: str) -> tuple[int, int]:
        reply = await listed(client, caller, path, **params)
        assert reply["code"] == 0 and reply["message"] == "success", reply
        return len(reply["data"]["docs"]), reply["data"]["total"]

    assert await page(create_time_from="9999999999000") == (0, 3)  # the window filters rows, not the total
    assert await page(create_time_to="1") == (0, 3)
    assert await page(create_time_from="0", create_time_to="9999999999000") == (3, 3)
    assert await page(create_time_from=str(10**30)) == (0, 3)
    assert await page(run="UNSTART") == (3, 3)
    assert await page(run="0") == (3, 3)
    assert await page(suffix="md") == (1, 1)
    assert await page(suffix="t\x00xt") == (2, 2)  # a NUL cannot reach PostgreSQL's text comparison
    assert await page(keywords="a\x00") == (1, 1)
    assert await page(page=HUGE) == (0, 3)
    assert await page(page="a", page_size="0") == (3, 3)  # RAGFlow's silent defaults
    chunks = await listed(client, caller, f"{path}/{docs[0]['id']}/chunks", page=HUGE, keywords="a\x00", id="")
    assert chunks["code"] == 0 and chunks["data"]["total"] == 0 and "message" not in chunks, chunks


async def test_document_list_refusals(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller, "docs"))["id"]
    await upload(client, caller, ds, ("a.txt", b"alpha"))
    path = f"/datasets/{ds}/documents"
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"run": "INVALID_STATUS"}, {"code": 102, "message": "Invalid filter run status conditions: INVALID_STATUS"}),
        ({"run": ["DONE", "9", "done"]}, {"code": 102, "message": "Invalid filter run status conditions: 9, done"}),
        (
            {"create_time_from": "abc"},
            {"code": 101, "message": "`create_time_from` should be an integer (epoch milliseconds), got abc"},
        ),
        (
            {"create_time_to": "1.5"},
            {"code": 101, "message": "`create_time_to` should be an integer (epoch milliseconds), got 1.5"},
        ),
        ({"orderby": "x"}, {"code": 101, "message": "invalid orderby field: x"}),
        ({"page_size": "101"}, {"code": 101, "message": "page_size must be less than or equal to 100"}),
        ({"name": "unknown.txt"}, {"code": 102, "message": "you don't own the document unknown.txt"}),
        ({"id": "unknown"}, {"code": 102, "message": "you don't own the document unknown"}),
    ]
    for params, expected in cases:
        assert await listed(client, caller, path, **params) == expected, params


async def test_chat_and_session_lists(client: Client, caller: Caller) -> None:
    chat = await new_chat(client, caller, "lists")
    for name in ("s1", "s2", "s3"):
        await new_session(client, caller, chat["id"], name=name)
    sessions = f"/chats/{chat['id']}/sessions"

    async def session_names(**params: str) -> list[str]:
        reply = await listed(client, caller, sessions, **params)
        assert reply["code"] == 0 and reply["message"] == "success", reply
        return [session["name"] for session in reply["data"]]

    assert await session_names(page_size="0") == ["s3", "s2", "s1"]  # the default size, not an empty page
    assert await session_names(page_size="a", page="0") == ["s3", "s2", "s1"]
    assert await session_names(desc="False") == ["s1", "s2", "s3"]
    assert await session_names(desc="no") == ["s3", "s2", "s1"]  # only `false` turns RAGFlow's desc off
    assert await session_names(page=HUGE) == []
    bad_order = {"code": 101, "message": "invalid orderby field: x"}
    assert await listed(client, caller, sessions, orderby="x") == bad_order
    assert await listed(client, caller, "/chats", orderby="x") == bad_order
    chats = await listed(client, caller, "/chats", page=HUGE)
    assert chats == {"code": 0, "message": "success", "data": {"chats": [], "total": 1}}
    chats = await listed(client, caller, "/chats", page="a", page_size="0")
    assert chats["code"] == 0 and [c["name"] for c in chats["data"]["chats"]] == ["lists"]


async def test_retrieval_numbers_and_dataset_ids(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller, "search"))["id"]
    docs = await upload(client, caller, ds, ("bees.txt", b"Honey bees make honey."), ("tea.txt", b"Green tea."))
    await parse(client, caller, ds, *[doc["id"] for doc in docs])

    async def ask(**body: Any) -> dict[str, Any]:
        return await call(client, caller, "POST", "/retrieval", json={"question": "honey", **body})

    base = await ask(dataset_ids=[ds], similarity_threshold=0)
    assert base["code"] == 0 and base["data"]["total"] >= 1
    second = await ask(dataset_ids=[ds], similarity_threshold=0, page="2", page_size="1")
    assert second["code"] == 0 and second["data"]["chunks"] == base["data"]["chunks"][1:2]
    assert (await ask(dataset_ids=[ds], vector_similarity_weight=10))["code"] == 0  # RAGFlow answers 0
    assert (await ask(dataset_ids=[ds], vector_similarity_weight="0.5"))["code"] == 0
    assert (await ask(dataset_ids=[ds], page_size=0))["code"] == 0
    assert await ask() == {"code": 102, "message": "`dataset_ids` is required."}
    assert await ask(dataset_ids=[]) == {"code": 102, "message": "`dataset_ids` is required."}
    assert await ask(dataset_ids=ds) == {"code": 102, "message": "`dataset_ids` should be a list"}
    assert await call(client, caller, "POST", "/retrieval", json={"dataset_ids": [ds]}) == {
        "code": 102,
        "message": "`question` is required.",
    }
    for lax in ({"page": "a"}, {"page": 0}, {"page": "-3"}, {"page_size": "a"}, {"page": "1e20"}):
        assert (await ask(dataset_ids=[ds], similarity_threshold=0, **lax))["data"] == base["data"], lax
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"page": HUGE}, f"`page` should be at most 1000000000, got {HUGE}"),
        ({"page": 1e20}, "`page` should be at most 1000000000, got 100000000000000000000"),
        ({"page_size": 101}, "page_size must be less than or equal to 100"),
        ({"page_size": "101"}, "page_size must be less than or equal to 100"),
        ({"vector_similarity_weight": "a"}, "`vector_similarity_weight` should be a number, got a"),
        ({"vector_similarity_weight": [1]}, "`vector_similarity_weight` should be a number, got [1]"),
    ]
    for body, message in refusals:
        assert await ask(dataset_ids=[ds], **body) == {"code": 101, "message": message}, body
