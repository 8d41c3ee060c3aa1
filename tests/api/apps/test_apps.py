"""`/apps`: create, read, draft config, publish / cancel-publish / history, envelope, auth and tenancy."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.apps.helpers import Client, call, new_app, success
from tests.api.ragflow.agent_helpers import new_agent
from tests.conftest import Caller
from tests.domain.agents.dsls import kb_qa

APP_FIELDS = {
    "id",
    "name",
    "icon",
    "description",
    "status",
    "published_app_config_id",
    "drafted_app_config_id",
    "debug_conversation_id",
    "published_app_config",
    "drafted_app_config",
    "updated_at",
    "created_at",
}
CONFIG_FIELDS = {"id", "model_config", "memory_mode", "status", "updated_at", "created_at"}


async def test_new_app_has_a_draft_only(client: Client, caller: Caller) -> None:
    created = await new_app(client, caller, "Course bot", icon="https://x/i.png", description="a bot")
    app = await success(client, caller, "GET", f"/{created['id']}")
    assert app == created and set(app) == APP_FIELDS
    assert (app["name"], app["icon"], app["description"]) == ("Course bot", "https://x/i.png", "a bot")
    assert app["status"] == "draft" and app["published_app_config"] is None and app["published_app_config_id"] is None
    assert app["debug_conversation_id"] is None
    draft = app["drafted_app_config"]
    assert set(draft) == CONFIG_FIELDS and draft["id"] == app["drafted_app_config_id"]
    assert draft["model_config"] == {"dialog_round": 3, "llm_id": "nectar-extractive@Builtin"}
    assert draft["memory_mode"] == "none" and draft["status"] == "drafted"
    now = time.time()
    for stamp in (app["created_at"], app["updated_at"], draft["created_at"], draft["updated_at"]):
        assert isinstance(stamp, int) and now - 60 < stamp <= now + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x", "icon": 3}, "icon"),
        ({"name": "x", "model_config": []}, "model_config"),
        ({"name": "x", "model_config": {"dialog_round": -1}}, "model_config.dialog_round"),
        ({"name": "x", "model_config": {"llm_id": "nope@nowhere"}}, "model_config.llm_id"),
        ({"name": "x", "memory_mode": "forever"}, "memory_mode"),
    ],
)
async def test_create_validation(client: Client, caller: Caller, body: dict[str, Any], field: str) -> None:
    reply = await call(client, caller, "POST", "", json=body)
    assert reply["code"] == "validate_error" and field in reply["data"], reply
    assert reply["message"] == reply["data"][field][0] and field in reply["message"]


async def test_create_rejects_a_body_that_is_not_an_object(client: Client, caller: Caller) -> None:
    for content in (b"[1]", b"{not json", b""):
        reply = await call(client, caller, "POST", "", content=content)
        assert reply["code"] == "validate_error", reply


async def test_duplicate_name_fails(client: Client, caller: Caller) -> None:
    await new_app(client, caller, "twin")
    reply = await call(client, caller, "POST", "", json={"name": "twin"})
    assert reply["code"] == "fail" and "Duplicated" in reply["message"]


async def test_update_config_changes_the_draft(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller)
    body = {"model_config": {"dialog_round": 10}, "memory_mode": "long_term_memory"}
    reply = await call(client, caller, "POST", f"/{app['id']}/config", json=body)
    assert reply == {"code": "success", "data": {}, "message": "更新AI应用配置成功"}
    draft = (await success(client, caller, "GET", f"/{app['id']}"))["drafted_app_config"]
    assert draft["model_config"]["dialog_round"] == 10 and draft["memory_mode"] == "long_term_memory"
    await success(client, caller, "POST", f"/{app['id']}/config", json={"model_config": {"dialog_round": 0}})
    draft = (await success(client, caller, "GET", f"/{app['id']}"))["drafted_app_config"]
    assert draft["model_config"]["dialog_round"] == 0 and draft["memory_mode"] == "long_term_memory"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model_config": {"dialog_round": -1}}, "model_config.dialog_round"),
        ({"model_config": {"dialog_round": 101}}, "model_config.dialog_round"),
        ({"model_config": {"dialog_round": "3"}}, "model_config.dialog_round"),
        ({"model_config": {"dialog_round": 2.5}}, "model_config.dialog_round"),
        ({"model_config": {"dialog_round": True}}, "model_config.dialog_round"),
        ({"model_config": "fast"}, "model_config"),
        ({"memory_mode": "short"}, "memory_mode"),
        ({"memory_mode": None}, "memory_mode"),
        ({"model_config": {"llm_id": ""}}, "model_config.llm_id"),
    ],
)
async def test_update_config_validation(client: Client, caller: Caller, body: dict[str, Any], field: str) -> None:
    app = await new_app(client, caller)
    reply = await call(client, caller, "POST", f"/{app['id']}/config", json=body)
    assert reply["code"] == "validate_error" and list(reply["data"]) == [field], reply
    draft = (await success(client, caller, "GET", f"/{app['id']}"))["drafted_app_config"]
    assert draft["model_config"]["dialog_round"] == 3 and draft["memory_mode"] == "none"  # nothing changed


async def test_publish_cancel_and_history(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller)
    first = await success(client, caller, "POST", f"/{app['id']}/publish")
    assert first["version"] == 1
    shown = await success(client, caller, "GET", f"/{app['id']}")
    assert shown["status"] == "published" and shown["published_app_config_id"] == first["id"]
    assert shown["published_app_config"]["status"] == "published"
    assert shown["drafted_app_config"] is not None  # the draft stays what the console edits

    await success(client, caller, "POST", f"/{app['id']}/config", json={"model_config": {"dialog_round": 7}})
    shown = await success(client, caller, "GET", f"/{app['id']}")
    assert shown["published_app_config"]["model_config"]["dialog_round"] == 3  # the draft is not live yet
    second = await success(client, caller, "POST", f"/{app['id']}/publish")
    assert second["version"] == 2
    shown = await success(client, caller, "GET", f"/{app['id']}")
    assert shown["published_app_config"]["model_config"]["dialog_round"] == 7

    history = await success(client, caller, "GET", f"/{app['id']}/published-config-histories")
    assert [entry["version"] for entry in history["list"]] == [2, 1]
    assert [entry["model_config"]["dialog_round"] for entry in history["list"]] == [7, 3]
    assert history["paginator"] == {"current_page": 1, "page_size": 20, "total_page": 1, "total_record": 2}

    reply = await call(client, caller, "POST", f"/{app['id']}/cancel-publish")
    assert reply["code"] == "success"
    shown = await success(client, caller, "GET", f"/{app['id']}")
    assert shown["status"] == "draft" and shown["published_app_config"] is None
    reply = await call(client, caller, "POST", f"/{app['id']}/cancel-publish")
    assert reply["code"] == "fail" and "not published" in reply["message"]
    history = await success(client, caller, "GET", f"/{app['id']}/publish-histories")  # the course's later name
    assert history["paginator"]["total_record"] == 2  # cancelling keeps the history


async def test_history_pages(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller)
    for _ in range(3):
        await success(client, caller, "POST", f"/{app['id']}/publish")
    path = f"/{app['id']}/published-config-histories"
    page = await success(client, caller, "GET", path, params={"current_page": 2, "page_size": 2})
    assert [entry["version"] for entry in page["list"]] == [1]
    assert page["paginator"] == {"current_page": 2, "page_size": 2, "total_page": 2, "total_record": 3}
    past = await success(client, caller, "GET", path, params={"current_page": 9})
    assert past["list"] == [] and past["paginator"]["total_record"] == 3
    for params in ({"page_size": 0}, {"page_size": -5}, {"current_page": 0}, {"current_page": "x"}):
        reply = await call(client, caller, "GET", path, params=params)
        assert reply["code"] == "validate_error" and list(reply["data"]) == list(params), reply


async def test_another_tenants_app_is_not_found(client: Client, caller: Caller, other_caller: Caller) -> None:
    app = await new_app(client, caller, "mine")
    for method, path, body in [
        ("GET", "", None),
        ("POST", "/config", {"memory_mode": "none"}),
        ("POST", "/publish", None),
        ("POST", "/cancel-publish", None),
        ("GET", "/published-config-histories", None),
        ("GET", "/long-term-memory", None),
        ("POST", "/long-term-memory", {"summary": "x"}),
        ("POST", "/debug", {"query": "hi"}),
        ("GET", "/messages", None),
        ("POST", "/messages/abc/delete", None),
    ]:
        reply = await call(client, other_caller, method, f"/{app['id']}{path}", json=body)
        assert reply["code"] == "not_found" and reply["data"] == {}, (path, reply)
    reply = await call(client, caller, "GET", "/0123456789abcdef0123456789abcdef")
    assert reply["code"] == "not_found"


async def test_an_agent_is_no_app(client: Client, caller: Caller) -> None:
    """Agents run their canvas: the apps face neither shows nor configures nor debugs one."""
    agent = await new_agent(client, caller, kb_qa([]), title="canvas")
    for method, path, body in [
        ("GET", "", None),
        ("POST", "/config", {"memory_mode": "none"}),
        ("POST", "/publish", None),
        ("POST", "/debug", {"query": "hi"}),
    ]:
        reply = await call(client, caller, method, f"/{agent['id']}{path}", json=body)
        assert reply["code"] == "not_found" and reply["data"] == {}, (path, reply)


@pytest.mark.parametrize("header", [None, "Bearer nectar-wrong", "", "Bearer "])
async def test_missing_or_bad_key_is_unauthorized(client: Client, caller: Caller, header: str | None) -> None:
    app = await new_app(client, caller, "locked")
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("GET", f"/{app['id']}"), ("POST", ""), ("POST", f"/{app['id']}/debug")]:
        response = await client.request(method, "/apps" + path, headers=headers, json={"query": "hi"})
        assert response.status_code == 401, response.text
        body = response.json()
        assert body["code"] == "unauthorized" and body["data"] == {} and body["message"], body


async def test_unknown_route_and_method_use_the_envelope(client: Client, caller: Caller) -> None:
    reply = await call(client, caller, "GET", "/x/y/z/w", status=404)
    assert reply["code"] == "not_found"
    reply = await call(client, caller, "DELETE", "/abc", status=405)
    assert reply["code"] == "fail"
