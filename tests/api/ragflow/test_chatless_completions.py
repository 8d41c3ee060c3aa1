"""RAGFlow's chat-less `POST /chat/completions`: no `chat_id`, the server's default model, no session."""

from __future__ import annotations

from sqlalchemy import select

from service.db.models import Message
from service.runtime import Runtime
from tests.api.ragflow.chat_helpers import ask_stream, chat_over_corpus, parsed_dataset
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller

HELLO = [{"role": "user", "content": "hello there"}]


async def chatless_rows(runtime: Runtime, tenant_id: str) -> list[Message]:
    async with runtime.sessions() as db:
        query = select(Message).where(Message.tenant_id == tenant_id, Message.assistant_id.is_(None))
        return list(await db.scalars(query))


async def test_answers_without_a_chat_and_keeps_the_answer(client: Client, caller: Caller, runtime: Runtime) -> None:
    reply = await call(
        client, caller, "POST", "/chat/completions", json={"messages": HELLO, "stream": False, "llm_id": "echo@echo"}
    )
    assert reply["code"] == 0, reply
    data = reply["data"]
    assert data["answer"] == "echo: hello there"
    assert "chat_id" not in data and data["session_id"] is None
    [row] = await chatless_rows(runtime, caller.tenant_id)
    assert (row.output, row.model, row.session_id, row.channel) == ("echo: hello there", "echo@echo", None, "ragflow")


async def test_the_default_model_answers_when_no_llm_is_named(client: Client, caller: Caller, runtime: Runtime) -> None:
    reply = await call(client, caller, "POST", "/chat/completions", json={"messages": HELLO, "stream": False})
    assert reply["code"] == 0 and isinstance(reply["data"]["answer"], str), reply
    [row] = await chatless_rows(runtime, caller.tenant_id)
    assert row.model == runtime.settings.default_llm


async def test_streams_without_a_chat(client: Client, caller: Caller) -> None:
    events = await ask_stream(client, caller, "/chat/completions", {"messages": HELLO, "llm_id": "echo@echo"})
    assert events[-1] == {"code": 0, "message": "", "data": True}
    assert all(event["code"] == 0 and "chat_id" not in event["data"] for event in events[:-1])
    answers = [event["data"] for event in events[:-1]]
    assert "".join(data["answer"] for data in answers if not data["final"]) == "echo: hello there"


async def test_earlier_turns_come_from_the_messages(client: Client, caller: Caller, runtime: Runtime) -> None:
    """Chat-less there is no session: the client's own turns are the history the model is sent."""
    turns = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
    ]
    for messages in (turns[-1:], turns):
        body = {"messages": messages, "stream": False, "llm_id": "echo@echo"}
        reply = await call(client, caller, "POST", "/chat/completions", json=body)
        assert reply["data"]["answer"] == "echo: second"
    alone, with_history = sorted(await chatless_rows(runtime, caller.tenant_id), key=lambda row: row.created_at)
    # The echo upstream counts the words of every message it was sent: the earlier turn adds "first" and "one".
    assert with_history.prompt_tokens - alone.prompt_tokens == 2


async def test_selected_datasets_are_searched(client: Client, caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    body = {"messages": [{"role": "user", "content": "What do bees collect?"}], "stream": False}
    reply = await call(client, caller, "POST", "/chat/completions", json={**body, "selected_kb_ids": [dataset_id]})
    chunks = reply["data"]["reference"]["chunks"]
    assert chunks and all(chunk["dataset_id"] == dataset_id for chunk in chunks), reply


async def test_refusals(client: Client, caller: Caller, other_caller: Caller) -> None:
    async def ask(who: Caller = caller, **body: object) -> dict[str, object]:
        return await call(client, who, "POST", "/chat/completions", json={"messages": HELLO, "stream": False, **body})

    assert await ask(session_id="abc") == {
        "code": 102,
        "message": "`chat_id` is required when `session_id` is provided.",
    }
    assert await ask(selected_kb_ids="abc") == {"code": 102, "message": "`selected_kb_ids` should be a list."}
    theirs = await parsed_dataset(client, other_caller)
    assert await ask(selected_kb_ids=[theirs]) == {"code": 102, "message": f"You don't own the dataset {theirs}"}
    assert await ask(llm_id="nope@Nowhere") == {"code": 102, "message": "`llm_id` nope@Nowhere doesn't exist"}
    assert (await ask(chat_id=7))["code"] == 101


async def test_a_chat_can_search_other_datasets_once(client: Client, caller: Caller) -> None:
    chat = await chat_over_corpus(client, caller)
    other = await parsed_dataset(client, caller, "second")
    body = {"chat_id": chat["id"], "messages": [{"role": "user", "content": "bees"}], "stream": False}
    reply = await call(client, caller, "POST", "/chat/completions", json={**body, "selected_kb_ids": [other]})
    assert reply["data"]["chat_id"] == chat["id"]
    assert {chunk["dataset_id"] for chunk in reply["data"]["reference"]["chunks"]} == {other}


async def test_a_metadata_condition_must_be_an_object(client: Client, caller: Caller) -> None:
    """RAGFlow's test_chat_completion_invalid_metadata_condition: 102; an empty one is ignored."""
    chat = await chat_over_corpus(client, caller)
    body = {"chat_id": chat["id"], "messages": HELLO, "stream": False}
    refused = await call(client, caller, "POST", "/chat/completions", json={**body, "metadata_condition": "invalid"})
    assert refused == {"code": 102, "message": "metadata_condition must be an object."}
    empties: list[object] = ["", [], {}]
    for empty in empties:
        reply = await call(client, caller, "POST", "/chat/completions", json={**body, "metadata_condition": empty})
        assert reply["code"] == 0, (empty, reply)
