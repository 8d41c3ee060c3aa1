"""The draft v0.13 HTTP API (shared/seeds/ragflow_http_api_draft_v0.13.md), tried with the document's own curl
examples: same method, path, body or query, and the reply shapes and error texts the document shows."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from service.runtime import Runtime
from tests.api.ragflow.chat_helpers import BEES, parsed_dataset, sse_events
from tests.api.ragflow.helpers import Client, call, wait_parsed
from tests.api.ragflow.test_documents import wait_queue_idle
from tests.conftest import Caller

# The key sets of the draft's example replies, copied from the document.
DATASET_KEYS = {
    *("avatar", "chunk_count", "create_date", "create_time", "created_by", "description", "document_count"),
    *("embedding_model", "id", "language", "name", "parse_method", "parser_config", "permission"),
    *("similarity_threshold", "status", "tenant_id", "token_num", "update_date", "update_time"),
    "vector_similarity_weight",
}
DOCUMENT_KEYS = {
    *("chunk_count", "create_date", "create_time", "created_by", "id", "knowledgebase_id", "location", "name"),
    *("parser_config", "parser_method", "process_begin_at", "process_duation", "progress", "progress_msg", "run"),
    *("size", "source_type", "status", "thumbnail", "token_count", "type", "update_date", "update_time"),
}
CHUNK_KEYS = {
    *("available_int", "content", "document_keyword", "document_id", "id", "image_id", "important_keywords"),
    "positions",
}
CHAT_KEYS = {
    *("avatar", "create_date", "create_time", "description", "do_refer", "id", "knowledgebases", "language", "llm"),
    *("name", "prompt", "prompt_type", "status", "tenant_id", "top_k", "update_date", "update_time"),
}
LLM_KEYS = {"frequency_penalty", "max_tokens", "model_name", "presence_penalty", "temperature", "top_p"}
PROMPT_KEYS = {
    *("empty_response", "keywords_similarity_weight", "opener", "prompt", "rerank_model", "similarity_threshold"),
    *("top_n", "variables"),
}
BRIEF_KB_KEYS = {
    *("avatar", "chunk_count", "description", "document_count", "embedding_model", "id", "language", "name"),
    *("parse_method", "parser_config", "permission", "tenant_id"),
}
RAW_KB_KEYS = {
    *("avatar", "chunk_num", "create_date", "create_time", "created_by", "description", "doc_num", "embd_id", "id"),
    *("language", "name", "parser_config", "parser_id", "permission", "similarity_threshold", "status"),
    *("tenant_id", "token_num", "update_date", "update_time", "vector_similarity_weight"),
}
CHUNK_METHODS = (
    "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', "
    "'table', 'tag' or 'resume'"
)
OK = {"code": 0}


def refused(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def field_error(field: str, message: str, value: Any = "") -> dict[str, Any]:
    return refused(101, f"Field: <{field}> - Message: <{message}> - Value: <{value}>")


async def draft_dataset(client: Client, caller: Caller, name: str = "test", **fields: Any) -> dict[str, Any]:
    reply = await call(client, caller, "POST", "/dataset", json={"name": name, **fields})
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


async def draft_upload(client: Client, caller: Caller, dataset_id: str, *files: tuple[str, bytes]) -> list[Any]:
    parts = [("file", (name, data)) for name, data in files]
    reply = await call(client, caller, "POST", f"/dataset/{dataset_id}/document", files=parts)
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


async def draft_docs(client: Client, caller: Caller, dataset_id: str, **query: Any) -> list[Any]:
    reply = await call(client, caller, "GET", f"/dataset/{dataset_id}/info", params=query)
    assert reply["code"] == 0, reply
    return reply["data"]["docs"]  # type: ignore[no-any-return]


# ---- datasets -----------------------------------------------------------------------------------------------------


async def test_create_dataset_as_the_draft_example(client: Client, caller: Caller) -> None:
    example = {"name": "test", "chunk_count": 0, "document_count": 0, "parse_method": "naive"}
    reply = await call(client, caller, "POST", "/dataset", json=example)
    assert set(reply) == {"code", "data"} and reply["code"] == 0
    data = reply["data"]
    assert set(data) == DATASET_KEYS
    assert data["name"] == "test" and data["parse_method"] == "naive" and data["permission"] == "me"
    assert data["chunk_count"] == data["document_count"] == data["token_num"] == 0
    assert data["tenant_id"] == data["created_by"] == caller.tenant_id and data["status"] == "1"
    assert data["avatar"] is None and data["description"] is None and data["language"] == "English"
    assert isinstance(data["create_time"], int) and data["create_date"].endswith(" GMT")


async def test_create_takes_language_and_the_drafts_parser_config_spelling(client: Client, caller: Caller) -> None:
    config = {"chunk_token_count": 256, "layout_recognize": False}
    data = await draft_dataset(client, caller, "zh", language="Chinese", parser_config=config)
    assert data["language"] == "Chinese"
    assert data["parser_config"]["chunk_token_num"] == 256 and data["parser_config"]["layout_recognize"] == "Plain Text"
    [listed] = (await call(client, caller, "GET", "/dataset", params={"id": data["id"]}))["data"]
    assert listed["language"] == "Chinese"


async def test_a_duplicate_name_is_refused_within_a_tenant_only(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    await draft_dataset(client, caller, "test")
    again = await call(client, caller, "POST", "/dataset", json={"name": "TEST"})
    assert again == refused(102, "Duplicated knowledgebase name in creating dataset.")
    assert (await draft_dataset(client, other_caller, "test"))["name"] == "test"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, field_error("name", "Field required")),
        ({"name": 123}, field_error("name", "Input should be a valid string", 123)),
        ({"name": "   "}, field_error("name", "String should have at least 1 character", "   ")),
        ({"name": "x", "id": "abc"}, refused(102, "`id` must not be provided")),
        ({"name": "x", "tenant_id": "abc"}, refused(102, "`tenant_id` must not be provided")),
        (
            {"name": "x", "embedding_model": "BAAI/bge-large-zh-v1.5"},
            refused(102, "`embedding_model` must not be provided"),
        ),
        ({"name": "x", "chunk_count": 5}, refused(102, "`chunk_count` of a new dataset must be 0")),
        ({"name": "x", "document_count": "0"}, refused(102, "`document_count` of a new dataset must be 0")),
        ({"name": "x", "parse_method": "navie"}, field_error("parse_method", CHUNK_METHODS, "navie")),
        ({"name": "x", "permission": "all"}, field_error("permission", "Input should be 'me' or 'team'", "all")),
        ({"name": "x", "unknown": 1}, field_error("unknown", "Extra inputs are not permitted", 1)),
        ({"name": "x", "parser_config": {"chunk_token_count": 0}}, None),
    ],
)
async def test_create_refuses_bad_bodies(
    client: Client, caller: Caller, body: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    reply = await call(client, caller, "POST", "/dataset", json=body)
    if expected is None:  # the draft's key, validated as v0.27's chunk_token_num
        assert reply["code"] == 101 and "parser_config.chunk_token_num" in reply["message"], reply
    else:
        assert reply == expected
    assert (await call(client, caller, "GET", "/dataset"))["data"] == []


async def test_create_refuses_a_body_that_is_not_a_json_object(client: Client, caller: Caller) -> None:
    headers = {"Content-Type": "application/json"}
    listed = await call(client, caller, "POST", "/dataset", content=b"[]", headers=headers)
    assert listed == refused(101, "Invalid request payload: expected object, got list")
    text = await call(client, caller, "POST", "/dataset", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert text == refused(101, "Unsupported content type: Expected application/json, got text/plain")


async def test_list_datasets_as_the_draft_example(client: Client, caller: Caller) -> None:
    older = await draft_dataset(client, caller, "mysql")
    newer = await draft_dataset(client, caller, "other")
    query = {"page": 1, "page_size": 10, "orderby": "create_time", "desc": "True", "name": "mysql", "id": older["id"]}
    reply = await call(client, caller, "GET", "/dataset", params=query)
    assert set(reply) == {"code", "data"} and [row["id"] for row in reply["data"]] == [older["id"]]
    assert set(reply["data"][0]) == DATASET_KEYS and reply["data"][0] == older
    everything = (await call(client, caller, "GET", "/dataset"))["data"]  # page 1, 1024 a page, newest first
    assert [row["id"] for row in everything] == [newer["id"], older["id"]]
    oldest_first = await call(client, caller, "GET", "/dataset", params={"desc": "false"})
    assert [row["id"] for row in oldest_first["data"]] == [older["id"], newer["id"]]
    second = await call(client, caller, "GET", "/dataset", params={"page": 2, "page_size": 1})
    assert [row["id"] for row in second["data"]] == [older["id"]]
    lax = await call(client, caller, "GET", "/dataset", params={"page": "abc", "page_size": "0"})
    assert len(lax["data"]) == 2


async def test_list_refuses_unknown_and_foreign_datasets(client: Client, caller: Caller, other_caller: Caller) -> None:
    theirs = await draft_dataset(client, other_caller, "theirs")
    not_found = refused(102, "The dataset doesn't exist")
    assert await call(client, caller, "GET", "/dataset", params={"id": theirs["id"]}) == not_found
    assert await call(client, caller, "GET", "/dataset", params={"name": "theirs"}) == not_found
    assert await call(client, caller, "GET", "/dataset", params={"id": "test_1"}) == not_found
    bad_order = await call(client, caller, "GET", "/dataset", params={"orderby": "name"})
    assert bad_order == {"code": 101, "message": "invalid orderby field: name"}
    too_big = await call(client, caller, "GET", "/dataset", params={"page_size": 1025})
    assert too_big == refused(101, "page_size must be less than or equal to 1024")


async def test_update_dataset_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller, "before")
    example = {
        "name": "test",
        "tenant_id": "4fb0cd625f9311efba4a0242ac120006",
        "embedding_model": "BAAI/bge-zh-v1.5",
        "chunk_count": 0,
        "document_count": 0,
        "parse_method": "navie",
    }
    path = f"/dataset/{dataset['id']}"
    assert await call(client, caller, "PUT", path, json=example) == refused(102, "Can't change tenant_id.")
    own = {**example, "tenant_id": caller.tenant_id, "embedding_model": dataset["embedding_model"]}
    assert await call(client, caller, "PUT", path, json=own) == field_error("parse_method", CHUNK_METHODS, "navie")
    assert await call(client, caller, "PUT", path, json={**own, "parse_method": "naive"}) == OK
    [listed] = (await call(client, caller, "GET", "/dataset", params={"id": dataset["id"]}))["data"]
    assert listed["name"] == "test" and listed["parse_method"] == "naive"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"chunk_count": 3}, refused(102, "Can't change chunk_count.")),
        ({"document_count": 1}, refused(102, "Can't change document_count.")),
        ({"embedding_model": "BAAI/bge-zh-v1.5"}, refused(102, "Can't change embedding_model.")),
        ({"id": "abc"}, refused(102, "Can't change id.")),
        ({"name": None}, field_error("name", "Input should be a valid string", None)),
        ({"permission": "everyone"}, field_error("permission", "Input should be 'me' or 'team'", "everyone")),
        ({"created_by": "me"}, field_error("created_by", "Extra inputs are not permitted", "me")),
        ({}, refused(102, "no properties were modified")),
    ],
)
async def test_update_refuses_changes_the_draft_forbids(
    client: Client, caller: Caller, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    dataset = await draft_dataset(client, caller, "kept")
    assert await call(client, caller, "PUT", f"/dataset/{dataset['id']}", json=body) == expected
    [listed] = (await call(client, caller, "GET", "/dataset", params={"id": dataset["id"]}))["data"]
    assert listed == dataset


async def test_update_names_and_ownership(client: Client, caller: Caller, other_caller: Caller) -> None:
    first = await draft_dataset(client, caller, "first")
    second = await draft_dataset(client, caller, "second")
    taken = await call(client, caller, "PUT", f"/dataset/{second['id']}", json={"name": "FIRST"})
    assert taken == refused(102, "Duplicated knowledgebase name in updating dataset.")
    assert await call(client, caller, "PUT", f"/dataset/{first['id']}", json={"name": "First"}) == OK
    theirs = await draft_dataset(client, other_caller, "theirs")
    foreign = await call(client, caller, "PUT", f"/dataset/{theirs['id']}", json={"name": "mine"})
    assert foreign == refused(102, f"You don't own the dataset {theirs['id']}.")
    assert (await call(client, other_caller, "GET", "/dataset"))["data"][0]["name"] == "theirs"


async def test_delete_datasets_as_the_draft_example(client: Client, caller: Caller) -> None:
    example = {"ids": ["test_1", "test_2"]}
    assert await call(client, caller, "DELETE", "/dataset", json=example) == refused(102, "You don't own the dataset.")
    ids = [(await draft_dataset(client, caller, name))["id"] for name in ("test_1", "test_2")]
    assert await call(client, caller, "DELETE", "/dataset", json={"ids": ids}) == OK
    assert (await call(client, caller, "GET", "/dataset"))["data"] == []


async def test_delete_refusals_delete_nothing(client: Client, caller: Caller, other_caller: Caller) -> None:
    mine = await draft_dataset(client, caller, "mine")
    theirs = await draft_dataset(client, other_caller, "theirs")
    required = refused(102, "ids are required")
    assert await call(client, caller, "DELETE", "/dataset") == required
    assert await call(client, caller, "DELETE", "/dataset", json={"ids": []}) == required
    wrong = await call(client, caller, "DELETE", "/dataset", json={"ids": "abc"})
    assert wrong == field_error("ids", "Input should be a valid list", "abc")
    repeated = await call(client, caller, "DELETE", "/dataset", json={"ids": [mine["id"], mine["id"]]})
    assert repeated == field_error("ids", f"Duplicate ids: '{mine['id']}'", [mine["id"], mine["id"]])
    both = await call(client, caller, "DELETE", "/dataset", json={"ids": [mine["id"], theirs["id"]]})
    assert both == refused(102, "You don't own the dataset.")
    assert [row["id"] for row in (await call(client, caller, "GET", "/dataset"))["data"]] == [mine["id"]]
    assert [row["id"] for row in (await call(client, other_caller, "GET", "/dataset"))["data"]] == [theirs["id"]]


async def test_every_draft_route_checks_the_key_first(client: Client) -> None:
    for method, path in [("GET", "/dataset"), ("POST", "/chat"), ("GET", "/dataset/abc/info")]:
        reply = await client.request(method, "/api/v1" + path)
        assert reply.status_code == 401 and reply.json()["code"] == 401, (path, reply.text)


# ---- documents ----------------------------------------------------------------------------------------------------


async def test_upload_and_download_as_the_draft_examples(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    reply = await call(
        client, caller, "POST", f"/dataset/{dataset['id']}/document", files=[("file", ("test.txt", b"hello rag"))]
    )
    assert reply["code"] == 0 and set(reply) == {"code", "data"}
    [document] = reply["data"]
    assert set(document) == DOCUMENT_KEYS and document["run"] == "0" and document["parser_method"] == "naive"
    assert document["knowledgebase_id"] == dataset["id"] and document["name"] == document["location"] == "test.txt"
    assert document["size"] == 9 and document["type"] == "doc" and document["source_type"] == "local"
    download = await client.get(f"/api/v1/dataset/{dataset['id']}/document/{document['id']}", headers=caller.headers)
    assert download.status_code == 200 and download.content == b"hello rag"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''test.txt"
    unknown = await call(client, caller, "GET", f"/dataset/{dataset['id']}/document/nope")
    assert unknown == refused(102, "The dataset not own the document nope.")


async def test_upload_refusals(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    no_file = await call(client, caller, "POST", f"/dataset/{dataset['id']}/document", files=[("other", ("a", b"x"))])
    assert no_file == refused(101, "No file part!")
    theirs = await draft_dataset(client, other_caller, "theirs")
    [their_doc] = await draft_upload(client, other_caller, theirs["id"], ("secret.txt", b"secret"))
    foreign = refused(102, f"You don't own the dataset {theirs['id']}.")
    files = [("file", ("a.txt", b"x"))]
    assert await call(client, caller, "POST", f"/dataset/{theirs['id']}/document", files=files) == foreign
    assert await call(client, caller, "GET", f"/dataset/{theirs['id']}/document/{their_doc['id']}") == foreign
    assert await call(client, caller, "GET", f"/dataset/{theirs['id']}/info") == foreign
    not_here = await call(client, caller, "GET", f"/dataset/{dataset['id']}/document/{their_doc['id']}")
    assert not_here == refused(102, f"The dataset not own the document {their_doc['id']}.")


async def test_list_files_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    for name in ("rag_guide.txt", "notes.txt"):  # one request each: one transaction shares one timestamp
        await draft_upload(client, caller, dataset["id"], (name, name.encode()))
    reply = await call(
        client,
        caller,
        "GET",
        f"/dataset/{dataset['id']}/info?keywords=rag&page=0&page_size=10&orderby=create_time&desc=yes",
    )
    assert set(reply) == {"code", "data"} and set(reply["data"]) == {"docs", "total"}
    assert reply["data"]["total"] == 1 and [doc["name"] for doc in reply["data"]["docs"]] == ["rag_guide.txt"]
    assert set(reply["data"]["docs"][0]) == DOCUMENT_KEYS
    assert [doc["name"] for doc in await draft_docs(client, caller, dataset["id"], name="notes.txt")] == ["notes.txt"]
    newest_first = await draft_docs(client, caller, dataset["id"], orderby="create_time", desc="yes")
    assert [doc["name"] for doc in newest_first] == ["notes.txt", "rag_guide.txt"]
    bad = await call(client, caller, "GET", f"/dataset/{dataset['id']}/info", params={"orderby": "size"})
    assert bad == refused(101, "invalid orderby field: size")


async def test_update_file_information_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("test.txt", b"hello"))
    example = {
        "document_id": document["id"],
        "document_name": "manual.txt",
        "thumbnail": None,
        "knowledgebase_id": "779333c0758611ef910f0242ac120004",
        "parser_method": "manual",
        "parser_config": {
            "chunk_token_count": 128,
            "delimiter": "\n!?。;!?",
            "layout_recognize": True,
            "task_page_size": 12,
        },
        "source_type": "local",
        "type": "doc",
        "created_by": "134408906b6811efbcd20242ac120005",
        "size": 0,
        "token_count": 0,
        "chunk_count": 0,
        "progress": 0.0,
        "progress_msg": "",
        "process_begin_at": None,
        "process_duration": 0.0,
    }
    path = f"/dataset/{dataset['id']}/info/{document['id']}"
    assert await call(client, caller, "PUT", path, json=example) == OK
    [updated] = await draft_docs(client, caller, dataset["id"])
    assert updated["name"] == "manual.txt" and updated["parser_method"] == "manual" and updated["size"] == 5
    config = updated["parser_config"]
    assert (
        config["chunk_token_num"] == 128 and config["layout_recognize"] == "DeepDOC" and config["task_page_size"] == 12
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"chunk_count": 5}, refused(102, "Can't change `chunk_count`.")),
        ({"document_name": "test.pdf"}, refused(101, "The extension of file can't be changed")),
        ({"document_name": None}, field_error("document_name", "Input should be a valid string", None)),
        ({"parser_method": "navie"}, field_error("parser_method", CHUNK_METHODS, "navie")),
        ({"document_id": "f6b170ac758811efa0660242ac120004"}, None),
    ],
)
async def test_update_file_information_refusals(
    client: Client, caller: Caller, body: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("test.txt", b"hello"))
    reply = await call(client, caller, "PUT", f"/dataset/{dataset['id']}/info/{document['id']}", json=body)
    other = f"`document_id` f6b170ac758811efa0660242ac120004 is not the document {document['id']} of the path"
    assert reply == (expected or refused(102, other))
    assert (await draft_docs(client, caller, dataset["id"]))[0] == document


async def test_update_file_information_of_an_unknown_document(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    reply = await call(client, caller, "PUT", f"/dataset/{dataset['id']}/info/nope", json={"document_name": "a.txt"})
    assert reply == refused(102, "You don't own the document nope.")


async def test_delete_files_which_the_draft_leaves_out(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    [first, second] = await draft_upload(client, caller, dataset["id"], ("a.txt", b"a"), ("b.txt", b"b"))
    path = f"/dataset/{dataset['id']}/document"
    assert await call(client, caller, "DELETE", path) == refused(102, "ids are required")
    assert await call(client, caller, "DELETE", path, json={"ids": [first["id"]]}) == OK
    missing = await call(client, caller, "DELETE", path, json={"ids": [second["id"], "nope"]})
    assert missing == refused(102, "Documents not found: ['nope']")
    assert await draft_docs(client, caller, dataset["id"]) == []


# ---- parsing ------------------------------------------------------------------------------------------------------


async def test_parse_files_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    docs = await draft_upload(client, caller, dataset["id"], ("bees.txt", BEES.encode()), ("more.txt", BEES.encode()))
    example = {"documents": [doc["id"] for doc in docs]}
    assert await call(client, caller, "POST", f"/dataset/{dataset['id']}/chunk", json=example) == OK
    for doc in docs:
        assert (await wait_parsed(client, caller, dataset["id"], doc["id"]))["run"] == "DONE"
    listed = await draft_docs(client, caller, dataset["id"])
    assert {doc["run"] for doc in listed} == {"3"} and all(doc["chunk_count"] > 0 for doc in listed)
    stop_done = await call(client, caller, "DELETE", f"/dataset/{dataset['id']}/chunk", json=example)
    assert stop_done == {
        "code": 102,
        "message": "Can't stop parsing document that has not started or already completed",
        "data": {"error_code": "DOC_STOP_PARSING_INVALID_STATE"},
    }
    locked = await call(client, caller, "PUT", f"/dataset/{dataset['id']}", json={"parse_method": "qa"})
    assert locked == refused(102, "If chunk_count is not 0, parse_method is not changeable.")
    [listed_dataset] = (await call(client, caller, "GET", "/dataset", params={"id": dataset["id"]}))["data"]
    assert listed_dataset["document_count"] == 2 and listed_dataset["chunk_count"] > 0


async def test_stop_file_parsing_as_the_draft_example(client: Client, caller: Caller, runtime: Runtime) -> None:
    dataset = await draft_dataset(client, caller, parser_config={"chunk_token_num": 8})
    big = "\n".join(f"Paragraph {i} about cancelling long parsing jobs." for i in range(3000)).encode()
    [document] = await draft_upload(client, caller, dataset["id"], ("big.txt", big))
    example = {"documents": [document["id"]]}
    assert await call(client, caller, "POST", f"/dataset/{dataset['id']}/chunk", json=example) == OK
    assert await call(client, caller, "DELETE", f"/dataset/{dataset['id']}/chunk", json=example) == OK
    await wait_queue_idle(runtime)
    [stopped] = await draft_docs(client, caller, dataset["id"])
    assert stopped["run"] == "2" and stopped["chunk_count"] == 0


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_parse_and_stop_refusals(client: Client, caller: Caller, other_caller: Caller, method: str) -> None:
    dataset = await draft_dataset(client, caller)
    path = f"/dataset/{dataset['id']}/chunk"
    assert await call(client, caller, method, path, json={"documents": []}) == refused(102, "`documents` is required")
    wrong = await call(client, caller, method, path, json={"documents": "abc"})
    assert wrong == refused(101, "`documents` should be a list of strings")
    empty = await call(client, caller, method, path)
    assert empty == refused(101, "Unsupported content type: Expected application/json, got empty body")
    unknown = await call(client, caller, method, path, json={"documents": ["nope"]})
    assert unknown["code"] == 102 and "nope" in unknown["message"], unknown
    theirs = await draft_dataset(client, other_caller, "theirs")
    [their_doc] = await draft_upload(client, other_caller, theirs["id"], ("secret.txt", b"secret"))
    foreign = await call(
        client, caller, method, f"/dataset/{theirs['id']}/chunk", json={"documents": [their_doc["id"]]}
    )
    assert foreign == refused(102, f"You don't own the dataset {theirs['id']}.")
    mixed = await call(client, caller, method, path, json={"documents": [their_doc["id"]]})
    assert mixed["code"] == 102 and their_doc["id"] in mixed["message"]
    [untouched] = await draft_docs(client, other_caller, theirs["id"])
    assert untouched["run"] == "0"


# ---- chunks -------------------------------------------------------------------------------------------------------


async def chunk_list(client: Client, caller: Caller, dataset_id: str, document_id: str) -> dict[str, Any]:
    reply = await call(client, caller, "GET", f"/dataset/{dataset_id}/document/{document_id}/chunk")
    assert reply["code"] == 0 and set(reply) == {"code", "data"}, reply
    return reply["data"]  # type: ignore[no-any-return]


async def test_insert_and_list_chunks_as_the_draft_examples(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("ragflow_test.txt", b"ragflow"))
    path = f"/dataset/{dataset['id']}/document/{document['id']}/chunk"
    example = {"document_id": document["id"], "content": ["ragflow content", "ragflow content"]}
    inserted = await call(client, caller, "POST", path, json=example)
    assert inserted["code"] == 0 and len(inserted["data"]["chunks"]) == 2
    # The example adds one text twice: with RAGFlow's content-derived chunk ids that is one chunk.
    first, second = inserted["data"]["chunks"]
    assert first["id"] == second["id"]
    listed = await chunk_list(client, caller, dataset["id"], document["id"])
    assert set(listed) == {"chunks", "doc", "total"} and listed["total"] == 1
    assert listed["chunks"] == [second]
    for chunk in listed["chunks"]:
        assert set(chunk) == CHUNK_KEYS and chunk["content"] == "ragflow content" and chunk["available_int"] == 1
        assert chunk["document_keyword"] == "ragflow_test.txt" and chunk["document_id"] == document["id"]
    assert set(listed["doc"]) == DOCUMENT_KEYS and listed["doc"]["chunk_count"] == 1
    one = await call(client, caller, "POST", path, json={"content": "a single text", "important_keywords": ["k"]})
    assert one["data"]["chunks"][0]["important_keywords"] == ["k"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"content": []}, refused(102, "`content` is required")),
        ({"content": ["fine", "   "]}, refused(102, "`content` is required")),
        ({"content": [1]}, refused(102, "`content` is required")),
        ({}, refused(102, "`content` is required")),
        ({"content": "x", "document_id": "other"}, None),
    ],
)
async def test_insert_chunk_refusals(
    client: Client, caller: Caller, body: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("a.txt", b"a"))
    reply = await call(client, caller, "POST", f"/dataset/{dataset['id']}/document/{document['id']}/chunk", json=body)
    assert reply == (expected or refused(102, f"`document_id` other is not the document {document['id']} of the path"))
    assert (await chunk_list(client, caller, dataset["id"], document["id"]))["total"] == 0


async def test_update_chunk_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("a.txt", b"a"))
    path = f"/dataset/{dataset['id']}/document/{document['id']}/chunk"
    [chunk] = (await call(client, caller, "POST", path, json={"content": ["old"]}))["data"]["chunks"]
    example = {
        "chunk_id": chunk["id"],
        "knowledgebase_id": None,
        "name": "",
        "content": "ragflow123",
        "important_keywords": [],
        "document_id": document["id"],
        "status": "1",
    }
    assert await call(client, caller, "PUT", path, json=example) == OK
    [updated] = (await chunk_list(client, caller, dataset["id"], document["id"]))["chunks"]
    assert updated["content"] == "ragflow123" and updated["available_int"] == 1
    assert await call(client, caller, "PUT", path, json={"chunk_id": chunk["id"], "status": "0"}) == OK
    [disabled] = (await chunk_list(client, caller, dataset["id"], document["id"]))["chunks"]
    assert disabled["available_int"] == 0 and disabled["content"] == "ragflow123"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"content": "x"}, refused(102, "`chunk_id` is required")),
        ({"chunk_id": 5}, refused(102, "`chunk_id` is required")),
        ({"chunk_id": "nope", "content": "x"}, refused(102, "Can't find this chunk nope")),
        ({"chunk_id": "{id}", "status": "2"}, refused(101, '`status` should be "0" or "1"')),
        ({"chunk_id": "{id}", "status": True}, refused(101, '`status` should be "0" or "1"')),
        ({"chunk_id": "{id}", "content": 5}, refused(101, "`content` should be a string")),
    ],
)
async def test_update_chunk_refusals(
    client: Client, caller: Caller, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("a.txt", b"a"))
    path = f"/dataset/{dataset['id']}/document/{document['id']}/chunk"
    [chunk] = (await call(client, caller, "POST", path, json={"content": ["kept"]}))["data"]["chunks"]
    body = {key: chunk["id"] if value == "{id}" else value for key, value in body.items()}
    assert await call(client, caller, "PUT", path, json=body) == expected
    assert (await chunk_list(client, caller, dataset["id"], document["id"]))["chunks"] == [chunk]


async def test_delete_chunks_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset = await draft_dataset(client, caller)
    [document] = await draft_upload(client, caller, dataset["id"], ("a.txt", b"a"))
    path = f"/dataset/{dataset['id']}/document/{document['id']}/chunk"
    added = (await call(client, caller, "POST", path, json={"content": ["one", "two", "three"]}))["data"]["chunks"]
    assert await call(client, caller, "DELETE", path, json={"chunks": [added[0]["id"], added[1]["id"]]}) == OK
    assert await call(client, caller, "DELETE", path, json={"chunks": []}) == refused(102, "`chunks` is required")
    missing = await call(client, caller, "DELETE", path, json={"chunks": [added[2]["id"], "nope"]})
    assert missing == refused(102, "Chunks not found: ['nope']")
    listed = await chunk_list(client, caller, dataset["id"], document["id"])
    assert listed["total"] == 0 and listed["doc"]["chunk_count"] == 0


async def test_chunk_routes_refuse_foreign_datasets_and_documents(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    mine = await draft_dataset(client, caller)
    theirs = await draft_dataset(client, other_caller, "theirs")
    [their_doc] = await draft_upload(client, other_caller, theirs["id"], ("secret.txt", b"secret"))
    their_path = f"/dataset/{theirs['id']}/document/{their_doc['id']}/chunk"
    foreign = refused(102, f"You don't own the dataset {theirs['id']}.")
    assert await call(client, caller, "GET", their_path) == foreign
    assert await call(client, caller, "POST", their_path, json={"content": ["x"]}) == foreign
    not_mine = await call(client, caller, "GET", f"/dataset/{mine['id']}/document/{their_doc['id']}/chunk")
    assert not_mine == refused(102, f"you don't own the document {their_doc['id']}")
    assert (await chunk_list(client, other_caller, theirs["id"], their_doc["id"]))["total"] == 0


# ---- retrieval ----------------------------------------------------------------------------------------------------


async def test_retrieval_as_the_draft_example(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    path = f"/api/v1/dataset/{dataset_id}/retrieval"
    headers = {**caller.headers, "Content-Type": "application/json"}
    body = json.dumps({"query_text": "How do bees make honey?"})
    reply = (await client.request("GET", path, content=body, headers=headers)).json()
    assert reply["code"] == 0 and set(reply["data"]) == {"chunks", "doc_aggs", "total"}, reply
    top = reply["data"]["chunks"][0]
    assert "honey" in top["content"] and top["document_keyword"] == "bees.txt"
    assert {"id", "content", "document_id", "important_keywords", "document_keyword"} <= set(top)
    by_query = await call(client, caller, "GET", path.removeprefix("/api/v1"), params={"query_text": "honey bees"})
    assert by_query["data"]["chunks"][0]["document_keyword"] == "bees.txt"
    missing = await call(client, caller, "GET", path.removeprefix("/api/v1"))
    assert missing == refused(102, "`query_text` is required.")
    wrong = await client.request("GET", path, content=json.dumps({"query_text": 5}), headers=headers)
    assert wrong.json() == refused(101, "`query_text` should be a string")
    foreign = await call(client, other_caller, "GET", path.removeprefix("/api/v1"), params={"query_text": "bees"})
    assert foreign == refused(102, f"You don't own the dataset {dataset_id}.")


# ---- chats --------------------------------------------------------------------------------------------------------


def draft_knowledgebase(dataset_id: str) -> dict[str, Any]:
    """The dataset object of the draft's create-chat example, with a real id."""
    return {
        "avatar": None,
        "chunk_count": 0,
        "description": None,
        "document_count": 0,
        "embedding_model": "",
        "id": dataset_id,
        "language": "English",
        "name": "Test_assistant",
        "parse_method": "naive",
        "parser_config": {"pages": [[1, 1000000]]},
        "permission": "me",
        "tenant_id": "4fb0cd625f9311efba4a0242ac120006",
    }


