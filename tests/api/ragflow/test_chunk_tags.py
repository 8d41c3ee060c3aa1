"""Chunk tags as RAGFlow v0.27 serves them: `/datasets/{id}/tags` (list, remove, rename), `/datasets/tags/aggregation`,
`tag_kwd` checks on chunk add/update, and the chunk list's `tag_kwd` filter (a Nectar addition)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, upload
from tests.conftest import Caller


async def tagged_dataset(client: Client, caller: Caller, *tag_lists: list[str], name: str = "kb") -> tuple[str, str]:
    """A dataset whose one document has a chunk per tag list; its id and the document's chunks path."""
    ds = await new_dataset(client, caller, name)
    [doc] = await upload(client, caller, ds["id"], ("notes.txt", b"x"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    for number, tags in enumerate(tag_lists):
        added = await call(client, caller, "POST", path, json={"content": f"chunk {number}", "tag_kwd": tags})
        assert added["code"] == 0, added
    return ds["id"], path


async def chunk_tags(client: Client, caller: Caller, path: str, **params: Any) -> dict[str, list[str]]:
    """Each chunk's content and tags, as the chunk list shows them."""
    listing = await call(client, caller, "GET", path, params=params)
    assert listing["code"] == 0, listing
    return {chunk["content"]: chunk["tag_kwd"] for chunk in listing["data"]["chunks"]}


async def test_a_datasets_tags_are_counted_per_chunk_most_used_first(client: Client, caller: Caller) -> None:
    dataset_id, _ = await tagged_dataset(client, caller, ["b", "a"], ["b", "b"], ["c", "b"], [])
    listed = await call(client, caller, "GET", f"/datasets/{dataset_id}/tags")
    assert listed == {"code": 0, "data": [["b", 3], ["a", 1], ["c", 1]]}
    empty = (await new_dataset(client, caller, "empty"))["id"]
    assert await call(client, caller, "GET", f"/datasets/{empty}/tags") == {"code": 0, "data": []}


async def test_aggregation_adds_up_the_callers_datasets(client: Client, caller: Caller) -> None:
    first, _ = await tagged_dataset(client, caller, ["b", "a"], ["b"], name="one")
    second, _ = await tagged_dataset(client, caller, ["b", "z"], name="two")
    ids = f"{first},{second},{first},"  # repeated and empty entries change nothing
    summed = await call(client, caller, "GET", "/datasets/tags/aggregation", params={"dataset_ids": ids})
    assert summed == {
        "code": 0,
        "data": [{"value": "b", "count": 3}, {"value": "a", "count": 1}, {"value": "z", "count": 1}],
    }


async def test_aggregation_is_not_read_as_a_dataset_id(client: Client, caller: Caller) -> None:
    """`GET /datasets/{dataset_id}` would answer "lacks permission for dataset 'tags'" had it caught the path."""
    lack = {"code": 102, "message": "Lack of dataset_ids in query parameters"}
    assert await call(client, caller, "GET", "/datasets/tags/aggregation") == lack
    assert await call(client, caller, "GET", "/datasets/tags/aggregation", params={"dataset_ids": ",,"}) == lack


async def test_aggregation_refuses_an_unknown_or_foreign_dataset(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    mine, _ = await tagged_dataset(client, caller, ["secret"])
    theirs, _ = await tagged_dataset(client, other_caller, ["theirs"])
    for refused in ("unknown_id", theirs):
        params = {"dataset_ids": f"{mine},{refused}"}
        answer = await call(client, caller, "GET", "/datasets/tags/aggregation", params=params)
        assert answer == {"code": 102, "message": f"No authorization for dataset '{refused}'"}


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (None, {"code": 102, "message": "Lack of tags in request body"}),
        ({}, {"code": 102, "message": "Lack of tags in request body"}),
        ({"tag": ["a"]}, {"code": 102, "message": "Lack of tags in request body"}),
        ({"tags": "wrong"}, {"code": 101, "message": "tags must be a list of strings"}),
        ({"tags": ["a", 1]}, {"code": 101, "message": "tags must be a list of strings"}),
        ({"tags": None}, {"code": 101, "message": "tags must be a list of strings"}),
        ({"tags": []}, {"code": 0, "data": {}}),
    ],
)
async def test_removing_tags_checks_the_body_in_ragflows_words(
    client: Client, caller: Caller, body: dict[str, Any] | None, answer: dict[str, Any]
) -> None:
    dataset_id, path = await tagged_dataset(client, caller, ["a"])
    assert await call(client, caller, "DELETE", f"/datasets/{dataset_id}/tags", json=body) == answer
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["a"]}


