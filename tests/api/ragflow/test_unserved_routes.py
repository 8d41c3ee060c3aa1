"""Paths under /api/v1 no Nectar route serves: RAGFlow's own routes check the key first, anything else is a 404."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Caller

# Routes RAGFlow v0.27 serves behind the key that Nectar leaves out (knowledge graph, memories, search apps).
UNSERVED_RAGFLOW_ROUTES = [
    ("GET", "/api/v1/datasets/abc/knowledge_graph"),
    ("DELETE", "/api/v1/datasets/abc/knowledge_graph"),
    ("GET", "/api/v1/memories"),
    ("POST", "/api/v1/searches"),
]


@pytest.mark.parametrize(("method", "path"), UNSERVED_RAGFLOW_ROUTES)
async def test_ragflow_routes_nectar_does_not_serve_check_the_key_first(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    missing = await client.request(method, path)
    assert missing.status_code == 401 and missing.json()["code"] == 401, missing.text
    wrong = await client.request(method, path, headers={"Authorization": "Bearer ragflow-nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == 401, wrong.text


@pytest.mark.parametrize(("method", "path"), UNSERVED_RAGFLOW_ROUTES)
async def test_with_a_valid_key_they_are_not_found(
    client: httpx.AsyncClient, caller: Caller, method: str, path: str
) -> None:
    reply = await client.request(method, path, headers=caller.headers)
    assert reply.status_code == 404
    assert reply.json() == {"code": 404, "message": f"Not Found: {path}", "data": None, "error": "Not Found"}


async def test_a_path_outside_ragflow_is_not_found_without_a_key(client: httpx.AsyncClient) -> None:
    """RAGFlow's restful test_router_contracts: `/__missing_route__` is a JSON 404 with no key sent."""
    reply = await client.get("/api/v1/__missing_route__")
    assert reply.status_code == 404
    assert reply.json()["message"] == "Not Found: /api/v1/__missing_route__"


async def test_served_routes_and_their_methods_are_untouched(client: httpx.AsyncClient, caller: Caller) -> None:
    assert (await client.get("/api/v1/datasets", headers=caller.headers)).json()["code"] == 0
    wrong_method = await client.patch("/api/v1/datasets", headers=caller.headers)
    assert wrong_method.status_code == 405
    for face in ("chats_openai", "agents_openai"):
        openai_unknown = await client.post(f"/api/v1/{face}/x/other", headers=caller.headers)
        assert openai_unknown.status_code == 404 and "error" in openai_unknown.json(), face


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/abc/documents/def/nothing",
        "/api/v1/chats/abc/nothing",
        "/api/v1/chats/a/sessions/b/nothing",
        "/api/v1/documents/abc/thumbnail",
        "/api/v1/dataset/abc/nothing",
        "/api/v1/dataset/abc/document/def/nothing",
        "/api/v1/chat/abc/nothing",
        "/api/v1/chat/a/session/b/nothing",
    ],
)
async def test_unserved_paths_below_served_ones_check_the_key_too(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