async def draft_chat(client: Client, caller: Caller, name: str = "new_chat_1", **fields: Any) -> dict[str, Any]:
    reply = await call(client, caller, "POST", "/chat", json={"name": name, **fields})
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


async def test_create_chat_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    example = {"knowledgebases": [draft_knowledgebase(dataset_id)], "name": "new_chat_1"}
    reply = await call(client, caller, "POST", "/chat", json=example)
    assert set(reply) == {"code", "data"} and reply["code"] == 0
    chat = reply["data"]
    assert set(chat) == CHAT_KEYS and chat["name"] == "new_chat_1" and chat["tenant_id"] == caller.tenant_id
    [kb] = chat["knowledgebases"]
    assert set(kb) == BRIEF_KB_KEYS and kb["id"] == dataset_id and kb["name"] == "kb" and kb["chunk_count"] > 0
    assert set(chat["llm"]) == LLM_KEYS and set(chat["prompt"]) == PROMPT_KEYS
    llm = {key: value for key, value in chat["llm"].items() if key != "model_name"}
    assert llm == {
        "frequency_penalty": 0.7,
        "max_tokens": 512,
        "presence_penalty": 0.4,
        "temperature": 0.1,
        "top_p": 0.3,
    }
    assert chat["prompt"]["keywords_similarity_weight"] == 0.7 and "{knowledge}" in chat["prompt"]["prompt"]
    assert chat["prompt"]["variables"] == [{"key": "knowledge", "optional": False}]
    assert chat["do_refer"] == "1" and chat["prompt_type"] == "simple" and chat["description"] == "A helpful Assistant"