async def test_removing_tags_takes_them_off_every_chunk_and_keeps_the_rest_in_order(
    client: Client, caller: Caller
) -> None:
    dataset_id, path = await tagged_dataset(client, caller, ["x", "b", "y", "b"], ["b"], ["c", "a"])
    elsewhere, elsewhere_path = await tagged_dataset(client, caller, ["b"], name="elsewhere")
    removed = await call(client, caller, "DELETE", f"/datasets/{dataset_id}/tags", json={"tags": ["b", "a", "nope"]})
    assert removed == {"code": 0, "data": {}}
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["x", "y"], "chunk 1": [], "chunk 2": ["c"]}
    assert (await call(client, caller, "GET", f"/datasets/{dataset_id}/tags"))["data"] == [["c", 1], ["x", 1], ["y", 1]]
    assert await chunk_tags(client, caller, elsewhere_path) == {"chunk 0": ["b"]}  # another dataset is untouched
    assert (await call(client, caller, "GET", f"/datasets/{elsewhere}/tags"))["data"] == [["b", 1]]


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (None, {"code": 102, "message": "Lack of from_tag or to_tag in request body"}),
        ({"from_tag": "a"}, {"code": 102, "message": "Lack of from_tag or to_tag in request body"}),
        ({"to_tag": "a"}, {"code": 102, "message": "Lack of from_tag or to_tag in request body"}),
        ({"from_tag": 1, "to_tag": "b"}, {"code": 101, "message": "from_tag and to_tag must be strings"}),
        ({"from_tag": "a", "to_tag": None}, {"code": 101, "message": "from_tag and to_tag must be strings"}),
        ({"from_tag": "", "to_tag": ""}, {"code": 101, "message": "from_tag and to_tag must not be empty"}),
        ({"from_tag": "a", "to_tag": "  "}, {"code": 101, "message": "from_tag and to_tag must not be empty"}),
        ({"from_tag": "a", "to_tag": "a"}, {"code": 0, "data": {"from": "a", "to": "a"}}),
        ({"from_tag": "nope", "to_tag": "b"}, {"code": 0, "data": {"from": "nope", "to": "b"}}),
    ],
)
async def test_renaming_checks_the_body_in_ragflows_words(
    client: Client, caller: Caller, body: dict[str, Any] | None, answer: dict[str, Any]
) -> None:
    dataset_id, path = await tagged_dataset(client, caller, ["a"])
    assert await call(client, caller, "PUT", f"/datasets/{dataset_id}/tags", json=body) == answer
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["a"]}


async def test_renaming_changes_every_chunk_and_never_doubles_a_tag(client: Client, caller: Caller) -> None:
    dataset_id, path = await tagged_dataset(client, caller, ["a", "c"], ["a", "d"], ["c"])
    renamed = await call(client, caller, "PUT", f"/datasets/{dataset_id}/tags", json={"from_tag": "a", "to_tag": " d "})
    assert renamed == {"code": 0, "data": {"from": "a", "to": " d "}}  # echoed as sent, stored trimmed
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["d", "c"], "chunk 1": ["d"], "chunk 2": ["c"]}


