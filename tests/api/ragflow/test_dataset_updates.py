"""PUT /datasets/{id} with explicit nulls and fields create does not take: RAGFlow's answers, never code 100."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.ragflow.helpers import Client, call, new_dataset
from tests.conftest import Caller

CHUNK_METHODS = (
    "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', "
    "'table', 'tag' or 'resume'"
)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Input should be a valid string"),
        ("permission", "Input should be 'me' or 'team'"),
        ("pagerank", "Input should be a valid integer"),
        ("chunk_method", CHUNK_METHODS),
    ],
)
async def test_null_for_a_field_that_cannot_be_empty_is_101(
    client: Client, caller: Caller, field: str, message: str
) -> None:
    ds = await new_dataset(client, caller)
    reply = await call(client, caller, "PUT", f"/datasets/{ds['id']}", json={field: None})
    assert reply == {"code": 101, "message": f"Field: <{field}> - Message: <{message}> - Value: <None>"}


@pytest.mark.parametrize(
    ("field", "shown"),
    [("description", None), ("avatar", None), ("embedding_model", "all-MiniLM-L6-v2@Builtin"), ("language", "English")],
)
async def test_null_for_an_optional_field_empties_or_keeps_it(
    client: Client, caller: Caller, field: str, shown: Any
) -> None:
    ds = await new_dataset(client, caller, description="ops docs")
    reply = await call(client, caller, "PUT", f"/datasets/{ds['id']}", json={field: None, "pagerank": 5})
    assert reply["code"] == 0, reply
    assert reply["data"][field] == shown and reply["data"]["pagerank"] == 5


async def test_parser_config_null_leaves_it_as_it_was(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller, parser_config={"chunk_token_num": 64})
    reply = await call(client, caller, "PUT", f"/datasets/{ds['id']}", json={"parser_config": None, "name": "y"})
    assert reply["code"] == 0 and reply["data"]["parser_config"]["chunk_token_num"] == 64


@pytest.mark.parametrize("payload", [{"pagerank": 50}, {"chunk_method": None}])
async def test_create_refuses_what_ragflow_refuses(client: Client, caller: Caller, payload: dict[str, Any]) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "x", **payload})
    assert reply["code"] == 101
    assert ("Extra inputs are not permitted" if "pagerank" in payload else CHUNK_METHODS) in reply["message"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("", "Embedding model identifier must follow <model_name>@<provider> format"),
        (" ", "Embedding model identifier must follow <model_name>@<provider> format"),
        ("all-MiniLM-L6-v2Builtin", "Embedding model identifier must follow <model_name>@<provider> format"),
        ("@Builtin", "Both model_name and provider must be non-empty strings"),
        (" @Builtin", "Both model_name and provider must be non-empty strings"),
        ("all-MiniLM-L6-v2@ ", "Both model_name and provider must be non-empty strings"),
    ],
)
async def test_embedding_model_formats_in_ragflows_words(
    client: Client, caller: Caller, model: str, message: str
) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "x", "embedding_model": model})
    assert reply["code"] == 101 and f"Message: <{message}>" in reply["message"], reply


async def test_dataset_routes_refuse_a_body_that_is_not_json(client: Client, caller: Caller) -> None:
    headers = {**caller.headers, "Content-Type": "text/xml"}
    reply = await client.post("/api/v1/datasets", content=b'{"name": "x"}', headers=headers)
    assert reply.json() == {"code": 101, "message": "Unsupported content type: Expected application/json, got text/xml"}


@pytest.mark.parametrize(
    ("avatar", "message"),
    [
        ("iVBORw0KGgo", "Missing MIME prefix. Expected format: data:<mime>;base64,<data>"),
        ("data:image/png;base64", "Missing MIME prefix. Expected format: data:<mime>;base64,<data>"),
        ("invalid_prefix:image/png;base64,iVBOR", "Invalid MIME prefix format. Must start with 'data:'"),
        ("data:video/mp4;base64,AAAA", "Unsupported MIME type. Allowed: ['image/jpeg', 'image/png']"),
    ],
)
async def test_avatar_must_be_an_image_data_url(client: Client, caller: Caller, avatar: str, message: str) -> None:
    reply = await call(client, caller, "POST", "/datasets", json={"name": "x", "avatar": avatar})
    assert reply["code"] == 101 and f"Message: <{message}>" in reply["message"], reply
    kept = await new_dataset(client, caller, "pic", avatar="data:image/png;base64,iVBORw0KGgo=")
    assert kept["avatar"] == "data:image/png;base64,iVBORw0KGgo="
