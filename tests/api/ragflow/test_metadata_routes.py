"""Document metadata routes as RAGFlow v0.27 serves them: dataset auto-metadata config, summary, flattened
view, the batch `PATCH .../documents/metadatas`, a document's metadata config, and the metadata input checks
of document PATCH, the document list and /retrieval."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, document, new_dataset, upload
from tests.conftest import Caller

FIELD = {"name": "author", "type": "string", "description": None, "examples": None, "restrict_values": False}


async def dataset_with_docs(client: Client, caller: Caller, *metas: dict[str, Any]) -> tuple[str, list[str]]:
    """A dataset with one text document per `metas` entry, each given those meta_fields."""
    ds = (await new_dataset(client, caller, "meta"))["id"]
    files = [(f"doc{i}.txt", f"text {i}".encode()) for i in range(len(metas))]
    ids = [doc["id"] for doc in sorted(await upload(client, caller, ds, *files), key=lambda d: str(d["name"]))]
    for doc_id, meta in zip(ids, metas, strict=True):
        reply = await call(client, caller, "PATCH", f"/datasets/{ds}/documents/{doc_id}", json={"meta_fields": meta})
        assert reply["code"] == 0, reply
    return ds, ids


async def meta(client: Client, caller: Caller, ds: str, doc_id: str) -> dict[str, Any]:
    return (await document(client, caller, ds, doc_id))["meta_fields"]  # type: ignore[no-any-return]


# --- dataset auto-metadata config ----------------------------------------------------------------------------


async def test_auto_metadata_config_round_trip_on_both_paths(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller))["id"]
    assert await call(client, caller, "GET", f"/datasets/{ds}/metadata/config") == {
        "code": 0,
        "data": {"enabled": False, "fields": []},
    }
    body = {"fields": [{"name": " author ", "type": "string"}]}
    put = await call(client, caller, "PUT", f"/datasets/{ds}/metadata/config", json=body)
    assert put == {"code": 0, "data": {"enabled": True, "fields": [FIELD]}}
    for path in ("metadata/config", "auto_metadata"):  # the legacy path reads the same config
        assert (await call(client, caller, "GET", f"/datasets/{ds}/{path}"))["data"] == put["data"]
    off = await call(client, caller, "PUT", f"/datasets/{ds}/auto_metadata", json={"enabled": False})
    assert off["data"] == {"enabled": False, "fields": []}
    assert (await call(client, caller, "GET", f"/datasets/{ds}/metadata/config"))["data"] == off["data"]


async def test_config_given_at_creation_is_served_on(client: Client, caller: Caller) -> None:
    config = {"fields": [{"name": "author", "type": "string"}]}
    ds = (await new_dataset(client, caller, "configured", auto_metadata_config=config))["id"]
    reply = await call(client, caller, "GET", f"/datasets/{ds}/metadata/config")
    assert reply["data"] == {"enabled": True, "fields": [FIELD]}
    bad = await call(client, caller, "POST", "/datasets", json={"name": "x", "auto_metadata_config": {"fields": [1]}})
    assert bad["code"] == 101
    assert bad["message"].startswith("Field: <auto_metadata_config.fields.0> - Message: <Input should be a valid")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Unsupported content type: Expected application/json, got None"),
        ({"enabled": "yes"}, "Field: <enabled> - Message: <Input should be a valid boolean> - Value: <yes>"),
        ({"extra": 1}, "Field: <extra> - Message: <Extra inputs are not permitted> - Value: <1>"),
        (
            {"fields": [{"name": "a", "type": "number"}]},
            "Field: <fields.0.type> - Message: <Input should be 'string', 'list' or 'time'> - Value: <number>",
        ),
        (
            {"fields": [{"name": " ", "type": "list"}]},
            "Field: <fields.0.name> - Message: <String should have at least 1 character> - Value: < >",
        ),
    ],
)
async def test_config_bodies_are_validated_first(client: Client, caller: Caller, body: Any, message: str) -> None:
    ds = (await new_dataset(client, caller))["id"]
    reply = await call(client, caller, "PUT", f"/datasets/{ds}/metadata/config", json=body)
    assert reply == {"code": 101, "message": message}
    assert (await call(client, caller, "GET", f"/datasets/{ds}/metadata/config"))["data"]["enabled"] is False


async def test_config_of_another_tenants_dataset_is_refused(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    theirs = (await new_dataset(client, other_caller, "theirs"))["id"]
    refusal = {"code": 102, "message": f"User '{caller.tenant_id}' lacks permission for dataset '{theirs}'"}
    for method, path, body in (
        ("GET", "metadata/config", None),
        ("PUT", "metadata/config", {"enabled": True}),
        ("PUT", "auto_metadata", {"enabled": True}),
    ):
        assert await call(client, caller, method, f"/datasets/{theirs}/{path}", json=body) == refusal
    unchanged = await call(client, other_caller, "GET", f"/datasets/{theirs}/metadata/config")
    assert unchanged["data"] == {"enabled": False, "fields": []}


# --- summary and flattened views -----------------------------------------------------------------------------

METAS = (
    {"tags": ["foo", "bar"], "author": "alice", "year": 2024},
    {"tags": ["foo"], "author": "bob", "year": 2025, "checked": True},
    {"tags": ["bar", "baz"], "when": "2026-02-03T00:00:00"},
)


async def test_summary_counts_values_per_key(client: Client, caller: Caller, other_caller: Caller) -> None:
    ds, ids = await dataset_with_docs(client, caller, *METAS)
    nulled = await batch(
        client, caller, ds, selector={"document_ids": [ids[2]]}, updates=[{"key": "author", "value": None}]
    )
    assert nulled["data"] == {"updated": 1, "matched_docs": 1}  # a null only the batch route can store
    reply = await call(client, caller, "GET", f"/datasets/{ds}/metadata/summary")
    assert reply["code"] == 0
    found = reply["data"]["summary"]
    assert {key: entry["type"] for key, entry in found.items()} == {
        "tags": "list",
        "author": "string",
        "year": "number",
        "checked": "string",
        "when": "time",
    }
    assert dict(map(tuple, found["tags"]["values"])) == {"foo": 2, "bar": 2, "baz": 1}
    assert [count for _, count in found["tags"]["values"]] == [2, 2, 1]  # most first
    assert dict(map(tuple, found["author"]["values"])) == {"alice": 1, "bob": 1}  # null is not a value
    assert found["checked"]["values"] == [["True", 1]] and found["year"]["values"] == [["2024", 1], ["2025", 1]]
    only = await call(client, caller, "GET", f"/datasets/{ds}/metadata/summary", params={"doc_ids": ids[1]})
    assert only["data"]["summary"]["tags"] == {"type": "list", "values": [["foo", 1]]}
    theirs = await call(client, other_caller, "GET", f"/datasets/{ds}/metadata/summary")
    assert theirs == {"code": 102, "message": f"You don't own the dataset {ds}."}


async def test_flattened_maps_values_to_documents(client: Client, caller: Caller, other_caller: Caller) -> None:
    first, [a, b, _] = await dataset_with_docs(client, caller, *METAS)
    second, [c] = await dataset_with_docs(client, caller, {"author": "alice", "tags": "solo"})
    path = "/datasets/metadata/flattened"
    reply = await call(client, caller, "GET", path, params={"dataset_ids": f"{first},{second}"})
    assert reply["code"] == 0
    flat = reply["data"]
    assert sorted(flat["author"]["alice"]) == sorted([a, c]) and flat["author"]["bob"] == [b]
    assert flat["tags"]["solo"] == [c] and set(flat["tags"]) == {"foo", "bar", "baz", "solo"}
    for params in ({}, {"dataset_ids": ""}, {"dataset_ids": ","}):
        missing = await call(client, caller, "GET", path, params=params)
        assert missing == {"code": 102, "message": "Lack of dataset_ids in query parameters"}
    theirs = await call(client, other_caller, "GET", path, params={"dataset_ids": first})
    assert theirs == {"code": 102, "message": f"No authorization for dataset '{first}'"}


# --- batch PATCH /datasets/{id}/documents/metadatas ----------------------------------------------------------


async def batch(client: Client, caller: Caller, ds: str, **body: Any) -> dict[str, Any]:
    return await call(client, caller, "PATCH", f"/datasets/{ds}/documents/metadatas", json=body)


async def test_batch_updates_and_deletes_selected_documents(client: Client, caller: Caller) -> None:
    ds, [a, b, c] = await dataset_with_docs(client, caller, {}, {"status": "old"}, {"author": "keep"})
    updates = [{"key": "author", "value": "new"}, {"key": "status", "value": "processed"}]
    reply = await batch(client, caller, ds, selector={"document_ids": [a, b]}, updates=updates)
    assert reply == {"code": 0, "data": {"updated": 2, "matched_docs": 2}}
    assert await meta(client, caller, ds, a) == {"author": "new", "status": "processed"}
    assert await meta(client, caller, ds, c) == {"author": "keep"}
    again = await batch(client, caller, ds, selector={"document_ids": [a, b]}, updates=updates)
    assert again["data"] == {"updated": 0, "matched_docs": 2}  # nothing changed
    deleted = await batch(client, caller, ds, selector={"document_ids": [a, b, c]}, deletes=[{"key": "status"}])
    assert deleted["data"] == {"updated": 2, "matched_docs": 3}
    assert await meta(client, caller, ds, b) == {"author": "new"}
    empty = await batch(client, caller, ds, selector={"document_ids": []}, updates=updates)
    assert empty["data"] == {"updated": 0, "matched_docs": 0}


async def test_batch_list_values_append_replace_remove_and_split(client: Client, caller: Caller) -> None:
    ds, [a] = await dataset_with_docs(client, caller, {"tags": ["x"]})
    steps: list[tuple[dict[str, Any], list[Any] | None]] = [
        ({"updates": [{"key": "tags", "value": "y"}]}, ["x", "y"]),
        ({"updates": [{"key": "tags", "value": "z", "match": "x"}]}, ["z", "y"]),
        ({"updates": [{"key": "tags", "value": ["y", 3]}]}, ["z", "y", 3]),
        ({"deletes": [{"key": "tags", "value": "3"}]}, ["z", "y"]),  # values compare as text
        ({"updates": [{"key": "tags", "value": "p、q; r"}]}, ["z", "y", "p", "q", "r"]),  # split as RAGFlow saves
        ({"deletes": [{"key": "tags"}]}, None),
    ]
    for body, expected in steps:
        reply = await batch(client, caller, ds, selector={"document_ids": [a]}, **body)
        assert reply == {"code": 0, "data": {"updated": 1, "matched_docs": 1}}, body
        assert (await meta(client, caller, ds, a)).get("tags") == expected, body


async def test_batch_selects_by_metadata_condition(client: Client, caller: Caller) -> None:
    ds, [a, b, c] = await dataset_with_docs(client, caller, {"team": "ops"}, {"team": "dev"}, {"team": "ops"})
    ops = {"conditions": [{"name": "team", "comparison_operator": "is", "value": "ops"}]}
    narrowed = await batch(
        client,
        caller,
        ds,
        selector={"document_ids": [a, b], "metadata_condition": ops},
        updates=[{"key": "k", "value": 1}],
    )
    assert narrowed["data"] == {"updated": 1, "matched_docs": 1}
    alone = await batch(client, caller, ds, selector={"metadata_condition": ops}, updates=[{"key": "k", "value": 2}])
    assert alone["data"] == {"updated": 2, "matched_docs": 2}  # no ids: the condition alone selects
    assert [(await meta(client, caller, ds, doc)).get("k") for doc in (a, b, c)] == [2, None, 2]
    nobody = {"conditions": [{"name": "team", "comparison_operator": "is", "value": "qa"}]}
    none = await batch(client, caller, ds, selector={"metadata_condition": nobody}, updates=[{"key": "k", "value": 3}])
    assert none["data"] == {"updated": 0, "matched_docs": 0}


async def test_concurrent_batches_on_one_document_keep_every_key(client: Client, caller: Caller) -> None:
    ds, [a] = await dataset_with_docs(client, caller, {})
    replies = await asyncio.gather(
        *(
            batch(client, caller, ds, selector={"document_ids": [a]}, updates=[{"key": f"k{i}", "value": i}])
            for i in range(12)
        )
    )
    assert all(reply["data"] == {"updated": 1, "matched_docs": 1} for reply in replies), replies
    assert await meta(client, caller, ds, a) == {f"k{i}": i for i in range(12)}  # no batch lost another's key


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"selector": [1]}, "selector must be an object."),
        ({"selector": {}, "updates": {"key": "value"}}, "updates and deletes must be lists."),
        ({"deletes": "author"}, "updates and deletes must be lists."),
        ({"selector": {"metadata_condition": [1]}}, "metadata_condition must be an object."),
        ({"selector": {"document_ids": "doc-1"}}, "document_ids must be a list."),
        ({"updates": [{"key": ""}]}, "Each update requires key and value."),
        ({"updates": [{"key": "author"}]}, "Each update requires key and value."),
        ({"updates": [{"key": ["a"], "value": 1}]}, "Each update requires key and value."),
        ({"deletes": [{"x": "y"}]}, "Each delete requires key."),
    ],
)
async def test_batch_bodies_are_checked_in_ragflow_words(
    client: Client, caller: Caller, body: dict[str, Any], message: str
) -> None:
    ds, [a] = await dataset_with_docs(client, caller, {"author": "alice"})
    assert await batch(client, caller, ds, **body) == {"code": 102, "message": message}
    assert await meta(client, caller, ds, a) == {"author": "alice"}


async def test_batch_refuses_other_tenants_datasets_and_documents(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    ds, [mine] = await dataset_with_docs(client, caller, {"author": "alice"})
    theirs_ds, [theirs] = await dataset_with_docs(client, other_caller, {"author": "eve"})
    updates = [{"key": "author", "value": "mallory"}]
    refused = await batch(client, caller, theirs_ds, selector={"document_ids": [theirs]}, updates=updates)
    assert refused == {"code": 102, "message": f"You don't own the dataset {theirs_ds}."}
    foreign = await batch(client, caller, ds, selector={"document_ids": [mine, theirs, "nope"]}, updates=updates)
    assert foreign == {"code": 102, "message": f"These documents do not belong to dataset {ds}: {theirs}, nope"}
    assert await meta(client, caller, ds, mine) == {"author": "alice"}  # nothing done
    assert await meta(client, other_caller, theirs_ds, theirs) == {"author": "eve"}


# --- a document's metadata config ----------------------------------------------------------------------------


async def test_document_metadata_config(client: Client, caller: Caller, other_caller: Caller) -> None:
    ds, [doc] = await dataset_with_docs(client, caller, {})
    path = f"/datasets/{ds}/documents/{doc}/metadata/config"
    first = await call(client, caller, "PUT", path, json={"metadata": {"author": {"type": "string"}}})
    assert first["code"] == 0 and (first["data"]["id"], first["data"]["kb_id"]) == (doc, ds)
    second = await call(client, caller, "PUT", path, json={"metadata": {"year": {"type": "number"}}})
    assert second["data"]["parser_config"]["metadata"] == {"author": {"type": "string"}, "year": {"type": "number"}}
    assert second["data"]["parser_config"]["chunk_token_num"] == 512  # the rest of the config is kept
    assert (await document(client, caller, ds, doc))["parser_config"]["metadata"]["year"] == {"type": "number"}
    assert await call(client, caller, "PUT", path, json={}) == {"code": 101, "message": "metadata is required"}
    unknown = await call(client, caller, "PUT", f"/datasets/{ds}/documents/nope/metadata/config", json={})
    assert unknown == {"code": 102, "message": f"Document nope not found in dataset {ds}"}
    theirs = await call(client, other_caller, "PUT", path, json={"metadata": {}})
    assert theirs == {"code": 102, "message": "You don't own the dataset."}


# --- metadata input checks of other routes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta_fields", "message"),
    [
        ("test", "Field: <meta_fields> - Message: <Input should be a valid dictionary> - Value: <test>"),
        (
            {"tags": [{"x": {"a": "b"}}]},
            "Field: <meta_fields> - Message: <The type is not supported in list: [{'x': {'a': 'b'}}]>"
            " - Value: <{'tags': [{'x': {'a': 'b'}}]}>",
        ),
        (
            {"obj": {"x": 1}},
            "Field: <meta_fields> - Message: <The type is not supported: {'x': 1}> - Value: <{'obj': {'x': 1}}>",
        ),
        ({"gone": None}, "Field: <meta_fields> - Message: <The type is not supported: None> - Value: <{'gone': None}>"),
    ],
)
async def test_nested_meta_fields_are_refused(client: Client, caller: Caller, meta_fields: Any, message: str) -> None:
    ds, [doc] = await dataset_with_docs(client, caller, {"tags": [2, 1, "a, b|c"], "ok": True})
    assert await meta(client, caller, ds, doc) == {"tags": [2, 1, "a", "b", "c"], "ok": True}  # split on save
    reply = await call(client, caller, "PATCH", f"/datasets/{ds}/documents/{doc}", json={"meta_fields": meta_fields})
    # The text is RAGFlow's; the code is this route's for every body check (RAGFlow answers these with 102).
    assert reply == {"code": 101, "message": message}
    assert await meta(client, caller, ds, doc) == {"tags": [2, 1, "a", "b", "c"], "ok": True}


async def test_document_list_metadata_condition(client: Client, caller: Caller) -> None:
    ds, [a, b] = await dataset_with_docs(client, caller, {"author": "alice"}, {"author": "bob"})

    async def listed(raw: str, **params: str) -> dict[str, Any]:
        return await call(
            client, caller, "GET", f"/datasets/{ds}/documents", params={"metadata_condition": raw, **params}
        )

    alice = json.dumps({"conditions": [{"name": "author", "comparison_operator": "is", "value": "alice"}]})
    found = await listed(alice)
    assert found["data"]["total"] == 1 and [doc["id"] for doc in found["data"]["docs"]] == [a]
    assert [doc["id"] for doc in (await listed(alice, id=b))["data"]["docs"]] == [b]  # an id overrides the filter
    assert (await listed("[]"))["data"]["total"] == 2  # an empty condition filters nothing
    assert await listed("{bad") == {"code": 102, "message": "metadata_condition must be valid JSON: {bad."}
    assert await listed("[1]") == {"code": 102, "message": "metadata_condition must be an object."}
    nul = '{"conditions": [{"name": "author\\u0000", "comparison_operator": "is", "value": "x"}]}'
    refused = await listed(nul)
    assert refused == {
        "code": 101,
        "message": "metadata_condition may not contain NUL characters or unpaired surrogates",
    }


async def test_retrieval_metadata_condition_shapes(client: Client, caller: Caller) -> None:
    ds = (await new_dataset(client, caller))["id"]
    body = {"question": "bees", "dataset_ids": [ds]}
    ignored_values: list[Any] = [[], "", {}, None, 0]  # RAGFlow ignores a falsy condition
    for ignored in ignored_values:
        reply = await call(client, caller, "POST", "/retrieval", json={**body, "metadata_condition": ignored})
        assert reply["code"] == 0, ignored
    for refused in ("author=alice", [1], 5):
        reply = await call(client, caller, "POST", "/retrieval", json={**body, "metadata_condition": refused})
        assert reply == {"code": 102, "message": "metadata_condition must be an object."}, refused