async def test_create_chat_takes_the_drafts_llm_and_prompt(client: Client, caller: Caller) -> None:
    llm = {"temperature": 0.5, "max_tokens": 256}
    prompt = {"similarity_threshold": 0.3, "keywords_similarity_weight": 0.4, "top_n": 8, "opener": "Hello!"}
    chat = await draft_chat(client, caller, "tuned", llm=llm, prompt=prompt)
    assert chat["llm"]["temperature"] == 0.5 and chat["llm"]["max_tokens"] == 256 and chat["llm"]["top_p"] == 0.3
    assert chat["prompt"]["similarity_threshold"] == 0.3 and chat["prompt"]["keywords_similarity_weight"] == 0.4
    assert chat["prompt"]["top_n"] == 8 and chat["prompt"]["opener"] == "Hello!" and chat["knowledgebases"] == []


async def test_create_chat_refusals(client: Client, caller: Caller, other_caller: Caller) -> None:
    await draft_chat(client, caller, "taken")
    duplicate = await call(client, caller, "POST", "/chat", json={"name": "TAKEN"})
    assert duplicate == refused(102, "Duplicated chat name in creating dataset.")
    assert await call(client, caller, "POST", "/chat", json={}) == refused(102, "`name` is required")
    wrong_llm = await call(client, caller, "POST", "/chat", json={"name": "x", "llm": "fast"})
    assert wrong_llm == refused(102, "`llm` should be an object.")
    tenant = await call(client, caller, "POST", "/chat", json={"name": "x", "tenant_id": "abc"})
    assert tenant == refused(102, "`tenant_id` must not be provided")
    their_dataset = await parsed_dataset(client, other_caller)
    foreign = await call(
        client, caller, "POST", "/chat", json={"name": "x", "knowledgebases": [draft_knowledgebase(their_dataset)]}
    )
    assert foreign == refused(102, f"You don't own the dataset {their_dataset}")
    assert [chat["name"] for chat in (await call(client, caller, "GET", "/chat"))["data"]] == ["taken"]


