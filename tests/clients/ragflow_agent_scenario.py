"""Runs inside the ragflow-sdk 0.27.3 venv: drives a live Nectar's agents through the unchanged SDK.

usage: python ragflow_agent_scenario.py <base_url> <api_key> <dsls.json>; the JSON holds RAGFlow DSLs whose
`__KB__` stands for the dataset this scenario makes. Exits non-zero (with the failing assert) on a mismatch.
"""

import json
import sys
import uuid
from typing import Any

from ragflow_sdk import RAGFlow

BEES = (
    b"Honeybees keep their hive at about 35 degrees Celsius. They fan their wings to cool it in summer.\n\n"
    b"Nectar is turned into honey by evaporation and enzymes."
)


def with_dataset(dsl: dict[str, Any], dataset_id: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(dsl).replace("__KB__", dataset_id))
    return result


def agent_named(rag: RAGFlow, title: str) -> Any:
    [agent] = [agent for agent in rag.list_agents(page_size=100) if agent.title == title]
    return agent


def ask_both_ways(session: Any) -> dict[str, Any]:
    pieces = list(session.ask("How warm is the hive?", stream=True))
    streamed = "".join(piece.content for piece in pieces)
    assert "35 degrees" in streamed, streamed
    assert pieces[-1].content == "" and pieces[-1].reference[0]["document_name"] == "bees.txt", pieces[-1].reference
    [whole] = list(session.ask("How is honey made?", stream=False))
    assert "evaporation" in whole.content and whole.id, whole.content
    assert whole.reference[0]["document_name"] == "bees.txt"
    return {"streamed_pieces": len(pieces), "answer": whole.content}


def starter_scenario(rag: RAGFlow, dsl: dict[str, Any], suffix: str) -> dict[str, Any]:
    title = f"sdk-starter-{suffix}"
    assert rag.create_agent(title=title, dsl=dsl, description="made by ragflow-sdk") is None
    agent = agent_named(rag, title)
    assert agent.description == "made by ragflow-sdk" and agent.dsl.components  # the DSL, as the SDK wraps it
    rag.update_agent(agent.id, description="changed", title=title + "-renamed")
    agent = rag.get_agent(agent.id)
    assert (agent.title, agent.description) == (title + "-renamed", "changed")
    session = agent.create_session()
    assert session.agent_id == agent.id and session.messages[0]["role"] == "assistant"
    report = ask_both_ways(session)
    [listed] = agent.list_sessions()
    assert listed.id == session.id and len(listed.message) == 5  # prologue + two turns
    agent.delete_sessions(ids=[session.id])
    assert agent.list_sessions() == []
    rag.delete_agent(agent.id)
    assert title + "-renamed" not in [a.title for a in rag.list_agents(page_size=100)]
    return report


def main(base_url: str, key: str, dsls: dict[str, Any]) -> dict[str, Any]:
    rag = RAGFlow(api_key=key, base_url=base_url)
    suffix = uuid.uuid4().hex[:8]
    dataset = rag.create_dataset(name=f"sdk-agent-kb-{suffix}")
    [doc] = dataset.upload_documents([{"display_name": "bees.txt", "blob": BEES}])
    dataset.parse_documents([doc.id])
    try:
        report = starter_scenario(rag, with_dataset(dsls["starter"], dataset.id), suffix)
        qa_title = f"sdk-kb-qa-{suffix}"
        rag.create_agent(title=qa_title, dsl=with_dataset(dsls["kb_qa"], dataset.id))
        qa = agent_named(rag, qa_title)
        report["kb_qa"] = ask_both_ways(qa.create_session())["answer"]
        rag.delete_agent(qa.id)
        try:
            rag.create_agent(title=f"sdk-bad-{suffix}", dsl=dsls["unknown"])
        except Exception as exc:  # the SDK raises the server's message
            report["refused"] = str(exc)
        return {"ok": True, **report}
    finally:
        rag.delete_datasets(ids=[dataset.id])


if __name__ == "__main__":
    with open(sys.argv[3]) as file:
        print(json.dumps(main(sys.argv[1], sys.argv[2], json.load(file))))
