"""`/api/v1/agents`: create, list, read, update and delete agents from RAGFlow DSLs, in RAGFlow's words."""

from __future__ import annotations

import pytest

from tests.api.ragflow.agent_helpers import bees_dataset, new_agent
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller
from tests.domain.agents.dsls import component, kb_qa, starter

FAKE_KB = "f" * 32


@pytest.fixture
async def bees(client: Client, caller: Caller) -> str:
    return await bees_dataset(client, caller)


async def test_create_then_read_an_agent(client: Client, caller: Caller, bees: str) -> None:
    dsl = starter([bees])
    body = await call(
        client, caller, "POST", "/agents", json={"title": " Docs QA ", "dsl": dsl, "description": "d", "avatar": "a"}
    )

    assert body["code"] == 0 and body["message"] == "success"
    agent = body["data"]
    assert (agent["title"], agent["description"], agent["avatar"]) == ("Docs QA", "d", "a")
    assert agent["dsl"] == dsl and agent["canvas_category"] == "agent_canvas" and agent["user_id"] == caller.tenant_id
    assert len(agent["id"]) == 32 and agent["create_time"] > 0 and agent["update_date"].endswith("GMT")
    read = await call(client, caller, "GET", f"/agents/{agent['id']}")
    assert read["data"] == agent


async def test_list_pages_orders_and_filters(client: Client, caller: Caller) -> None:
    dsl = kb_qa([])
    ids = [(await new_agent(client, caller, dsl, f"agent {n}"))["id"] for n in range(3)]

    page = await call(client, caller, "GET", "/agents", params={"page": 1, "page_size": 2})
    assert page["data"]["total"] == 3 and [a["id"] for a in page["data"]["canvas"]] == ids[::-1][:2]
    oldest = await call(client, caller, "GET", "/agents", params={"page": 2, "page_size": 2, "desc": "false"})
    assert [a["id"] for a in oldest["data"]["canvas"]] == ids[2:]
    named = await call(client, caller, "GET", "/agents", params={"title": "agent 1"})
    assert [a["id"] for a in named["data"]["canvas"]] == [ids[1]]
    by_id = await call(client, caller, "GET", "/agents", params={"id": ids[0]})
    assert by_id["data"]["total"] == 1
    bad = await call(client, caller, "GET", "/agents", params={"orderby": "title"})
    assert bad == {"code": 101, "message": "invalid orderby field: title"}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"title": "x"}, 101, "No DSL data in request."),
        ({"dsl": {"components": {}}}, 101, "No title in request."),
        ({"title": 5, "dsl": {}}, 101, "`title` should be a non-empty string."),
        ({"title": "x", "dsl": "nope"}, 101, "`dsl` should be an object."),
        ({"title": "x", "dsl": {"components": {}}}, 101, "The DSL has no components."),
        ({"title": "x", "dsl": kb_qa([]), "description": ["no"]}, 101, "`description` should be a string."),
        ({"title": "x" * 300, "dsl": kb_qa([])}, 101, "Agent title length is 300 which is larger than 255."),
        ({"title": "x", "dsl": kb_qa([FAKE_KB])}, 102, f"You don't own the dataset {FAKE_KB}"),
    ],
)
async def test_create_refusals(
    client: Client, caller: Caller, body: dict[str, object], code: int, message: str
) -> None:
    assert await call(client, caller, "POST", "/agents", json=body) == {"code": code, "message": message}


async def test_an_unknown_component_is_refused_by_name(client: Client, caller: Caller) -> None:
    dsl = kb_qa([])
    dsl["components"]["Code:Run"] = component("Code", {"script": "print(1)"}, [], [])
    body = await call(client, caller, "POST", "/agents", json={"title": "x", "dsl": dsl})
    assert body["code"] == 101 and body["message"].startswith(
        "Unsupported component type `Code` (component `Code:Run`)"
    )


