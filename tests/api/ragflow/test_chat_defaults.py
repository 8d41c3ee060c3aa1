"""A RAGFlow chat's prompt defaults as v0.27's: the empty response, the knowledge parameter, and what they do."""

from __future__ import annotations

from tests.api.ragflow.chat_helpers import new_chat, parsed_dataset
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller

EMPTY = "Sorry! No relevant content was found in the knowledge base!"


async def test_new_chats_get_ragflows_empty_response_and_parameters(client: Client, caller: Caller) -> None:
    prompt = (await new_chat(client, caller))["prompt_config"]
    assert prompt["empty_response"] == EMPTY
    assert prompt["parameters"] == [{"key": "knowledge", "optional": False}]


async def test_nothing_retrieved_answers_the_empty_response_without_an_llm(client: Client, caller: Caller) -> None:
    dataset_id = await parsed_dataset(client, caller)
    chat = await new_chat(client, caller, dataset_ids=[dataset_id], llm_id="fail-500@echo")  # any call would fail
    body = {"question": "zzyzx qwerty", "stream": False}
    reply = await call(client, caller, "POST", f"/chats/{chat['id']}/completions", json=body)
    assert reply["code"] == 0 and reply["data"]["answer"] == EMPTY


async def test_a_system_prompt_without_knowledge_is_accepted(client: Client, caller: Caller) -> None:
    chat = await new_chat(client, caller, prompt_config={"system": "You answer briefly."})
    assert chat["prompt_config"]["system"] == "You answer briefly."
    unused = await call(
        client,
        caller,
        "POST",
        "/chats",
        json={
            "name": "strict",
            "prompt_config": {"system": "Hi", "parameters": [{"key": "topic", "optional": False}]},
        },
    )
    assert unused == {"code": 102, "message": "Parameter 'topic' is not used"}
