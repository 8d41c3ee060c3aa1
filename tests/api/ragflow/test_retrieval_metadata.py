"""`metadata_condition` on retrieval: documents filtered by their meta_fields, in SQL, as RAGFlow defines it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

DOCS = {
    "alice.txt": ({"author": "alice", "year": 2020, "tags": ["bees", "honey"]}, "Bees make honey from nectar."),
    "bob.txt": ({"author": "Bob", "year": "2023"}, "Bees pollinate flowers and make honey."),
    "anon.txt": ({}, "Honey bees live in hives."),
}


@pytest.fixture
async def dataset(client: Client, caller: Caller) -> str:
    ds = await new_dataset(client, caller, "meta")
    docs = await upload(client, caller, ds["id"], *[(name, text.encode()) for name, (_, text) in DOCS.items()])
    await parse(client, caller, ds["id"], *[doc["id"] for doc in docs])
    for doc in docs:
        reply = await call(
            client,
            caller,
            "PATCH",
            f"/datasets/{ds['id']}/documents/{doc['id']}",
            json={"meta_fields": DOCS[doc["name"]][0]},
        )
        assert reply["code"] == 0, reply
    return str(ds["id"])


async def found(client: Client, caller: Caller, dataset: str, condition: Any) -> dict[str, Any]:
    body = {
        "question": "honey bees",
        "dataset_ids": [dataset],
        "similarity_threshold": 0,
        "metadata_condition": condition,
    }
    return await call(client, caller, "POST", "/retrieval", json=body)


def where(*conditions: tuple[str, str, Any], logic: str = "and") -> dict[str, Any]:
    return {"logic": logic, "conditions": [{"name": n, "comparison_operator": o, "value": v} for n, o, v in conditions]}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (where(("author", "is", "alice")), {"alice.txt"}),
        (where(("author", "not is", "alice")), {"bob.txt", "anon.txt"}),
        (where(("author", "contains", "O")), {"bob.txt"}),  # case-insensitive
        (where(("author", "start with", "ali")), {"alice.txt"}),
        (where(("tags", "is", "honey")), {"alice.txt"}),  # a list matches by any element
        (where(("author", "in", "alice, Bob")), {"alice.txt", "bob.txt"}),
        (where(("year", ">", "2021")), {"bob.txt"}),  # numbers compare as numbers, stored as text or not
        (where(("year", "≤", "2020")), {"alice.txt"}),
        (where(("author", "empty", "")), {"anon.txt"}),
        (where(("author", "is", "alice"), ("year", "≥", "2023"), logic="or"), {"alice.txt", "bob.txt"}),
        (where(("author", "is", "alice"), ("year", "≥", "2023")), set()),
        (where(("author", "contains", "%")), set()),  # LIKE wildcards are plain characters
    ],
)
async def test_conditions_select_documents(
    client: Client, caller: Caller, dataset: str, condition: dict[str, Any], expected: set[str]
) -> None:
    reply = await found(client, caller, dataset, condition)
    assert reply["code"] == 0, reply
    assert {chunk["document_keyword"] for chunk in reply["data"]["chunks"]} == expected
    assert reply["data"]["total"] == len(expected)


@pytest.mark.parametrize(
    ("condition", "code", "message"),
    [
        ("author=alice", 102, "metadata_condition must be an object."),  # RAGFlow's code for this text elsewhere
        (where(("author", "like", "a")), 101, "Unsupported comparison_operator 'like'"),
        (where(("year", ">", "recent")), 101, "needs a number"),
        ({"logic": "xor", "conditions": []}, 101, "logic must be"),
    ],
)
async def test_bad_conditions_are_clear_errors(
    client: Client, caller: Caller, dataset: str, condition: Any, code: int, message: str
) -> None:
    reply = await found(client, caller, dataset, condition)
    assert reply["code"] == code and message in reply["message"], reply