async def test_concurrent_tag_changes_on_one_chunk_all_land(client: Client, caller: Caller) -> None:
    """Each change is computed in SQL from the row it updates: a read-modify-write would lose all but one."""
    tags = [f"t{number}" for number in range(8)]
    dataset_id, path = await tagged_dataset(client, caller, tags)
    route = f"/datasets/{dataset_id}/tags"
    removals = [call(client, caller, "DELETE", route, json={"tags": [tag]}) for tag in tags[:4]]
    renames = [call(client, caller, "PUT", route, json={"from_tag": tag, "to_tag": tag.upper()}) for tag in tags[4:]]
    answers = await asyncio.gather(*removals, *renames)
    assert all(answer["code"] == 0 for answer in answers), answers
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["T4", "T5", "T6", "T7"]}


async def test_another_tenants_dataset_is_no_authorization(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    dataset_id, path = await tagged_dataset(client, caller, ["mine"])
    route = f"/datasets/{dataset_id}/tags"
    refused = {"code": 102, "message": "No authorization."}
    assert await call(client, other_caller, "GET", route) == refused
    assert await call(client, other_caller, "DELETE", route, json={"tags": ["mine"]}) == refused
    assert await call(client, other_caller, "PUT", route, json={"from_tag": "mine", "to_tag": "x"}) == refused
    assert await call(client, caller, "GET", "/datasets/unknown_id/tags") == refused
    assert await call(client, caller, "GET", f"{route.removesuffix('/tags')}%00/tags") == refused  # names no dataset
    # RAGFlow reads the body before it looks at the dataset
    assert (await call(client, other_caller, "DELETE", route, json={}))["message"] == "Lack of tags in request body"
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["mine"]}
    unsigned = await client.get(f"/api/v1{route}")
    assert unsigned.status_code == 401 and unsigned.json()["code"] == 401


async def test_chunk_list_filters_by_tag(client: Client, caller: Caller) -> None:
    _, path = await tagged_dataset(client, caller, ["a", "b"], ["c"], ["b"], [])
    assert set(await chunk_tags(client, caller, path, tag_kwd="b")) == {"chunk 0", "chunk 2"}
    either = await call(client, caller, "GET", path, params=[("tag_kwd", "a"), ("tag_kwd", "c")])
    assert either["data"]["total"] == 2
    assert {chunk["content"] for chunk in either["data"]["chunks"]} == {"chunk 0", "chunk 1"}
    none = await call(client, caller, "GET", path, params={"tag_kwd": "nope"})
    assert (none["data"]["total"], none["data"]["chunks"]) == (0, [])
    assert len(await chunk_tags(client, caller, path, tag_kwd="")) == 4  # an empty value filters nothing


@pytest.mark.parametrize(
    ("body", "adding", "message"),
    [
        ({"tag_kwd": None}, True, "`tag_kwd` is required to be a list"),
        ({"tag_kwd": None}, False, "`tag_kwd` should be a list"),
        ({"tag_kwd": "abc"}, False, "`tag_kwd` should be a list"),
        ({"tag_kwd": {"a": 1}}, False, "`tag_kwd` should be a list"),
        ({"tag_kwd": ["a", 1]}, False, "`tag_kwd` must be a list of strings"),
        ({"important_keywords": "abc"}, False, "`important_keywords` should be a list"),
        ({"questions": 123}, False, "`questions` should be a list"),
    ],
)
async def test_chunk_tag_kwd_must_be_a_list_of_strings(
    client: Client, caller: Caller, body: dict[str, Any], adding: bool, message: str
) -> None:
    _, path = await tagged_dataset(client, caller, ["kept"])
    if adding:
        answer = await call(client, caller, "POST", path, json={"content": "new", **body})
    else:
        [chunk] = (await call(client, caller, "GET", path))["data"]["chunks"]
        answer = await call(client, caller, "PATCH", f"{path}/{chunk['id']}", json=body)
    assert answer == {"code": 102, "message": message}
    assert await chunk_tags(client, caller, path) == {"chunk 0": ["kept"]}
