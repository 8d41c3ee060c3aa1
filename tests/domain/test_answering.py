"""Answering through the domain: retrieval feeds the prompt, and every question is recorded exactly once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from service.db.models import Message
from service.domain import conversations
from service.domain.answering import Answer, Delta, Question
from service.domain.assistants import AssistantConfig, create_assistant
from service.runtime import Runtime
from tests.api.ragflow.helpers import new_dataset, parse, upload
from tests.conftest import Caller

DOC = (
    "Honeybees keep their hive at about 35 degrees Celsius. They fan their wings to cool it in summer.\n\n"
    "Nectar is turned into honey by evaporation and enzymes."
)


async def _assistant(runtime: Runtime, caller: Caller, dataset_ids: list[str], **config: Any) -> str:
    async with runtime.sessions() as db:
        assistant = await create_assistant(
            db,
            caller.tenant_id,
            "bees",
            AssistantConfig(llm_id="nectar-extractive@Builtin", dataset_ids=dataset_ids, **config),
        )
        await db.commit()
    return assistant.id


async def _ask(runtime: Runtime, question: Question) -> tuple[list[str], Answer]:
    deltas: list[str] = []
    answer: Answer | None = None
    async for event in runtime.answerer().ask(question):
        if isinstance(event, Delta):
            deltas.append(event.text)
        else:
            answer = event
    assert answer is not None
    return deltas, answer


async def _rows(runtime: Runtime, assistant_id: str) -> list[Message]:
    async with runtime.sessions() as db:
        return list(await db.scalars(select(Message).where(Message.assistant_id == assistant_id)))


async def test_answer_quotes_retrieved_passages_and_is_recorded_once(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    dataset = await new_dataset(client, caller, "bees")
    [doc] = await upload(client, caller, dataset["id"], ("bees.txt", DOC.encode()))
    await parse(client, caller, dataset["id"], doc["id"])
    assistant_id = await _assistant(runtime, caller, [dataset["id"]])
    config = AssistantConfig(llm_id="nectar-extractive@Builtin", dataset_ids=[dataset["id"]])

    deltas, answer = await _ask(
        runtime, Question(caller.tenant_id, assistant_id, config, "How warm is the hive?", "test")
    )

    assert "".join(deltas) == answer.text
    assert "35 degrees" in answer.text and "[ID:0]" in answer.text
    assert answer.reference["chunks"][0]["document_name"] == "bees.txt"
    assert answer.prompt_tokens > 0 and answer.completion_tokens > 0
    [row] = await _rows(runtime, assistant_id)
    assert (row.id, row.status, row.output, row.channel) == (answer.message_id, "ok", answer.text, "test")
    assert row.first_token_ms is not None and row.latency_ms >= row.first_token_ms


async def test_nothing_found_gives_the_empty_response_without_a_model(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    dataset = await new_dataset(client, caller, "bees")
    [doc] = await upload(client, caller, dataset["id"], ("bees.txt", DOC.encode()))
    await parse(client, caller, dataset["id"], doc["id"])
    prompt = {**AssistantConfig(llm_id="x").prompt_config, "empty_response": "Nothing on that."}
    settings: dict[str, Any] = {"similarity_threshold": 0.99, "prompt_config": prompt}
    assistant_id = await _assistant(runtime, caller, [dataset["id"]], **settings)
    # An unknown model proves no model is called: resolving it would raise.
    config = AssistantConfig(llm_id="ghost@nowhere", dataset_ids=[dataset["id"]], **settings)

    _, answer = await _ask(runtime, Question(caller.tenant_id, assistant_id, config, "quantum chromodynamics", "test"))

    assert answer.text == "Nothing on that." and answer.reference["chunks"] == []


async def test_session_history_is_windowed_by_dialog_round(runtime: Runtime, caller: Caller) -> None:
    assistant_id = await _assistant(runtime, caller, [], dialog_round=1)
    async with runtime.sessions() as db:
        from service.db.models import Assistant

        assistant = await db.get(Assistant, assistant_id)
        assert assistant is not None
        session = await conversations.create_session(db, assistant, "s")
        await db.commit()
    config = AssistantConfig(llm_id="nectar-extractive@Builtin", dialog_round=1)
    for text in ("first", "second", "third"):
        await _ask(runtime, Question(caller.tenant_id, assistant_id, config, text, "test", session_id=session.id))
    async with runtime.sessions() as db:
        window = await conversations.recent_turns(db, session.id, 1)
        count = await db.scalar(select(func.count()).select_from(Message).where(Message.session_id == session.id))
    assert [question for question, _ in window] == ["third"]
    assert count == 3
