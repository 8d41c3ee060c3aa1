from __future__ import annotations

from typing import Any

from service.runtime import Runtime
from tests.api.ragflow.chat_helpers import NO_AUTH, chat_over_corpus, message_rows, new_chat, new_session
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller

SESSION_FIELDS = {
    "id",
    "chat_id",
    "name",
    "user_id",
    "messages",
    "reference",
    "create_time",
    "create_date",
    "update_time",
    "update_date",
}
PROLOGUE = {"role": "assistant", "content": "Hi! I'm your assistant. What can I do for you?"}


async def ask(client: Client, caller: Caller, chat_id: str, session_id: str, question: str) -> dict[str, Any]:
    reply = await call(
        client,
        caller,
        "POST",
        f"/chats/{chat_id}/completions",
        json={"question": question, "stream": False, "session_id": session_id},
    )
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]


async def test_create_session(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await new_chat(client, caller, "with-sessions", prompt_config={"prologue": "Welcome!"})
    path = f"/chats/{chat['id']}/sessions"
    created = await call(client, caller, "POST", path)
    assert created["code"] == 0 and created["message"] == "success"
    session = created["data"]
    assert set(session) == SESSION_FIELDS
    assert session["name"] == "New session" and session["chat_id"] == chat["id"]
    assert session["user_id"] == caller.tenant_id
    assert session["messages"] == [{"role": "assistant", "content": "Welcome!"}] and session["reference"] == []
    named = await new_session(client, caller, chat["id"], name="  " + "n" * 300, user_id="end-user-7")
    assert named["name"] == "n" * 255 and named["user_id"] == "end-user-7"

    for blank in ("", "   ", None, 5):
        reply = await call(client, caller, "POST", path, json={"name": blank})
        assert reply == {"code": 102, "message": "`name` can not be empty."}, (blank, reply)
    assert await call(client, other_caller, "POST", path, json={"name": "x"}) == NO_AUTH
    assert await call(client, caller, "POST", f"/chats/{'0' * 32}/sessions", json={}) == NO_AUTH


async def test_list_filters_orders_pages(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await new_chat(client, caller, "listing")
    path = f"/chats/{chat['id']}/sessions"
    made = [
        await new_session(client, caller, chat["id"], name=name, user_id=user)
        for name, user in (("b", "u1"), ("c", "u2"), ("a", "u1"))
    ]

    async def names(**params: object) -> list[str]:
        reply = await call(client, caller, "GET", path, params=params)
        assert reply["code"] == 0 and isinstance(reply["data"], list), reply
        return [session["name"] for session in reply["data"]]

    assert await names() == ["a", "c", "b"]
    assert await names(desc="false") == ["b", "c", "a"]
    assert await names(orderby="name", desc="false") == ["a", "b", "c"]
    assert await names(orderby="name", page=2, page_size=2) == ["a"]
    assert await names(name="c") == ["c"]
    assert await names(id=made[0]["id"]) == ["b"]
    assert await names(user_id="u1") == ["a", "b"]
    assert await names(page_size=0) == ["a", "c", "b"]  # RAGFlow 0.27: a size below 1 is the default 30
    assert (await call(client, caller, "GET", path, params={"orderby": "size"}))["code"] == 101
    assert await call(client, other_caller, "GET", path) == NO_AUTH


async def test_get_update_and_delete(client: Client, caller: Caller, other_caller: Caller) -> None:
    chat = await new_chat(client, caller, "crud", icon="bee.png")
    path = f"/chats/{chat['id']}/sessions"
    session = await new_session(client, caller, chat["id"], name="first")
    one = await call(client, caller, "GET", f"{path}/{session['id']}")
    assert one["data"] == {**session, "avatar": "bee.png"}
    assert await call(client, caller, "GET", f"{path}/{'0' * 32}") == {"code": 102, "message": "Session not found!"}
    elsewhere = await new_chat(client, caller, "elsewhere")
    assert (await call(client, caller, "GET", f"/chats/{elsewhere['id']}/sessions/{session['id']}"))["code"] == 102
    assert await call(client, other_caller, "GET", f"{path}/{session['id']}") == NO_AUTH

    renamed = await call(client, caller, "PATCH", f"{path}/{session['id']}", json={"name": "renamed"})
    assert renamed["code"] == 0 and renamed["data"]["name"] == "renamed"
    aliased = await call(client, caller, "PUT", f"{path}/{session['id']}", json={"name": "via put"})
    assert aliased["data"]["name"] == "via put"
    for field in ("messages", "reference"):
        frozen = await call(client, caller, "PATCH", f"{path}/{session['id']}", json={field: []})
        assert frozen == {"code": 102, "message": "`messages` cannot be changed"}
    blank = await call(client, caller, "PATCH", f"{path}/{session['id']}", json={"name": " "})
    assert blank == {"code": 102, "message": "`name` can not be empty."}
    unknown = await call(client, caller, "PATCH", f"{path}/{'0' * 32}", json={"name": "x"})
    assert unknown == {"code": 102, "message": "Session not found!"}
    assert await call(client, other_caller, "PATCH", f"{path}/{session['id']}", json={"name": "x"}) == NO_AUTH

    second, third = [await new_session(client, caller, chat["id"]) for _ in range(2)]
    foreign = await new_session(client, caller, elsewhere["id"])
    # RAGFlow v0.27 deletes the chat's sessions and reports the others (code 0 once any was deleted)
    partial = await call(client, caller, "DELETE", path, json={"ids": [second["id"], foreign["id"]]})
    assert partial == {
        "code": 0,
        "message": "Partially deleted 1 sessions with 1 errors",
        "data": {"success_count": 1, "errors": [f"The chat doesn't own the session {foreign['id']}"]},
    }
    refused = await call(client, caller, "DELETE", path, json={"ids": [foreign["id"]]})
    assert refused == {"code": 102, "message": f"The chat doesn't own the session {foreign['id']}"}
    gone = await call(client, caller, "DELETE", path, json={"ids": [third["id"]]})
    assert gone == {"code": 0, "message": "success", "data": True}
    assert (await call(client, caller, "DELETE", path))["data"] == {}
    assert await call(client, other_caller, "DELETE", path, json={"delete_all": True}) == NO_AUTH
    listed = await call(client, caller, "GET", path)
    assert {s["id"] for s in listed["data"]} == {session["id"]}
    assert (await call(client, caller, "DELETE", path, json={"delete_all": True}))["data"] is True
    assert (await call(client, caller, "GET", path))["data"] == []
    assert len((await call(client, caller, "GET", f"/chats/{elsewhere['id']}/sessions"))["data"]) == 1


async def test_messages_delete_and_feedback(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)
    session = await new_session(client, caller, chat["id"])
    path = f"/chats/{chat['id']}/sessions/{session['id']}"
    first = await ask(client, caller, chat["id"], session["id"], "How do bees make honey?")
    second = await ask(client, caller, chat["id"], session["id"], "Why does iron rust?")

    shown = (await call(client, caller, "GET", path))["data"]
    messages = shown["messages"]
    assert messages[0] == PROLOGUE and len(messages) == 5
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["content"] == "How do bees make honey?" and messages[1]["id"] == first["id"]
    assert messages[2]["id"] == first["id"] and messages[2]["content"] == first["answer"]
    assert messages[2]["reference"] == first["reference"]["chunks"]
    assert messages[3]["id"] == messages[4]["id"] == second["id"]
    assert isinstance(messages[1]["created_at"], float)
    assert shown["reference"] == [first["reference"], second["reference"]]

    liked = await call(client, caller, "PUT", f"{path}/messages/{second['id']}/feedback", json={"thumbup": True})
    assert liked["code"] == 0 and liked["data"]["messages"][4]["thumbup"] is True
    disliked = await call(
        client,
        caller,
        "PUT",
        f"{path}/messages/{first['id']}/feedback",
        json={"thumbup": False, "feedback": "too short"},
    )
    answer = disliked["data"]["messages"][2]
    assert answer["thumbup"] is False and answer["feedback"] == "too short"
    rows = {row.id: row for row in await message_rows(runtime, session["id"])}
    assert rows[first["id"]].thumbup is False and rows[first["id"]].feedback == "too short"
    assert rows[second["id"]].thumbup is True
    bad = await call(client, caller, "PUT", f"{path}/messages/{first['id']}/feedback", json={"thumbup": "yes"})
    assert bad["code"] == 101

    after = await call(client, caller, "DELETE", f"{path}/messages/{first['id']}")
    assert after["code"] == 0
    assert [m.get("id") for m in after["data"]["messages"]] == [None, second["id"], second["id"]]
    assert after["data"]["reference"] == [second["reference"]]
    again = await call(client, caller, "DELETE", f"{path}/messages/{first['id']}")
    assert again["code"] == 102
    rows = {row.id: row for row in await message_rows(runtime, session["id"])}
    assert rows[first["id"]].deleted_at is not None  # hidden from the session, kept for the LLMOps history
