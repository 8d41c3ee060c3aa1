"""A component failing mid-run, and a client going away: an error event or a cancellation, and one row."""

from __future__ import annotations

import asyncio

import pytest

from service.domain.agents.engine import Event
from service.errors import UpstreamError
from service.runtime import Runtime
from tests.conftest import Caller
from tests.domain.agents.conftest import new_agent, rows, runner, turn
from tests.domain.agents.dsls import kb_qa
from tests.support.upstream import UpstreamProcess


async def test_an_upstream_failure_mid_answer_ends_the_run_with_the_error_recorded(
    runtime: Runtime, caller: Caller, bees: str
) -> None:
    dsl = kb_qa([bees], llm_id="cut@echo")  # two words, then the connection drops
    agent_id = await new_agent(runtime, caller, dsl)
    prepared = await runner(runtime).start(turn(caller, agent_id, dsl, "How is honey made?"))
    names: list[str] = []
    shown = ""

    with pytest.raises(UpstreamError, match="stream broke off"):
        async for event in prepared.events():
            assert isinstance(event, Event)  # a failed run never ends with Finished
            names.append(event.name)
            if event.name == "message":
                shown += event.data["content"]
            if event.name == "node_finished" and event.data["error"]:
                failed = event.data

    assert failed["component_id"] == "Message:Reply" and "stream broke off" in failed["error"]
    assert "workflow_finished" not in names and shown == "echo: How "
    [row] = await rows(runtime, agent_id)
    assert row.status == "error" and "stream broke off" in row.error
    assert row.output == shown and row.reference["chunks"]  # what was shown, and what was retrieved


async def test_an_unknown_model_fails_its_component(runtime: Runtime, caller: Caller, bees: str) -> None:
    dsl = kb_qa([bees], llm_id="nothing@nowhere")
    agent_id = await new_agent(runtime, caller, dsl)
    prepared = await runner(runtime).start(turn(caller, agent_id, dsl, "hi"))

    with pytest.raises(Exception, match="`llm_id` nothing@nowhere doesn't exist"):
        async for _ in prepared.events():
            pass
    [row] = await rows(runtime, agent_id)
    assert row.status == "error"


async def test_cancelling_a_run_closes_the_upstream_call_and_records_the_turn(
    runtime: Runtime, caller: Caller, bees: str, upstream: UpstreamProcess
) -> None:
    dsl = kb_qa([bees], llm_id="endless@echo")  # a word every 50 ms for a minute
    agent_id = await new_agent(runtime, caller, dsl)
    prepared = await runner(runtime).start(turn(caller, agent_id, dsl, "Tell me everything"))
    upstream.clear()
    words = asyncio.Event()

    async def consume() -> None:
        async for event in prepared.events():
            if isinstance(event, Event) and event.name == "message":
                words.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(words.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [row] = await rows(runtime, agent_id)
    assert row.status == "cancelled" and row.output.startswith("word0")
    for _ in range(50):  # the upstream notices the closed connection on its next write
        if upstream.received()[-1].get("_outcome") == "client_closed":
            break
        await asyncio.sleep(0.1)
    assert upstream.received()[-1]["_outcome"] == "client_closed"
