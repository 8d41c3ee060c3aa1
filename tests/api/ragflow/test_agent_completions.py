"""Talking to an agent: `/agents/chat/completions` (stream, non-stream, openai-compatible) and the deprecated
`/agents/{agent_id}/completions`; every turn recorded in its session."""

from __future__ import annotations

from typing import Any

import pytest

from service.runtime import Runtime
from tests.api.opsbee.helpers import org_path
from tests.api.ragflow.agent_helpers import bees_dataset, events_of, new_agent
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller
from tests.domain.agents.conftest import rows
from tests.domain.agents.dsls import component, kb_qa, starter

COMPLETIONS = "/agents/chat/completions"
EVENTS = ["workflow_started", "node_started", "node_finished", "node_started", "node_finished", "node_started"]


@pytest.fixture
async def bees(client: Client, caller: Caller) -> str:
    return await bees_dataset(client, caller)


async def stream(client: Client, caller: Caller, path: str, body: dict[str, Any]) -> list[Any]:
    response = await client.post("/api/v1" + path, headers=caller.headers, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text.startswith("data:{")  # RAGFlow: no space after `data:`
    return events_of(response.text)


async def test_the_starter_template_streams_rag_flows_events(
    client: Client, caller: Caller, runtime: Runtime, bees: str
) -> None:
    agent = await new_agent(client, caller, starter([bees]))

    events = await stream(client, caller, COMPLETIONS, {"agent_id": agent["id"], "query": "How warm is the hive?"})

    assert events[-1] == "[DONE]"
    names = [event["event"] for event in events[:-1]]
    assert names[:6] == EVENTS and names[-2:] == ["node_finished", "workflow_finished"]
    assert names.count("message_end") == 1 and names.index("message") < names.index("message_end")
    session_id = events[0]["session_id"]
    for event in events[:-1]:
        assert event["task_id"] == agent["id"] and event["session_id"] == session_id
        assert event["message_id"] == events[0]["message_id"] and isinstance(event["created_at"], int)
    text = "".join(event["data"]["content"] for event in events[:-1] if event["event"] == "message")
    assert "35 degrees" in text and "[ID:0]" in text
    [end] = [event for event in events[:-1] if event["event"] == "message_end"]
    top = end["data"]["reference"]["chunks"][0]
    assert top["document_name"] == "bees.txt" and top["row_id"] == 0 and top["dataset_id"] == bees
    assert end["data"]["reference"]["doc_aggs"][0]["doc_name"] == "bees.txt"
    [row] = await rows(runtime, agent["id"])
    assert (row.id, row.session_id, row.channel, row.output) == (events[0]["message_id"], session_id, "ragflow", text)
    session = await call(client, caller, "GET", f"/agents/{agent['id']}/sessions/{session_id}")
    user, answer = session["data"]["message"][1:]
    assert (user["role"], user["content"], answer["content"]) == ("user", "How warm is the hive?", text)
    assert answer["reference"][0]["document_name"] == "bees.txt"


async def test_non_stream_answers_with_the_last_event_holding_the_whole_answer(
    client: Client, caller: Caller, bees: str
) -> None:
    agent = await new_agent(client, caller, kb_qa([bees]))
    body = {"agent_id": agent["id"], "query": "How is honey made?", "stream": False, "return_trace": True}

    reply = await call(client, caller, "POST", COMPLETIONS, json=body)

    assert reply["code"] == 0
    answer = reply["data"]
    assert answer["event"] == "workflow_finished" and answer["task_id"] == agent["id"]
    assert "evaporation and enzymes" in answer["data"]["content"]
    assert answer["data"]["reference"]["chunks"][0]["document_name"] == "bees.txt"
    assert [step["component_id"] for step in answer["data"]["trace"]] == [
        "begin",
        "Retrieval:Bees",
        "LLM:Answer",
        "Message:Reply",
    ]
    session = await call(client, caller, "GET", f"/agents/{agent['id']}/sessions/{answer['session_id']}")
    assert session["data"]["message"][2]["id"] == answer["message_id"]


async def test_a_session_continues_with_its_history(client: Client, caller: Caller, bees: str) -> None:
    agent = await new_agent(client, caller, kb_qa([bees], llm_id="echo@echo"))
    session = (await call(client, caller, "POST", f"/agents/{agent['id']}/sessions"))["data"]
    body = {"agent_id": agent["id"], "session_id": session["id"], "stream": False}

    first = await call(client, caller, "POST", COMPLETIONS, json={**body, "query": "one"})
    second = await call(client, caller, "POST", COMPLETIONS, json={**body, "query": "two"})

    assert first["data"]["data"]["content"] == "echo: one" and second["data"]["session_id"] == session["id"]
    listed = await call(client, caller, "GET", f"/agents/{agent['id']}/sessions")
    assert [m["content"] for m in listed["data"][0]["message"][1:]] == ["one", "echo: one", "two", "echo: two"]


async def test_the_deprecated_route_takes_the_agent_from_the_path(client: Client, caller: Caller) -> None:
    dsl = {
        "components": {
            "begin": component("Begin", {}, ["M"], []),
            "M": component("Message", {"content": "hi {sys.query}"}, [], []),
        }
    }
    agent = await new_agent(client, caller, dsl)

    reply = await call(
        client, caller, "POST", f"/agents/{agent['id']}/completions", json={"question": "you", "stream": False}
    )

    assert reply["data"]["data"]["content"] == "hi you" and reply["data"]["data"]["reference"] == {}


async def test_begin_inputs_come_from_the_body(client: Client, caller: Caller) -> None:
    inputs = {"who": {"name": "who", "type": "line", "optional": False, "value": None}}
    dsl = {
        "components": {
            "begin": component("Begin", {"inputs": inputs}, ["M"], []),
            "M": component("Message", {"content": ["Hello {begin@who}"]}, [], []),
        }
    }
    agent = await new_agent(client, caller, dsl)
    body = {"agent_id": agent["id"], "query": "", "stream": False}

    given = await call(
        client, caller, "POST", COMPLETIONS, json={**body, "inputs": {"who": {"type": "line", "value": "Ada"}}}
    )
    missing = await call(client, caller, "POST", COMPLETIONS, json=body)

    assert given["data"]["data"]["content"] == "Hello Ada"
    assert missing == {"code": 101, "message": "The input `who` of the Begin component is required."}
    listed = await call(client, caller, "GET", f"/agents/{agent['id']}/sessions")
    assert listed["total"] == 1  # the refused turn made no session


async def test_openai_compatible_mode(client: Client, caller: Caller, bees: str) -> None:
    agent = await new_agent(client, caller, kb_qa([bees]))
    body = {"agent_id": agent["id"], "openai-compatible": True, "messages": [{"role": "user", "content": "honey?"}]}

    whole = await call(client, caller, "POST", COMPLETIONS, json=body)
    events = await stream(client, caller, COMPLETIONS, {**body, "stream": True})

    assert whole["object"] == "chat.completion" and whole["model"] == agent["id"]
    assert "evaporation" in whole["choices"][0]["message"]["content"]
    assert whole["usage"]["total_tokens"] == whole["usage"]["prompt_tokens"] + whole["usage"]["completion_tokens"] > 0
    assert events[-1] == "[DONE]" and all(e["object"] == "chat.completion.chunk" for e in events[:-1])
    text = "".join(e["choices"][0]["delta"]["content"] for e in events[:-1])
    assert text == whole["choices"][0]["message"]["content"]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"][0]["delta"]["reference"]["chunks"][0]["document_name"] == "bees.txt"


async def test_an_upstream_failure_mid_run(client: Client, caller: Caller, runtime: Runtime, bees: str) -> None:
    agent = await new_agent(client, caller, kb_qa([bees], llm_id="cut@echo"))
    body = {"agent_id": agent["id"], "query": "How is honey made?"}

    events = await stream(client, caller, COMPLETIONS, body)
    whole = await call(client, caller, "POST", COMPLETIONS, json={**body, "stream": False})

    assert events[-1] == "[DONE]" and events[-2]["code"] == 500 and events[-2]["data"] is False
    assert "stream broke off" in events[-2]["message"]
    failed = [e for e in events[:-2] if e.get("event") == "node_finished" and e["data"]["error"]]
    assert [e["data"]["component_id"] for e in failed] == ["Message:Reply"]
    assert whole["code"] == 0 and whole["data"].startswith("**ERROR**: LLM cut@echo stream broke off")
    assert [row.status for row in await rows(runtime, agent["id"])] == ["error", "error"]


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ({"query": "hi"}, {"code": 101, "message": "`agent_id` is required."}),
        ({"agent_id": ["x"]}, {"code": 101, "message": "`agent_id` should be a string."}),
        ({"agent_id": "AGENT", "query": 5}, {"code": 101, "message": "`query` should be a string."}),
        (
            {"agent_id": "AGENT", "inputs": [1]},
            {"code": 101, "message": "`inputs` should be an object of {key: {type, value}}."},
        ),
        ({"agent_id": "AGENT", "session_id": "nope"}, {"code": 102, "message": "Session not found!"}),
        (
            {"agent_id": "AGENT", "openai-compatible": True},
            {"code": 102, "message": "You must provide at least one message."},
        ),
    ],
)
async def test_refusals(client: Client, caller: Caller, body: dict[str, Any], reply: dict[str, Any]) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    body = {**body, "agent_id": agent["id"]} if body.get("agent_id") == "AGENT" else body
    assert await call(client, caller, "POST", COMPLETIONS, json=body) == reply


async def test_another_tenants_agent_cannot_be_asked(client: Client, caller: Caller, other_caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    reply = await call(client, other_caller, "POST", COMPLETIONS, json={"agent_id": agent["id"], "query": "hi"})
    assert reply == {"code": 103, "message": "Make sure you have permission to access the agent.", "data": False}


async def test_agent_turns_are_opsbee_histories_of_the_agent(client: Client, caller: Caller, bees: str) -> None:
    agent = await new_agent(client, caller, kb_qa([bees]))
    body = {"agent_id": agent["id"], "query": "How is honey made?", "stream": False}
    answer = (await call(client, caller, "POST", COMPLETIONS, json=body))["data"]

    response = await client.get(org_path(caller, f"/deployments/{agent['id']}/histories"), headers=caller.headers)

    assert response.status_code == 200, response.text
    listed = response.json()
    assert listed["total"] == 1
    [history] = listed["histories"]
    assert history["id"] == answer["message_id"] and history["input_text"] == "How is honey made?"
    assert history["output_text"] == answer["data"]["content"] and history["thread_id"] == answer["session_id"]
