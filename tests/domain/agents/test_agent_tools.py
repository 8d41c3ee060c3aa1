"""The Agent component with an upstream that calls tools: it asks for a search, then answers from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.domain.agents.base import Services
from service.domain.agents.runs import AgentRunner
from service.providers.llm import ModelRegistry
from service.runtime import Runtime
from service.settings import LLMProvider
from tests.conftest import Caller
from tests.domain.agents.conftest import OFFLINE, new_agent, rows, run, turn
from tests.domain.agents.dsls import starter
from tests.domain.agents.tool_upstream import ToolServer, tool_server


@pytest.fixture
def tools() -> Iterator[ToolServer]:
    with tool_server() as server:
        yield server


async def test_the_agent_calls_its_retrieval_tool_through_the_upstream(
    runtime: Runtime, caller: Caller, bees: str, tools: ToolServer
) -> None:
    models = ModelRegistry({"tools": LLMProvider(tools.base_url)}, timeout=10)
    answerer = runtime.answerer()
    agent_runner = AgentRunner(
        Services(answerer.sessions, answerer.embedder_for, models, answerer.count_tokens, OFFLINE)
    )
    dsl = starter([bees], llm_id="tools@tools")
    agent_id = await new_agent(runtime, caller, dsl)

    try:
        outcome = await run(agent_runner, turn(caller, agent_id, dsl, "How is honey made?"))
    finally:
        await models.close()

    first, second = tools.received
    assert [tool["function"]["name"] for tool in first["tools"]] == ["Retrieval"]
    assert first["messages"][0]["content"].startswith("# Role") and first["temperature"] == 0.1
    assert first["messages"][-1] == {"role": "user", "content": "The user query is How is honey made?"}
    assert second["messages"][-1]["role"] == "tool" and "evaporation" in second["messages"][-1]["content"]
    assert outcome.text().startswith("from the tool: └── Content: ")  # the answer came after the search
    assert second["messages"][-1]["tool_call_id"] == "call_1"
    [end] = [e for e in outcome.events if e.name == "message_end"]
    assert end.data["reference"]["chunks"][0]["document_name"] == "bees.txt"
    [row] = await rows(runtime, agent_id)
    assert (row.prompt_tokens, row.completion_tokens) == (22, 10)  # two rounds as the upstream counted them