async def test_a_title_is_unique_per_tenant(client: Client, caller: Caller, other_caller: Caller) -> None:
    await new_agent(client, caller, kb_qa([]), "same")
    again = await call(client, caller, "POST", "/agents", json={"title": "same", "dsl": kb_qa([])})
    assert again == {"code": 102, "message": "same already exists."}
    assert (await new_agent(client, other_caller, kb_qa([]), "same"))["title"] == "same"


async def test_update_changes_only_what_is_given(client: Client, caller: Caller, bees: str) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    changed = await call(client, caller, "PUT", f"/agents/{agent['id']}", json={"dsl": kb_qa([bees]), "title": None})
    assert changed == {"code": 0, "message": "success", "data": True}
    read = (await call(client, caller, "GET", f"/agents/{agent['id']}"))["data"]
    assert read["title"] == "bees agent" and read["dsl"] == kb_qa([bees])
    assert read["update_time"] >= agent["update_time"]
    await call(client, caller, "PUT", f"/agents/{agent['id']}", json={"title": "renamed", "description": "new"})
    read = (await call(client, caller, "GET", f"/agents/{agent['id']}"))["data"]
    assert (read["title"], read["description"], read["dsl"]) == ("renamed", "new", kb_qa([bees]))
    bad = await call(client, caller, "PUT", f"/agents/{agent['id']}", json={"dsl": {"components": {"begin": 1}}})
    assert bad["code"] == 101 and "Component `begin` should be" in bad["message"]


async def test_delete_takes_the_agent_away(client: Client, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    assert await call(client, caller, "DELETE", f"/agents/{agent['id']}") == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    assert await call(client, caller, "GET", f"/agents/{agent['id']}") == {"code": 102, "message": "canvas not found."}


async def test_another_tenants_agent_is_out_of_reach(client: Client, caller: Caller, other_caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    path = f"/agents/{agent['id']}"

    assert await call(client, other_caller, "GET", path) == {"code": 102, "message": "canvas not found."}
    assert await call(client, other_caller, "PUT", path, json={"title": "mine"}) == {
        "code": 103,
        "message": "Make sure you have permission to access the agent.",
        "data": False,
    }
    assert (await call(client, other_caller, "DELETE", path))["message"] == (
        "Only the owner of the agent is authorized for this operation."
    )
    assert (await call(client, other_caller, "GET", "/agents"))["data"]["total"] == 0
    assert (await call(client, caller, "GET", path))["data"]["title"] == "bees agent"


async def test_a_dataset_of_another_tenant_cannot_be_named(
    client: Client, caller: Caller, other_caller: Caller, bees: str
) -> None:
    body = await call(client, other_caller, "POST", "/agents", json={"title": "x", "dsl": starter([bees])})
    assert body == {"code": 102, "message": f"You don't own the dataset {bees}"}


async def test_without_a_key_it_is_401(client: Client) -> None:
    response = await client.get("/api/v1/agents")
    assert response.status_code == 401 and response.json()["code"] == 401


async def test_an_agent_is_no_chat_and_survives_deleting_every_chat(client: Client, caller: Caller, bees: str) -> None:
    agent = await new_agent(client, caller, starter([bees]))
    chat = await call(client, caller, "POST", "/chats", json={"name": "a chat", "dataset_ids": [bees]})
    listed = await call(client, caller, "GET", "/chats")
    assert [row["id"] for row in listed["data"]["chats"]] == [chat["data"]["id"]]
    as_chat = await call(client, caller, "GET", f"/chats/{agent['id']}")
    assert as_chat["code"] != 0
    models = await client.get("/v1/models", headers=caller.headers)
    assert agent["id"] not in [model["id"] for model in models.json()["data"]]
    assert (await call(client, caller, "DELETE", "/chats", json={"delete_all": True}))["code"] == 0
    assert (await call(client, caller, "GET", f"/agents/{agent['id']}"))["data"]["id"] == agent["id"]
