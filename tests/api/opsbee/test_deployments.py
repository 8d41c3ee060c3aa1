"""Deployments, and what every OpsBee call shares: auth (Bearer, Basic), the organization in the path,
JSON error bodies with real statuses, duplicate query keys."""

from __future__ import annotations

from datetime import datetime

from tests.api.opsbee.helpers import Client, basic, call, error, new_deployment, org_path
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import Caller

DEPLOYMENT_KEYS = {"id", "organization_id", "name", "description", "type", "history_count", "created_at", "updated_at"}


async def test_create_get_update_delete(client: Client, caller: Caller) -> None:
    body = {"name": "qa bot", "type": "qa", "description": "answers questions"}
    created = await call(client, caller, "POST", "/deployments", json=body)
    assert set(created) == DEPLOYMENT_KEYS
    assert created["type"] == "qa" and created["history_count"] == 0 and created["organization_id"] == caller.tenant_id
    assert datetime.fromisoformat(created["created_at"]).utcoffset() is not None  # ISO 8601 with an offset
    path = f"/deployments/{created['id']}"
    assert await call(client, caller, "GET", path) == created
    updated = await call(client, caller, "PATCH", path, json={"name": "qa bot 2", "description": "renamed"})
    assert (updated["name"], updated["description"], updated["type"]) == ("qa bot 2", "renamed", "qa")
    assert await call(client, caller, "DELETE", path) == {"message": f"deployment {created['id']} was deleted."}
    assert "not found" in await error(client, caller, "GET", path, 404)
    await error(client, caller, "DELETE", path, 404)


async def test_create_validation_is_400_never_422(client: Client, caller: Caller) -> None:
    assert "type" in await error(client, caller, "POST", "/deployments", 400, json={"name": "x", "type": "llm"})
    assert "name" in await error(client, caller, "POST", "/deployments", 400, json={"type": "chat"})
    await error(client, caller, "POST", "/deployments", 400, content=b"{not json", headers=caller.headers)
    await error(client, caller, "POST", "/deployments", 400, json=["a list"])
    await new_deployment(client, caller, name="twin")
    await error(client, caller, "POST", "/deployments", 409, json={"name": "twin", "type": "qa"})


async def test_list_paginates_and_accepts_duplicate_keys(client: Client, caller: Caller) -> None:
    for index in range(3):
        await new_deployment(client, caller, "chat" if index % 2 else "qa", name=f"dep-{index}")
    first = await call(client, caller, "GET", "/deployments?offset=0&limit=2&offset=0&limit=2")
    assert first["organization_id"] == caller.tenant_id
    assert (first["offset"], first["limit"], first["has_next"], len(first["deployments"])) == (0, 2, True, 2)
    rest = await call(client, caller, "GET", "/deployments", params={"offset": 2, "limit": 2})
    assert (rest["has_next"], len(rest["deployments"])) == (False, 1)
    names = {item["name"] for item in first["deployments"] + rest["deployments"]}
    assert names == {"dep-0", "dep-1", "dep-2"}
    assert all(item["type"] in ("chat", "qa") for item in first["deployments"])
    assert "limit" in await error(client, caller, "GET", "/deployments?limit=abc", 400)
    assert "limit" in await error(client, caller, "GET", "/deployments?limit=0", 400)
    assert "offset" in await error(client, caller, "GET", "/deployments?offset=-1", 400)


async def test_ragflow_chat_is_a_chat_deployment(client: Client, caller: Caller) -> None:
    chat = await new_chat(client, caller, "made via ragflow")
    deployment = await call(client, caller, "GET", f"/deployments/{chat['id']}")
    assert (deployment["type"], deployment["name"], deployment["history_count"]) == ("chat", "made via ragflow", 0)


async def test_basic_auth_and_me(client: Client, caller: Caller) -> None:
    created = await new_deployment(client, caller)
    path = f"/deployments/{created['id']}"
    assert (await call(client, caller, "GET", path, headers=basic(caller)))["id"] == created["id"]
    assert (await call(client, caller, "GET", path, headers=basic(caller, "42")))["id"] == created["id"]
    listed = await call(client, caller, "GET", "/deployments", org="me")
    assert listed["organization_id"] == caller.tenant_id and len(listed["deployments"]) == 1
    assert (await call(client, caller, "GET", path, org="me"))["organization_id"] == caller.tenant_id


async def test_bad_credentials_are_401(client: Client, caller: Caller) -> None:
    await error(client, caller, "GET", "/deployments", 401, headers={})
    await error(client, caller, "GET", "/deployments", 401, headers={"Authorization": "Bearer wrong"})
    await error(client, caller, "GET", "/deployments", 401, headers={"Authorization": "Basic !!!"})
    wrong = Caller(caller.tenant_id, "not-a-key")
    await error(client, caller, "GET", "/deployments", 401, headers=basic(wrong))


async def test_other_organizations_do_not_exist(client: Client, caller: Caller, other_caller: Caller) -> None:
    theirs = await new_deployment(client, other_caller)
    assert "organization" in await error(client, caller, "GET", "/deployments", 404, org=other_caller.tenant_id)
    await error(client, caller, "GET", "/deployments", 404, org="0123456789")
    await error(client, caller, "GET", f"/deployments/{theirs['id']}", 404)
    await error(client, caller, "DELETE", f"/deployments/{theirs['id']}", 404)
    await error(client, caller, "PATCH", f"/deployments/{theirs['id']}", 404, json={"name": "mine"})
    assert (await call(client, other_caller, "GET", f"/deployments/{theirs['id']}"))["name"] == theirs["name"]


async def test_unknown_route_and_method_are_json(client: Client, caller: Caller) -> None:
    response = await client.get(org_path(caller, "/nothing-here"), headers=caller.headers)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    response = await client.put(org_path(caller, "/deployments"), headers=caller.headers)
    assert response.status_code == 405 and set(response.json()) == {"error", "error_description"}
