"""The canvas engine: RAGFlow's starter template and a KB Q&A canvas run end to end, each turn recorded once."""

from __future__ import annotations

from service.runtime import Runtime
from tests.conftest import Caller
from tests.domain.agents.conftest import new_agent, rows, run, runner, turn
from tests.domain.agents.dsls import kb_qa, starter
from tests.support.upstream import UpstreamProcess


async def test_starter_template_runs_offline_and_quotes_the_dataset(
    runtime: Runtime, caller: Caller, bees: str
) -> None:
    dsl = starter([bees])
    agent_id = await new_agent(runtime, caller, dsl)

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, "How warm is the hive?"))

    names = outcome.names()
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    started = [e.data["component_id"] for e in outcome.events if e.name == "node_started"]
    assert started == ["begin", "Agent:StalePandasDream", "Message:BrownPugsStick"]
    assert names.index("message") < names.index("message_end")
    assert "35 degrees" in outcome.text() and "[ID:0]" in outcome.text()
    [end] = [e for e in outcome.events if e.name == "message_end"]
    assert end.data["reference"]["chunks"][0]["document_name"] == "bees.txt"
    agent_node = next(e for e in outcome.events if e.name == "node_started" and e.data["component_type"] == "Agent")
    assert agent_node.data["component_name"] == "Docs QA Agent"  # the graph's name for it
    [row] = await rows(runtime, agent_id)
    assert (row.id, row.status, row.output, row.channel) == (outcome.finished.message_id, "ok", outcome.text(), "test")
    assert row.reference["chunks"][0]["document_name"] == "bees.txt"
    assert row.completion_tokens > 0 and row.prompt_tokens > 0 and row.first_token_ms is not None


async def test_kb_qa_canvas_feeds_retrieval_into_the_llm_prompt(
    runtime: Runtime, caller: Caller, bees: str, upstream: UpstreamProcess
) -> None:
    dsl = kb_qa([bees], llm_id="echo@echo")
    agent_id = await new_agent(runtime, caller, dsl)
    upstream.clear()

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, "How is honey made?"))

    assert outcome.text() == "echo: How is honey made?"
    [request] = upstream.received()
    system = request["messages"][0]
    assert system["role"] == "system" and "evaporation and enzymes" in system["content"]
    assert "[ID:n]" in system["content"]  # the citation rules, since passages were given
    finished = [e for e in outcome.events if e.name == "node_finished"]
    retrieval = next(e for e in finished if e.data["component_id"] == "Retrieval:Bees")
    assert "evaporation" in retrieval.data["outputs"]["formalized_content"]
    assert retrieval.data["outputs"]["json"][0]["document_name"] == "bees.txt"
    llm = next(e for e in finished if e.data["component_id"] == "LLM:Answer")
    assert llm.data["component_name"] == "Answerer"
    [row] = await rows(runtime, agent_id)
    assert row.model == "echo@echo" and row.prompt_tokens > 0 and row.output == outcome.text()


async def test_history_of_the_session_reaches_the_llm(
    runtime: Runtime, caller: Caller, bees: str, upstream: UpstreamProcess
) -> None:
    from service.domain import conversations
    from service.domain.agents import store

    dsl = kb_qa([bees], llm_id="echo@echo")
    agent_id = await new_agent(runtime, caller, dsl)
    async with runtime.sessions() as db:
        agent = await store.get_agent(db, caller.tenant_id, agent_id)
        session = await conversations.create_session(db, agent.assistant, "s")
        await db.commit()
    agent_runner = runner(runtime)
    await run(agent_runner, turn(caller, agent_id, dsl, "first question", session_id=session.id))
    upstream.clear()

    await run(agent_runner, turn(caller, agent_id, dsl, "second question", session_id=session.id))

    [request] = upstream.received()
    said = [(m["role"], m["content"]) for m in request["messages"][1:]]
    assert said == [
        ("user", "first question"),
        ("assistant", "echo: first question"),
        ("user", "second question"),
    ]