async def test_update_chat_as_the_draft_example(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await draft_chat(client, caller, "before", llm={"temperature": 0.2})
    await draft_chat(client, caller, "other")
    path = f"/chat/{chat['id']}"
    assert await call(client, caller, "PUT", path, json={"name": "Test"}) == OK
    assert await call(client, caller, "PUT", path, json={"llm": {"top_p": 0.9}}) == OK
    [listed] = (await call(client, caller, "GET", "/chat", params={"id": chat["id"]}))["data"]
    assert listed["name"] == "Test" and listed["llm"]["top_p"] == 0.9 and listed["llm"]["temperature"] == 0.2
    assert listed["llm"]["max_tokens"] == 512
    taken = await call(client, caller, "PUT", path, json={"name": "OTHER"})
    assert taken == refused(102, "Duplicated chat name in updating dataset.")
    theirs = await draft_chat(client, other_caller, "theirs")
    foreign = await call(client, caller, "PUT", f"/chat/{theirs['id']}", json={"name": "mine"})
    assert foreign == refused(102, f"You don't own the chat {theirs['id']}")
    assert (await call(client, other_caller, "GET", "/chat"))["data"][0]["name"] == "theirs"


async def test_list_chats_as_the_draft_example(client: Client, caller: Caller, other_caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    chat = await draft_chat(client, caller, "Test", knowledgebases=[draft_knowledgebase(dataset_id)])
    newer = await draft_chat(client, caller, "Newer")
    query = {"page": 1, "page_size": 1024, "orderby": "create_time", "desc": "True", "name": "Test", "id": chat["id"]}
    reply = await call(client, caller, "GET", "/chat", params=query)
    assert set(reply) == {"code", "data"}
    [listed] = reply["data"]
    assert set(listed) == CHAT_KEYS and listed["id"] == chat["id"]
    [kb] = listed["knowledgebases"]
    assert set(kb) == RAW_KB_KEYS and kb["id"] == dataset_id and kb["parser_id"] == "naive"
    assert kb["chunk_num"] > 0 and kb["doc_num"] == 2 and kb["avatar"] == "" and kb["description"] == ""
    everything = (await call(client, caller, "GET", "/chat"))["data"]
    assert [row["id"] for row in everything] == [newer["id"], chat["id"]]
    not_found = refused(102, "The chat doesn't exist")
    theirs = await draft_chat(client, other_caller, "theirs")
    assert await call(client, caller, "GET", "/chat", params={"id": theirs["id"]}) == not_found
    assert await call(client, caller, "GET", "/chat", params={"name": "theirs"}) == not_found


async def test_delete_chats_as_the_draft_example(client: Client, caller: Caller, other_caller: Caller) -> None:
    example = {"ids": ["test_1", "test_2"]}
    reply = await call(client, caller, "DELETE", "/chat", json=example)
    assert reply == refused(102, "Chat(test_1) not found.; Chat(test_2) not found.")
    assert await call(client, caller, "DELETE", "/chat", json={}) == refused(102, "ids are required")
    mine = await draft_chat(client, caller, "mine")
    theirs = await draft_chat(client, other_caller, "theirs")
    mixed = await call(client, caller, "DELETE", "/chat", json={"ids": [mine["id"], theirs["id"]]})
    assert mixed == refused(102, f"Chat({theirs['id']}) not found.")
    assert (await call(client, caller, "GET", "/chat"))["data"] == []
    assert [row["id"] for row in (await call(client, other_caller, "GET", "/chat"))["data"]] == [theirs["id"]]
    assert await call(client, other_caller, "DELETE", "/chat", json={"ids": [theirs["id"]]}) == OK


# ---- sessions and completion --------------------------------------------------------------------------------------


async def test_sessions_as_the_draft_examples(client: Client, caller: Caller) -> None:
    chat = await draft_chat(client, caller)
    path = f"/chat/{chat['id']}/session"
    created = await call(client, caller, "POST", path, json={"name": "new session"})
    assert created["code"] == 0 and created["data"]["name"] == "new session"
    session = created["data"]
    assert session["chat_id"] == chat["id"] and session["messages"][0]["role"] == "assistant"
    listed = await call(client, caller, "GET", path)
    assert listed["code"] == 0 and [row["id"] for row in listed["data"]] == [session["id"]]
    assert await call(client, caller, "PUT", f"{path}/{session['id']}", json={"name": "Updated session"}) == OK
    assert (await call(client, caller, "GET", path))["data"][0]["name"] == "Updated session"
    assert await call(client, caller, "DELETE", f"{path}/{session['id']}") == OK
    assert (await call(client, caller, "GET", path))["data"] == []


async def test_session_refusals(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await draft_chat(client, caller)
    path = f"/chat/{chat['id']}/session"
    assert await call(client, caller, "POST", path, json={"name": " "}) == refused(102, "`name` can not be empty.")
    session = (await call(client, caller, "POST", path, json={"name": "kept"}))["data"]
    rename = await call(client, caller, "PUT", f"{path}/{session['id']}", json={"messages": []})
    assert rename == refused(102, "`messages` cannot be changed")
    assert await call(client, caller, "PUT", f"{path}/nope", json={"name": "x"}) == refused(102, "Session not found!")
    gone = await call(client, caller, "DELETE", f"{path}/nope")
    assert gone == refused(102, "The chat doesn't own the session nope")
    theirs = await draft_chat(client, other_caller, "theirs")
    foreign = refused(102, f"You don't own the chat {theirs['id']}")
    assert await call(client, caller, "POST", f"/chat/{theirs['id']}/session", json={"name": "x"}) == foreign
    assert await call(client, caller, "GET", f"/chat/{theirs['id']}/session") == foreign
    assert await call(client, caller, "DELETE", f"/chat/{chat['id']}/session/{session['id']}") == OK
    assert (await call(client, caller, "GET", path))["data"] == []


async def test_chat_with_a_session_as_the_draft_example(client: Client, caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    chat = await draft_chat(client, caller, knowledgebases=[{"id": dataset_id}])
    session = (await call(client, caller, "POST", f"/chat/{chat['id']}/session", json={"name": "new session"}))["data"]
    path = f"/api/v1/chat/{chat['id']}/session/{session['id']}/completion"
    headers = {**caller.headers, "Content-Type": "application/json"}
    verbatim = b'{\n"question": "Hello!",\n"stream": true,\n}'  # the draft's example ends in a comma: not JSON
    malformed = await client.post(path, content=verbatim, headers=headers)
    assert malformed.json() == refused(101, "Malformed JSON syntax: Missing commas/brackets or invalid encoding")
    fixed = {"question": "How do bees make honey?", "stream": True}
    response = await client.post(path, json=fixed, headers=caller.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    *answers, done = sse_events(response.text)
    assert done == {"code": 0, "message": "", "data": True}
    texts = [event["data"]["answer"] for event in answers]
    assert len(texts) > 2
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))  # cumulative
    final = answers[-1]["data"]
    assert final["final"] is True and final["session_id"] == session["id"] and "honey" in final["answer"].lower()
    plain = await call(client, caller, "POST", path.removeprefix("/api/v1"), json={**fixed, "stream": False})
    assert plain["code"] == 0 and plain["data"]["session_id"] == session["id"] and plain["data"]["answer"]
    [stored] = (await call(client, caller, "GET", f"/chat/{chat['id']}/session"))["data"]
    assert [message["role"] for message in stored["messages"]] == [
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]


async def test_completion_refusals(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await draft_chat(client, caller)
    unknown = await call(client, caller, "POST", f"/chat/{chat['id']}/session/nope/completion", json={"question": "hi"})
    assert unknown == refused(102, "Session not found!")
    theirs = await draft_chat(client, other_caller, "theirs")
    their_session = (await call(client, other_caller, "POST", f"/chat/{theirs['id']}/session", json={}))["data"]
    foreign = await call(
        client, caller, "POST", f"/chat/{theirs['id']}/session/{their_session['id']}/completion", json={"question": "x"}
    )
    assert foreign == refused(102, f"You don't own the chat {theirs['id']}")
    session = (await call(client, caller, "POST", f"/chat/{chat['id']}/session", json={}))["data"]
    no_question = await call(client, caller, "POST", f"/chat/{chat['id']}/session/{session['id']}/completion", json={})
    assert no_question == refused(101, "required argument are missing: messages")
