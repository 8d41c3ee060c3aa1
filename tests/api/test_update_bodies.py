"""Every update endpoint of every family, each field set to an explicit null, a wrong JSON type or an empty object:
a clear answer in the family's shape, never a 5xx, a code-100 envelope or an internal error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.api.apps.helpers import new_app
from tests.api.opsbee.helpers import history_body, new_deployment, new_tag, new_thread, org_path
from tests.api.ragflow.helpers import new_dataset, upload
from tests.conftest import Caller

ODD_VALUES: list[Any] = [None, 12345, "text", [], {}, True, -1.5]
# Sent as raw JSON text: values Python's json module reads but PostgreSQL cannot store or compare.
RAW_VALUES = [
    "NaN",
    "Infinity",
    "-Infinity",
    '"a\\u0000b"',
    '"x\\ud800y"',
    "1" + "0" * 30,
    '{"a":' * 3000 + "1" + "}" * 3000,
]

# name → (builds the object and returns (method, path), the body keys to sweep)
Target = Callable[[httpx.AsyncClient, Caller], Awaitable[tuple[str, str]]]


async def dataset(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    return "PUT", f"/api/v1/datasets/{(await new_dataset(client, caller))['id']}"


async def document(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("a.txt", b"some text"))
    return "PATCH", f"/api/v1/datasets/{ds['id']}/documents/{doc['id']}"


async def chunk(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("a.txt", b"some text"))
    path = f"/api/v1/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    added = (await client.post(path, json={"content": "bees"}, headers=caller.headers)).json()
    return "PATCH", f"{path}/{added['data']['chunk']['id']}"


async def chat(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    made = (await client.post("/api/v1/chats", json={"name": "c"}, headers=caller.headers)).json()
    return "PATCH", f"/api/v1/chats/{made['data']['id']}"


async def chat_put(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    return "PUT", (await chat(client, caller))[1]


async def session(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    _, chat_path = await chat(client, caller)
    made = (await client.post(f"{chat_path}/sessions", json={"name": "s"}, headers=caller.headers)).json()
    return "PATCH", f"{chat_path}/sessions/{made['data']['id']}"


async def deployment(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    return "PATCH", org_path(caller, f"/deployments/{(await new_deployment(client, caller))['id']}")


async def thread(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    made = await new_deployment(client, caller)
    return "PATCH", org_path(
        caller, f"/deployments/{made['id']}/threads/{(await new_thread(client, caller, made['id']))['id']}"
    )


async def tag(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    return "PATCH", org_path(caller, f"/tags/{(await new_tag(client, caller, 'urgent'))['id']}")


async def history(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    made = await new_deployment(client, caller, "qa")
    path = org_path(caller, f"/deployments/{made['id']}/qa_histories")
    created = (await client.post(path, json=history_body("q", "a"), headers=caller.headers)).json()
    return "PATCH", f"{path}/{created['id']}"


async def app_config(client: httpx.AsyncClient, caller: Caller) -> tuple[str, str]:
    return "POST", f"/apps/{(await new_app(client, caller))['id']}/config"


TARGETS: dict[str, tuple[Target, tuple[str, ...]]] = {
    "ragflow dataset": (
        dataset,
        (
            "name",
            "avatar",
            "description",
            "embedding_model",
            "permission",
            "chunk_method",
            "pagerank",
            "parser_config",
            "language",
            "ext",
            "auto_metadata_config",
        ),
    ),
    "ragflow document": (document, ("name", "chunk_method", "parser_config", "meta_fields", "enabled")),
    "ragflow chunk": (chunk, ("content", "important_keywords", "questions", "tag_kwd", "available", "positions")),
    "ragflow chat PATCH": (
        chat,
        ("name", "dataset_ids", "llm_id", "llm_setting", "prompt_config", "similarity_threshold", "top_n", "icon"),
    ),
    "ragflow chat PUT": (chat_put, ("name", "dataset_ids", "llm_setting", "prompt_config", "vector_similarity_weight")),
    "ragflow session": (session, ("name",)),
    "opsbee deployment": (deployment, ("name", "description", "type")),
    "opsbee thread": (thread, ("name", "description")),
    "opsbee tag": (tag, ("name", "description", "color")),
    "opsbee qa history": (history, ("input_text", "output_text", "input_token_count", "tag_ids", "metadata")),
    "apps config": (app_config, ("model_config", "memory_mode")),
}


def unhandled(response: httpx.Response) -> str | None:
    """Why this answer is an unhandled error, or None when it is a proper one."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    body = response.json()
    if isinstance(body, dict) and (body.get("code") == 100 or "Internal error" in str(body)):
        return "an internal-error envelope"
    return None


@pytest.mark.parametrize("target", TARGETS)
async def test_odd_values_never_reach_an_unhandled_error(
    client: httpx.AsyncClient, caller: Caller, target: str
) -> None:
    build, keys = TARGETS[target]
    method, path = await build(client, caller)
    failures = []
    for key in keys:
        for value in ODD_VALUES:
            response = await client.request(method, path, json={key: value}, headers=caller.headers)
            if (why := unhandled(response)) is not None:
                failures.append(f"{key}={value!r}: {why}: {response.text[:200]}")
    for key in keys:
        for raw in RAW_VALUES:
            body = f'{{"{key}": {raw}}}'.encode()
            headers = {**caller.headers, "Content-Type": "application/json"}
            response = await client.request(method, path, content=body, headers=headers)
            if (why := unhandled(response)) is not None:
                failures.append(f"{key}={raw[:20]}: {why}: {response.text[:200]}")
    empty = await client.request(method, path, json={}, headers=caller.headers)
    if (why := unhandled(empty)) is not None:
        failures.append(f"{{}}: {why}: {empty.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_a_null_document_name_is_101_not_an_internal_error(client: httpx.AsyncClient, caller: Caller) -> None:
    method, path = await document(client, caller)
    reply = (await client.request(method, path, json={"name": None}, headers=caller.headers)).json()
    message = "Field: <name> - Message: <Input should be a valid string> - Value: <None>"
    assert reply == {"code": 101, "message": message}
