from __future__ import annotations

import itertools
import json

import pytest

from service.runtime import Runtime
from service.settings import LLMProvider
from tests.api.ragflow.chat_helpers import (
    NO_AUTH,
    ask_stream,
    chat_over_corpus,
    count_messages,
    message_rows,
    new_chat,
    new_session,
)
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller

DONE = {"code": 0, "message": "", "data": True}
CHUNK_FIELDS = {
    "id",
    "content",
    "document_id",
    "document_name",
    "dataset_id",
    "image_id",
    "positions",
    "url",
    "similarity",
    "vector_similarity",
    "term_similarity",
    "row_id",
    "doc_type",
    "document_metadata",
}


async def test_stream_deltas_final_and_terminator(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)
    question = {"role": "user", "content": "How do bees make honey?"}
    response = await client.post(
        "/api/v1/chat/completions", json={"chat_id": chat["id"], "messages": [question]}, headers=caller.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
    assert response.text.startswith('data:{"code": 0, "message": "", "data": {"answer": ')  # RAGFlow's exact bytes
    assert response.text.endswith('data:{"code": 0, "message": "", "data": true}\n\n')

    events = [json.loads(block.removeprefix("data:")) for block in response.text.split("\n\n") if block]
    assert events[-1] == DONE
    *deltas, final = [event["data"] for event in events[:-1]]
    assert len(deltas) > 3 and all(event["code"] == 0 and event["message"] == "" for event in events)
    session_id = final["session_id"]
    for delta in deltas:
        assert delta["final"] is False and delta["reference"] == {"chunks": []} and delta["audio_binary"] is None
        assert delta["session_id"] == session_id and delta["chat_id"] == chat["id"]
    assert final["final"] is True and final["answer"] == "" and final["chat_id"] == chat["id"]
    text = "".join(delta["answer"] for delta in deltas)
    assert "[ID:0]" in text and "Honey bees collect nectar" in text
    assert final["prompt"] and isinstance(final["created_at"], float)

    reference = final["reference"]
    assert reference["total"] == len(reference["chunks"]) >= 1
    top = reference["chunks"][0]
    assert set(top) == CHUNK_FIELDS and top["document_name"] == "bees.txt" and top["row_id"] == 0
    assert top["dataset_id"] == chat["dataset_ids"][0] and top["url"] is None and top["similarity"] > 0
    assert reference["doc_aggs"][0]["doc_name"] == "bees.txt"

    [row] = await message_rows(runtime, session_id)  # exactly one recorded turn, in the auto-created session
    assert row.id == final["id"] and row.output == text and row.channel == "ragflow" and row.status == "ok"
    assert row.input == "How do bees make honey?"
    session = (await call(client, caller, "GET", f"/chats/{chat['id']}/sessions/{session_id}"))["data"]
    assert session["name"] == "New session"
    assert [(m["role"], m.get("id"), m["content"]) for m in session["messages"][1:]] == [
        ("user", row.id, "How do bees make honey?"),
        ("assistant", row.id, text),
    ]


async def test_legacy_stream_is_cumulative(client: Client, caller: Caller) -> None:
    chat = await chat_over_corpus(client, caller)
    events = await ask_stream(
        client,
        caller,
        f"/chats/{chat['id']}/completions",
        {"question": "Why does iron rust?", "stream": True, "legacy": True},
    )
    assert events[-1] == DONE
    answers = [event["data"]["answer"] for event in events[:-1]]
    assert len(answers) > 3
    for before, after in itertools.pairwise(answers):
        assert after.startswith(before)
    assert answers[-1] == answers[-2] and "Iron rusts" in answers[-1]  # the final event repeats the full text
    assert events[-2]["data"]["final"] is True and events[-2]["data"]["reference"]["chunks"]


async def test_non_stream_shape(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)
    reply = await call(
        client, caller, "POST", f"/chats/{chat['id']}/completions", json={"question": "bees honey", "stream": False}
    )
    assert reply["code"] == 0 and reply["message"] == "success"
    data = reply["data"]
    assert set(data) == {
        "answer",
        "reference",
        "prompt",
        "created_at",
        "audio_binary",
        "id",
        "session_id",
        "chat_id",
    }
    assert "[ID:0]" in data["answer"] and data["audio_binary"] is None and data["chat_id"] == chat["id"]
    assert set(data["reference"]) == {"chunks", "doc_aggs"}
    assert data["reference"]["chunks"][0]["document_name"] == "bees.txt"
    [row] = await message_rows(runtime, data["session_id"])
    assert row.id == data["id"] and row.output == data["answer"]


async def test_multi_turn_in_one_session(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)
    session = await new_session(client, caller, chat["id"], name="talk")
    path = f"/chats/{chat['id']}/completions"
    before = await count_messages(runtime, chat["id"])
    first = await ask_stream(client, caller, path, {"question": "How do bees make honey?", "session_id": session["id"]})
    second = await ask_stream(client, caller, path, {"question": "What about iron?", "session_id": session["id"]})
    assert first[-2]["data"]["session_id"] == second[-2]["data"]["session_id"] == session["id"]
    assert await count_messages(runtime, chat["id"]) == before + 2  # one row per completion
    rows = await message_rows(runtime, session["id"])
    assert sorted(row.input for row in rows) == ["How do bees make honey?", "What about iron?"]
    shown = (await call(client, caller, "GET", f"/chats/{chat['id']}/sessions/{session['id']}"))["data"]
    assert [m["content"] for m in shown["messages"] if m["role"] == "user"] == [
        "How do bees make honey?",
        "What about iron?",
    ]
    assert len(shown["reference"]) == 2

    # the whole conversation from the client, through the new route
    third = await ask_stream(
        client,
        caller,
        "/chat/completions",
        {
            "chat_id": chat["id"],
            "session_id": session["id"],
            "pass_all_history_messages": True,
            "messages": [
                {"role": "system", "content": "ignored"},
                {"role": "assistant", "content": "Hi!"},
                {"role": "user", "content": "bees?"},
                {"role": "assistant", "content": "They make honey."},
                {"role": "user", "content": "And the queen?"},
            ],
        },
    )
    assert third[-1] == DONE and third[-2]["data"]["final"] is True
    assert await count_messages(runtime, chat["id"]) == before + 3


async def test_empty_response_when_nothing_matches(client: Client, caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)
    patched = await call(
        client,
        caller,
        "PATCH",
        f"/chats/{chat['id']}",
        json={"similarity_threshold": 0.99, "prompt_config": {"empty_response": "Nothing in the hive about that."}},
    )
    assert patched["code"] == 0, patched
    reply = await call(
        client,
        caller,
        "POST",
        "/chat/completions",
        json={"chat_id": chat["id"], "messages": [{"role": "user", "content": "bees"}], "stream": False},
    )
    assert reply["data"]["answer"] == "Nothing in the hive about that."
    assert reply["data"]["reference"]["chunks"] == []
    events = await ask_stream(client, caller, f"/chats/{chat['id']}/completions", {"question": "bees"})
    assert "".join(event["data"]["answer"] for event in events[:-1]) == "Nothing in the hive about that."


async def test_request_errors(client: Client, caller: Caller, other_caller: Caller, runtime: Runtime) -> None:
    chat = await chat_over_corpus(client, caller)

    async def complete(path: str = "/chat/completions", who: Caller = caller, **body: object) -> dict[str, object]:
        return await call(client, who, "POST", path, json=body)

    alias = f"/chats/{chat['id']}/completions"
    assert await complete(chat_id=chat["id"]) == {"code": 101, "message": "required argument are missing: messages"}
    assert (await complete(alias, stream=False))["message"] == "required argument are missing: messages"
    last_assistant = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert await complete(chat_id=chat["id"], messages=last_assistant) == {
        "code": 101,
        "message": "The last message must be from user.",
    }
    assert await complete(alias, question="bees", session_id="0" * 32) == {
        "code": 102,
        "message": "Session not found!",
    }
    assert await complete(alias, who=other_caller, question="bees") == NO_AUTH
    assert await complete(f"/chats/{'0' * 32}/completions", question="bees") == NO_AUTH
    assert (await complete(question="bees", session_id="abc"))["code"] == 102
    assert (await complete(alias, question="bees", llm_id="nope@Nowhere"))["message"] == (
        "`llm_id` nope@Nowhere doesn't exist"
    )
    sessions = await call(client, caller, "GET", f"/chats/{chat['id']}/sessions")
    assert sessions["data"] == []  # no rejected request left a session behind
    assert await count_messages(runtime, chat["id"]) == 0


async def test_upstream_error_streams_a_500_event(
    client: Client, caller: Caller, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(runtime.models.providers, "down", LLMProvider(base_url="http://127.0.0.1:9/v1"))
    chat = await new_chat(client, caller, "unreachable", llm_id="model@down")
    events = await ask_stream(client, caller, f"/chats/{chat['id']}/completions", {"question": "anything"})
    assert events[-1] == DONE
    error = events[-2]
    assert error["code"] == 500 and "unreachable" in error["message"]
    assert error["data"] == {"answer": f"**ERROR**: {error['message']}", "reference": []}
    [session] = (await call(client, caller, "GET", f"/chats/{chat['id']}/sessions"))["data"]
    [row] = await message_rows(runtime, session["id"])
    assert row.status == "error"  # the failed turn is recorded once, and shown as such
    assert session["messages"][-1]["content"] == f"**ERROR**: {row.error}"
    failed = await call(
        client, caller, "POST", f"/chats/{chat['id']}/completions", json={"question": "x", "stream": False}
    )
    assert failed["code"] == 102 and "unreachable" in failed["message"]
