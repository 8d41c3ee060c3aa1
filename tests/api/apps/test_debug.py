"""The debug chat: blocking and SSE answers, draft vs published, the dialog window, long-term memory."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from service.db.models import ChatSession, Message
from service.runtime import Runtime
from tests.api.apps.helpers import ECHO, Client, call, debug, echo_app, new_app, sse_events, success
from tests.conftest import Caller
from tests.support.upstream import UpstreamProcess

RECORD_FIELDS = {
    "id",
    "conversation_id",
    "query",
    "answer",
    "answer_tokens",
    "response_latency",
    "status",
    "updated_at",
    "created_at",
}


def sent_for(upstream: UpstreamProcess, marker: str) -> dict[str, Any]:
    """The one request body the echo upstream got whose last message carries `marker`."""
    bodies = [body for body in upstream.received() if marker in body["messages"][-1]["content"]]
    assert len(bodies) == 1, bodies
    return bodies[0]


def user_turns(body: dict[str, Any]) -> list[str]:
    return [message["content"] for message in body["messages"] if message["role"] == "user"]


async def test_debug_answers_and_records(client: Client, caller: Caller) -> None:
    app = await echo_app(client, caller)
    first = await debug(client, caller, app["id"], "what is an LLM")
    assert set(first) == RECORD_FIELDS and first["query"] == "what is an LLM"
    assert first["answer"] == "echo: what is an LLM" and first["answer_tokens"] == 5 and first["status"] == "ok"
    assert first["response_latency"] > 0 and isinstance(first["created_at"], int)
    second = await debug(client, caller, app["id"], "and then")
    assert second["conversation_id"] == first["conversation_id"] and second["id"] != first["id"]
    shown = await success(client, caller, "GET", f"/{app['id']}")
    assert shown["debug_conversation_id"] == first["conversation_id"]
    listed = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert listed["list"] == [second, first]  # newest first, the same records


async def test_debug_validation(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller)
    for body, field in [
        ({}, "query"),
        ({"query": " "}, "query"),
        ({"query": 3}, "query"),
        ({"query": "x", "stream": "yes"}, "stream"),
    ]:
        reply = await call(client, caller, "POST", f"/{app['id']}/debug", json=body)
        assert reply["code"] == "validate_error" and list(reply["data"]) == [field], reply


async def test_debug_stream_events(client: Client, caller: Caller) -> None:
    app = await echo_app(client, caller)
    response = await client.post(
        f"/apps/{app['id']}/debug", json={"query": "tell me about bees", "stream": True}, headers=caller.headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    *deltas, end = sse_events(response.text)
    assert len(deltas) > 1 and {event["event"] for event in deltas} == {"agent_message"}
    assert end["event"] == "message_end" and set(end) == RECORD_FIELDS | {"event"}
    assert {(event["id"], event["conversation_id"]) for event in deltas} == {(end["id"], end["conversation_id"])}
    assert "".join(event["answer"] for event in deltas) == end["answer"] == "echo: tell me about bees"
    listed = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert listed["list"] == [{key: value for key, value in end.items() if key != "event"}]


async def test_debug_stream_reports_an_upstream_failure(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller, model_config={"llm_id": "fail-500@echo"})
    response = await client.post(
        f"/apps/{app['id']}/debug", json={"query": "hi", "stream": True}, headers=caller.headers
    )
    (event,) = sse_events(response.text)
    assert event["event"] == "error" and event["message"] and event["conversation_id"]
    reply = await call(client, caller, "POST", f"/{app['id']}/debug", json={"query": "hi"})
    assert reply["code"] == "fail" and reply["message"]
    listed = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert listed["list"] == []  # failed turns are recorded, not shown


async def test_unpublished_app_answers_in_debug_only(client: Client, caller: Caller, upstream: UpstreamProcess) -> None:
    app = await echo_app(client, caller, "shy")
    body = {"question": "hello", "stream": False}
    reply = (await client.post(f"/api/v1/chats/{app['id']}/completions", json=body, headers=caller.headers)).json()
    assert reply["code"] == 102 and "not published" in reply["message"], reply
    assert (await debug(client, caller, app["id"], "hello"))["answer"] == "echo: hello"

    await success(client, caller, "POST", f"/{app['id']}/publish")
    await success(
        client, caller, "POST", f"/{app['id']}/config", json={"model_config": {"llm_id": "echo-nousage@echo"}}
    )
    public, draft = f"public {uuid.uuid4().hex}", f"draft {uuid.uuid4().hex}"
    body = {"question": public, "stream": False}
    reply = (await client.post(f"/api/v1/chats/{app['id']}/completions", json=body, headers=caller.headers)).json()
    assert reply["code"] == 0 and reply["data"]["answer"] == f"echo: {public}", reply
    await debug(client, caller, app["id"], draft)
    assert sent_for(upstream, public)["model"] == "echo"  # the published config
    assert sent_for(upstream, draft)["model"] == "echo-nousage"  # the draft


async def test_dialog_round_decides_the_window(client: Client, caller: Caller, upstream: UpstreamProcess) -> None:
    app = await echo_app(client, caller, "window", dialog_round=3)
    run = uuid.uuid4().hex
    for turn in range(4):
        await debug(client, caller, app["id"], f"turn {turn} {run}")
    await debug(client, caller, app["id"], f"three {run}")
    assert user_turns(sent_for(upstream, f"three {run}")) == [f"turn {n} {run}" for n in (1, 2, 3)] + [f"three {run}"]

    await success(client, caller, "POST", f"/{app['id']}/config", json={"model_config": {"dialog_round": 0}})
    await debug(client, caller, app["id"], f"zero {run}")
    assert user_turns(sent_for(upstream, f"zero {run}")) == [f"zero {run}"]


async def test_deleted_message_leaves_list_and_window(
    client: Client, caller: Caller, upstream: UpstreamProcess
) -> None:
    app = await echo_app(client, caller, "forgetful", dialog_round=2)
    run = uuid.uuid4().hex
    kept = await debug(client, caller, app["id"], f"keep {run}")
    dropped = await debug(client, caller, app["id"], f"drop {run}")
    reply = await call(client, caller, "POST", f"/{app['id']}/messages/{dropped['id']}/delete")
    assert reply == {"code": "success", "data": {}, "message": "删除调试信息成功"}
    assert (await success(client, caller, "GET", f"/{app['id']}/messages"))["list"] == [kept]
    await debug(client, caller, app["id"], f"after {run}")
    assert user_turns(sent_for(upstream, f"after {run}")) == [f"keep {run}", f"after {run}"]
    again = await call(client, caller, "POST", f"/{app['id']}/messages/{dropped['id']}/delete")
    assert again["code"] == "not_found"


async def test_delete_needs_the_app_and_message_to_match(client: Client, caller: Caller) -> None:
    app, other = await echo_app(client, caller, "one"), await echo_app(client, caller, "two")
    message = await debug(client, caller, app["id"], "mine")
    reply = await call(client, caller, "POST", f"/{other['id']}/messages/{message['id']}/delete")
    assert reply["code"] == "not_found"
    fresh = await new_app(client, caller, "never debugged")
    assert (await call(client, caller, "POST", f"/{fresh['id']}/messages/{message['id']}/delete"))[
        "code"
    ] == "not_found"
    assert (await call(client, caller, "POST", f"/{app['id']}/messages/nope/delete"))["code"] == "not_found"
    assert (await success(client, caller, "GET", f"/{app['id']}/messages"))["list"] == [message]  # untouched


async def test_delete_ignores_messages_outside_the_debug_conversation(client: Client, caller: Caller) -> None:
    app = await echo_app(client, caller, "two faces")
    await debug(client, caller, app["id"], "debug turn")
    await success(client, caller, "POST", f"/{app['id']}/publish")
    body = {"question": "public turn", "stream": False}
    reply = (await client.post(f"/api/v1/chats/{app['id']}/completions", json=body, headers=caller.headers)).json()
    public_id = reply["data"]["id"]
    assert (await call(client, caller, "POST", f"/{app['id']}/messages/{public_id}/delete"))["code"] == "not_found"
    listed = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert [row["query"] for row in listed["list"]] == ["debug turn"]  # only the debug conversation is listed


async def test_memory_endpoints_follow_the_draft_switch(client: Client, caller: Caller, runtime: Runtime) -> None:
    app = await new_app(client, caller, "memo")
    path = f"/{app['id']}/long-term-memory"
    for method, body in (("GET", None), ("POST", {"summary": "x"})):
        reply = await call(client, caller, method, path, json=body)
        assert reply["code"] == "fail" and "not enabled" in reply["message"], reply

    await success(client, caller, "POST", f"/{app['id']}/config", json={"memory_mode": "long_term_memory"})
    assert await success(client, caller, "GET", path) == {"summary": ""}
    reply = await call(client, caller, "POST", path, json={"summary": "The human is called Mu and plays basketball."})
    assert reply == {"code": "success", "data": {}, "message": "更新AI应用长记忆成功"}
    assert await success(client, caller, "GET", path) == {"summary": "The human is called Mu and plays basketball."}
    assert await success(client, caller, "GET", f"/{app['id']}/summary") == await success(client, caller, "GET", path)
    session_id = (await success(client, caller, "GET", f"/{app['id']}"))["debug_conversation_id"]
    async with runtime.sessions() as db:
        session = await db.get(ChatSession, session_id)
        assert session is not None and session.summary.startswith("The human is called Mu")
    reply = await call(client, caller, "POST", path, json={"summary": 5})
    assert reply["code"] == "validate_error" and list(reply["data"]) == ["summary"]

    await success(client, caller, "POST", f"/{app['id']}/config", json={"memory_mode": "none"})
    assert (await call(client, caller, "GET", path))["code"] == "fail"


async def test_message_pages(client: Client, caller: Caller, runtime: Runtime) -> None:
    app = await echo_app(client, caller, "chatty")
    first = await debug(client, caller, app["id"], "q0")
    start = datetime.now(UTC)
    async with runtime.sessions() as db:  # 24 more turns, recorded straight into the debug conversation
        for n in range(1, 25):
            at = start + timedelta(seconds=n)
            db.add(Message(tenant_id=caller.tenant_id, assistant_id=app["id"], session_id=first["conversation_id"],
                           channel="apps", input=f"q{n}", output=f"a{n}", created_at=at))  # fmt: skip
        await db.commit()
    path = f"/{app['id']}/messages"
    page = await success(client, caller, "GET", path)
    assert [row["query"] for row in page["list"]] == [f"q{n}" for n in range(24, 4, -1)]
    assert page["paginator"] == {"current_page": 1, "page_size": 20, "total_page": 2, "total_record": 25}
    page = await success(client, caller, "GET", path, params={"current_page": 2})
    assert [row["query"] for row in page["list"]] == ["q4", "q3", "q2", "q1", "q0"]
    page = await success(client, caller, "GET", path, params={"current_page": 3, "page_size": 10})
    assert [row["query"] for row in page["list"]] == ["q4", "q3", "q2", "q1", "q0"]
    assert page["paginator"] == {"current_page": 3, "page_size": 10, "total_page": 3, "total_record": 25}
    past = await success(client, caller, "GET", path, params={"current_page": 4, "page_size": 10})
    assert past["list"] == [] and past["paginator"]["total_record"] == 25
    huge = await success(client, caller, "GET", path, params={"page_size": 10_000})
    assert len(huge["list"]) == 20 and huge["paginator"]["page_size"] == 20  # the seed: at most 20 per page
    for params in (
        {"page_size": 0},
        {"page_size": -1},
        {"page_size": "ten"},
        {"current_page": 0},
        {"current_page": -2},
    ):
        reply = await call(client, caller, "GET", path, params=params)
        assert reply["code"] == "validate_error" and list(reply["data"]) == list(params), reply


async def test_never_debugged_app_has_no_messages(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller, "quiet")
    page = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert page == {"list": [], "paginator": {"current_page": 1, "page_size": 20, "total_page": 0, "total_record": 0}}


async def test_a_chat_published_elsewhere_debugs_with_its_published_config(client: Client, caller: Caller) -> None:
    chat = (
        await client.post("/api/v1/chats", json={"name": "ragflow chat", "llm_id": ECHO}, headers=caller.headers)
    ).json()
    app_id = chat["data"]["id"]
    shown = await success(client, caller, "GET", f"/{app_id}")
    assert shown["drafted_app_config"] is None and shown["published_app_config"]["model_config"]["llm_id"] == ECHO
    assert (await debug(client, caller, app_id, "hi"))["answer"] == "echo: hi"  # no draft: the published config
    reply = await call(client, caller, "POST", f"/{app_id}/publish")
    assert reply["code"] == "fail" and "no draft" in reply["message"]
    await success(client, caller, "POST", f"/{app_id}/cancel-publish")
    shown = await success(client, caller, "GET", f"/{app_id}")
    assert shown["published_app_config"] is None and shown["drafted_app_config"]["model_config"]["llm_id"] == ECHO
    assert (await debug(client, caller, app_id, "still"))["answer"] == "echo: still"


async def test_concurrent_first_debug_calls_share_one_conversation(client: Client, caller: Caller) -> None:
    app = await echo_app(client, caller, "race")
    answers = await asyncio.gather(*(debug(client, caller, app["id"], f"q{n}") for n in range(4)))
    assert len({answer["conversation_id"] for answer in answers}) == 1
    listed = await success(client, caller, "GET", f"/{app['id']}/messages")
    assert listed["paginator"]["total_record"] == 4


async def test_memory_on_keeps_a_summary_of_debug_turns(client: Client, caller: Caller) -> None:
    app = await new_app(client, caller, "remembers")  # nectar-extractive: a deterministic extractive summary
    await success(client, caller, "POST", f"/{app['id']}/config", json={"memory_mode": "long_term_memory"})
    marker = uuid.uuid4().hex
    await debug(client, caller, app["id"], f"My favourite colour is teal {marker}.")

    summary = ""
    for _ in range(200):  # the summary is written by a queued job, after the answer
        summary = (await success(client, caller, "GET", f"/{app['id']}/long-term-memory"))["summary"]
        if marker in summary:
            break
        await asyncio.sleep(0.1)
    assert summary.startswith("- Asked: My favourite colour is teal") and marker in summary
