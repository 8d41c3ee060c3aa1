"""Long-term memory: a queued job rewrites the session summary after each turn, and the next prompt carries it."""

from __future__ import annotations

import asyncio
import time
import uuid

from service.db.models import Assistant, ChatSession
from service.domain import conversations
from service.domain.answering import Answer, Question
from service.domain.assistants import AssistantConfig, create_assistant
from service.domain.memory import extractive_summary
from service.runtime import Runtime
from tests.conftest import Caller
from tests.support.upstream import UpstreamProcess


def test_extractive_summary_keeps_one_line_per_turn_within_budget() -> None:
    summary = extractive_summary("", "Where do bees live? Tell me.", "In hives. Mostly wooden ones.")
    assert summary == "- Asked: Where do bees live? | Answered: In hives."
    for i in range(50):
        summary = extractive_summary(summary, f"Question {i}?", f"Answer {i}.", limit=200)
    assert len(summary) <= 200 and summary.endswith("Answered: Answer 49.") and "Question 0?" not in summary


async def _session(runtime: Runtime, caller: Caller, config: AssistantConfig) -> tuple[str, str]:
    async with runtime.sessions() as db:
        assistant: Assistant = await create_assistant(db, caller.tenant_id, f"mem-{uuid.uuid4().hex[:6]}", config)
        session = await conversations.create_session(db, assistant, "s")
        await db.commit()
    return assistant.id, session.id


async def _ask(runtime: Runtime, caller: Caller, ids: tuple[str, str], config: AssistantConfig, text: str) -> None:
    question = Question(caller.tenant_id, ids[0], config, text, "test", session_id=ids[1])
    assert [event async for event in runtime.answerer().ask(question) if isinstance(event, Answer)]


async def _summary(runtime: Runtime, session_id: str) -> str:
    async with runtime.sessions() as db:
        session = await db.get(ChatSession, session_id)
        assert session is not None
        return session.summary


async def _summary_containing(runtime: Runtime, session_id: str, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (summary := await _summary(runtime, session_id)):
            return summary
        await asyncio.sleep(0.1)
    raise AssertionError(f"summary never mentioned {text!r}: {await _summary(runtime, session_id)!r}")


async def test_memory_is_summarised_and_sent_with_the_next_question(
    runtime: Runtime, caller: Caller, upstream: UpstreamProcess
) -> None:
    config = AssistantConfig(llm_id="echo@echo", memory_mode="long_term_memory", dialog_round=0)
    ids = await _session(runtime, caller, config)
    marker = uuid.uuid4().hex
    await _ask(runtime, caller, ids, config, f"My name is Ada {marker}.")
    # The echo upstream writes the summary too: it echoes the summarising request, which holds the turn.
    summary = await _summary_containing(runtime, ids[1], marker)

    await _ask(runtime, caller, ids, config, f"What is my name? {marker}-2")

    [request] = [r for r in upstream.received() if f"{marker}-2" in str(r["messages"])]
    system = request["messages"][0]
    assert system["role"] == "system" and summary in system["content"]
    assert len(request["messages"]) == 2  # dialog_round 0: the memory, not the turns, carries the past


async def test_without_memory_nothing_is_summarised(runtime: Runtime, caller: Caller) -> None:
    config = AssistantConfig(llm_id="nectar-extractive@Builtin")
    ids = await _session(runtime, caller, config)
    await _ask(runtime, caller, ids, config, "Remember nothing.")
    remembering = AssistantConfig(llm_id="nectar-extractive@Builtin", memory_mode="long_term_memory")
    other = await _session(runtime, caller, remembering)
    await _ask(runtime, caller, other, remembering, "Remember this.")
    assert "Remember this." in await _summary_containing(runtime, other[1], "Remember this.")
    assert await _summary(runtime, ids[1]) == ""  # the job of the other session has run by now
