"""Threads of a deployment: CRUD, pagination with total, and the one implicit thread of a QA deployment."""

from __future__ import annotations

from tests.api.opsbee.helpers import Client, call, error, new_chat_history, new_deployment, new_qa_history, new_thread
from tests.conftest import Caller

THREAD_KEYS = {"id", "organization_id", "deployment_id", "name", "description", "created_at", "updated_at"}


async def test_create_get_update_delete(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"], "A to B")
    assert set(thread) == THREAD_KEYS
    assert (thread["name"], thread["description"], thread["deployment_id"], thread["organization_id"]) == (
        "A to B", "A to B description", deployment["id"], caller.tenant_id,
    )  # fmt: skip
    path = f"/deployments/{deployment['id']}/threads/{thread['id']}"
    assert await call(client, caller, "GET", path) == thread
    updated = await call(client, caller, "PATCH", path, json={"name": "A to C", "description": ""})
    assert (updated["name"], updated["description"]) == ("A to C", "")
    assert "name" in await error(client, caller, "PATCH", path, 400, json={"name": ""})
    assert await call(client, caller, "DELETE", path) == {"message": f"thread {thread['id']} was deleted."}
    await error(client, caller, "GET", path, 404)


async def test_deleting_a_thread_deletes_its_histories(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    thread = await new_thread(client, caller, deployment["id"])
    await new_chat_history(client, caller, deployment["id"], thread["id"], "q", "a")
    await call(client, caller, "DELETE", f"/deployments/{deployment['id']}/threads/{thread['id']}")
    listed = await call(client, caller, "GET", f"/deployments/{deployment['id']}/histories")
    assert listed["total"] == 0 and listed["histories"] == []


async def test_list_paginates_with_total(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    for index in range(3):
        await new_thread(client, caller, deployment["id"], f"t{index}")
    path = f"/deployments/{deployment['id']}/threads"
    first = await call(client, caller, "GET", path + "?offset=0&limit=2&offset=0&limit=2")
    assert (first["organization_id"], first["deployment_id"]) == (caller.tenant_id, deployment["id"])
    assert (first["offset"], first["limit"], first["total"], first["has_next"], len(first["threads"])) == (
        0,
        2,
        3,
        True,
        2,
    )
    rest = await call(client, caller, "GET", path, params={"offset": 2, "limit": 2})
    assert (rest["total"], rest["has_next"], len(rest["threads"])) == (3, False, 1)


async def test_validation_and_ownership(client: Client, caller: Caller, other_caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    path = f"/deployments/{deployment['id']}/threads"
    assert "name" in await error(client, caller, "POST", path, 400, json={"description": "no name"})
    await error(client, caller, "POST", path, 400, json={"name": "x", "description": 5})
    theirs = await new_deployment(client, other_caller)
    their_thread = await new_thread(client, other_caller, theirs["id"])
    await error(client, caller, "GET", f"/deployments/{theirs['id']}/threads", 404)
    await error(client, caller, "GET", f"/deployments/{deployment['id']}/threads/{their_thread['id']}", 404)
    await error(client, caller, "GET", f"/deployments/{theirs['id']}/threads/{their_thread['id']}", 404)


async def test_qa_deployment_has_one_implicit_thread(client: Client, caller: Caller) -> None:
    deployment = await new_deployment(client, caller, "qa")
    empty = await call(client, caller, "GET", f"/deployments/{deployment['id']}/qa_histories")
    assert (empty["thread_id"], empty["thread_name"], empty["total"]) == (None, "", 0)
    first = await new_qa_history(client, caller, deployment["id"], "q1", "a1")
    second = await new_qa_history(client, caller, deployment["id"], "q2", "a2")
    assert first["thread_id"] == second["thread_id"] and first["thread_name"] == "QA thread"
    listed = await call(client, caller, "GET", f"/deployments/{deployment['id']}/qa_histories")
    assert (listed["thread_id"], listed["thread_name"], listed["total"]) == (first["thread_id"], "QA thread", 2)
    threads = await call(client, caller, "GET", f"/deployments/{deployment['id']}/threads")
    assert [thread["id"] for thread in threads["threads"]] == [first["thread_id"]]
