"""`/api/v1/agents/{agent_id}/sessions`: an agent's sessions, with the Begin prologue and the recorded turns."""

from __future__ import annotations

from tests.api.ragflow.agent_helpers import new_agent
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller
from tests.domain.agents.dsls import kb_qa

NO_ACCESS = {"code": 103, "message": "Make sure you have permission to access the agent.", "data": False}


async def test_a_new_session_opens_with_the_prologue(client: Client, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([], prologue="Ask me about bees."))

    body = await call(client, caller, "POST", f"/agents/{agent['id']}/sessions", json={})

    assert body["code"] == 0
    session = body["data"]
    assert session["agent_id"] == agent["id"] and session["source"] == "agent"
    assert session["message"] == [{"role": "assistant", "content": "Ask me about bees."}]
    assert session["user_id"] == caller.tenant_id and session["dsl"] == agent["dsl"]
    read = await call(client, caller, "GET", f"/agents/{agent['id']}/sessions/{session['id']}")
    assert read["data"]["id"] == session["id"] and read["data"]["message"] == session["message"]


async def test_list_pages_filters_and_can_leave_out_the_dsl(client: Client, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    path = f"/agents/{agent['id']}/sessions"
    made = [(await call(client, caller, "POST", path, json={"user_id": f"u{n}"}))["data"]["id"] for n in range(3)]

    page = await call(client, caller, "GET", path, params={"page_size": 2, "orderby": "create_time"})
    assert page["total"] == 3 and [s["id"] for s in page["data"]] == made[::-1][:2]
    assert page["message"] == "success"
    lean = await call(client, caller, "GET", path, params={"user_id": "u1", "dsl": "false"})
    assert [s["id"] for s in lean["data"]] == [made[1]] and "dsl" not in lean["data"][0]
    by_id = await call(client, caller, "GET", path, params={"id": made[2]})
    assert [s["id"] for s in by_id["data"]] == [made[2]]


async def test_delete_sessions_by_id_and_all(client: Client, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    path = f"/agents/{agent['id']}/sessions"
    first, second, third = [(await call(client, caller, "POST", path))["data"]["id"] for _ in range(3)]

    assert await call(client, caller, "DELETE", f"{path}/{first}") == {"code": 0, "message": "success", "data": True}
    partial = await call(client, caller, "DELETE", path, json={"ids": [second, "nope"]})
    assert partial["code"] == 0 and partial["data"]["errors"] == ["The agent doesn't own the session nope"]
    refused = await call(client, caller, "DELETE", path, json={"ids": ["nope"]})
    assert refused == {"code": 102, "message": "The agent doesn't own the session nope"}
    assert await call(client, caller, "DELETE", path, json={}) == {"code": 0}
    assert (await call(client, caller, "GET", path))["total"] == 1
    assert await call(client, caller, "DELETE", path, json={"delete_all": True}) == {"code": 0}
    assert (await call(client, caller, "GET", path))["total"] == 0
    missing = await call(client, caller, "GET", f"{path}/{third}")
    assert missing == {"code": 102, "message": "Session not found!"}


async def test_another_tenants_agent_has_no_sessions_to_give(
    client: Client, caller: Caller, other_caller: Caller
) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    path = f"/agents/{agent['id']}/sessions"
    session = (await call(client, caller, "POST", path))["data"]

    assert await call(client, other_caller, "POST", path) == NO_ACCESS
    assert await call(client, other_caller, "GET", path) == NO_ACCESS
    assert await call(client, other_caller, "GET", f"{path}/{session['id']}") == NO_ACCESS
    assert await call(client, other_caller, "DELETE", path, json={"delete_all": True}) == NO_ACCESS
    assert (await call(client, caller, "GET", path))["total"] == 1


async def test_a_session_of_another_agent_is_refused(client: Client, caller: Caller) -> None:
    one = await new_agent(client, caller, kb_qa([]), "one")
    two = await new_agent(client, caller, kb_qa([]), "two")
    session = (await call(client, caller, "POST", f"/agents/{one['id']}/sessions"))["data"]

    refused = await call(client, caller, "GET", f"/agents/{two['id']}/sessions/{session['id']}")

    assert refused == {"code": 103, "message": "Session does not belong to the requested agent.", "data": False}


async def test_bad_session_bodies_are_refused(client: Client, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    path = f"/agents/{agent['id']}/sessions"
    assert (await call(client, caller, "POST", path, json={"name": 5}))["code"] == 101
    assert (await call(client, caller, "DELETE", path, json={"ids": "x"}))["code"] == 101
    assert (await call(client, caller, "GET", path, params={"orderby": "x"}))["code"] == 101
    nul = await call(client, caller, "POST", path, json={"user_id": "a\x00b"})
    assert nul == {"code": 101, "message": "Text may not contain the NUL character (U+0000)"}
