"""Switch and Categorize choose the branch; Begin's inputs are variables; branches join again."""

from __future__ import annotations

from typing import Any

import pytest

from service.errors import Invalid
from service.runtime import Runtime
from tests.conftest import Caller
from tests.domain.agents.conftest import new_agent, run, runner, turn
from tests.domain.agents.dsls import component


def switch_dsl() -> dict[str, Any]:
    condition = {
        "logical_operator": "and",
        "items": [{"cpn_id": "sys.query", "operator": "contains", "value": "Honey"}],
    }
    return {
        "components": {
            "begin": component("Begin", {}, ["Switch:Topic"], []),
            "Switch:Topic": component(
                "Switch",
                {"conditions": [{**condition, "to": ["Message:Honey"]}], "end_cpn_ids": ["Message:Other"]},
                [],
                ["begin"],
            ),
            "Message:Honey": component("Message", {"content": ["Honey talk: {sys.query}"]}, [], ["Switch:Topic"]),
            "Message:Other": component("Message", {"content": "Something else."}, [], ["Switch:Topic"]),
        }
    }


@pytest.mark.parametrize(
    ("query", "answer"), [("all about honey", "Honey talk: all about honey"), ("hi", "Something else.")]
)
async def test_switch_goes_where_its_condition_says(runtime: Runtime, caller: Caller, query: str, answer: str) -> None:
    dsl = switch_dsl()
    agent_id = await new_agent(runtime, caller, dsl)

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, query))

    assert outcome.text() == answer
    ran = [e.data["component_id"] for e in outcome.events if e.name == "node_finished"]
    assert len(ran) == 3 and ran[:2] == ["begin", "Switch:Topic"]


def categorize_dsl(llm_id: str) -> dict[str, Any]:
    categories = {
        "honey": {"description": "Questions about honey and nectar", "examples": ["how is honey made"], "to": ["M:H"]},
        "Other": {"description": "Anything else", "to": ["M:O"]},
    }
    return {
        "components": {
            "begin": component("Begin", {}, ["Categorize:Kind"], []),
            "Categorize:Kind": component(
                "Categorize", {"llm_id": llm_id, "category_description": categories}, [], ["begin"]
            ),
            "M:H": component("Message", {"content": ["sweet ({Categorize:Kind@category_name})"]}, ["M:End"], []),
            "M:O": component("Message", {"content": ["other ({Categorize:Kind@category_name})"]}, ["M:End"], []),
            "M:End": component("Message", {"content": [" bye"]}, [], ["M:H", "M:O"]),
        }
    }


@pytest.mark.parametrize(
    ("llm_id", "query", "answer"),
    [
        ("nectar-extractive@Builtin", "Where does nectar go?", "sweet (honey) bye"),  # offline: the words decide
        ("nectar-extractive@Builtin", "What time is it?", "other (Other) bye"),
        ("echo@echo", "tell me about honey", "sweet (honey) bye"),  # the model's answer names the category
        ("echo@echo", "what time is it", "other (Other) bye"),
    ],
)
async def test_categorize_picks_a_branch_and_the_branches_join(
    runtime: Runtime, caller: Caller, llm_id: str, query: str, answer: str
) -> None:
    dsl = categorize_dsl(llm_id)
    agent_id = await new_agent(runtime, caller, dsl)

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, query))

    assert outcome.text() == answer


def inputs_dsl() -> dict[str, Any]:
    inputs = {
        "name": {"name": "name", "type": "line", "optional": False, "value": None},
        "tone": {"name": "tone", "type": "line", "optional": True, "value": "kind"},
    }
    return {
        "components": {
            "begin": component("Begin", {"inputs": inputs, "prologue": "Hello"}, ["Message:Hi"], []),
            "Message:Hi": component("Message", {"content": ["Dear {begin@name}, in a {begin@tone} way"]}, [], []),
        }
    }


async def test_begin_inputs_are_variables(runtime: Runtime, caller: Caller) -> None:
    dsl = inputs_dsl()
    agent_id = await new_agent(runtime, caller, dsl)
    given = {"name": {"type": "line", "value": "Maya"}}

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, "", inputs=given))

    assert outcome.text() == "Dear Maya, in a kind way"
    assert outcome.events[0].data == {"inputs": {"name": "Maya", "tone": "kind"}}


async def test_a_required_begin_input_missing_is_refused_before_running(runtime: Runtime, caller: Caller) -> None:
    dsl = inputs_dsl()
    agent_id = await new_agent(runtime, caller, dsl)

    with pytest.raises(Invalid, match=r"The input `name` of the Begin component is required\."):
        await runner(runtime).start(turn(caller, agent_id, dsl, "hi"))


async def test_a_join_runs_after_its_longest_branch(runtime: Runtime, caller: Caller) -> None:
    def say(text: str, downstream: list[str]) -> dict[str, Any]:
        return component("Message", {"content": [text]}, downstream, [])

    dsl = {
        "components": {
            "begin": component("Begin", {}, ["B", "C1"], []),
            "B": say("b", ["D"]),
            "C1": say("c1", ["C2"]),
            "C2": say("c2", ["C3"]),
            "C3": say("c3", ["D"]),
            "D": say("d={B@content}{C3@content}", []),
        }
    }
    agent_id = await new_agent(runtime, caller, dsl)

    outcome = await run(runner(runtime), turn(caller, agent_id, dsl, "go"))

    assert outcome.text() == "bc1c2c3d=bc3"
