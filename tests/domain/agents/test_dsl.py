"""A DSL is checked before it is stored: each problem is refused with the component and the reason named."""

from __future__ import annotations

import pytest

from service.domain.agents.dsl import load
from service.errors import Invalid
from tests.domain.agents.dsls import component, kb_qa, starter, with_component

KB = ["0" * 32]


def refused(dsl: object) -> str:
    with pytest.raises(Invalid) as caught:
        load(dsl)
    return caught.value.message


def test_ragflow_templates_load() -> None:
    assert set(load(starter(KB)).components) == {"begin", "Agent:StalePandasDream", "Message:BrownPugsStick"}
    assert load(kb_qa(KB)).names == {"LLM:Answer": "Answerer"}


def test_an_unknown_component_type_is_refused_by_name() -> None:
    dsl = with_component(kb_qa(KB), "Iteration:Loop", component("Iteration", {}, [], []))
    message = refused(dsl)
    assert "Unsupported component type `Iteration` (component `Iteration:Loop`)" in message
    assert "Begin, Retrieval, LLM, Message, Categorize, Switch, Agent" in message


def test_an_unknown_agent_tool_is_refused_by_name() -> None:
    dsl = starter(KB)
    dsl["components"]["Agent:StalePandasDream"]["obj"]["params"]["tools"].append({"component_name": "TavilySearch"})
    assert refused(dsl).startswith("Unsupported tool `TavilySearch` in component `Agent:StalePandasDream`")


def test_a_cycle_is_refused_with_its_path() -> None:
    dsl = kb_qa(KB)
    dsl["components"]["Message:Reply"]["downstream"] = ["Retrieval:Bees"]
    assert refused(dsl) == "The DSL has a cycle: Retrieval:Bees → LLM:Answer → Message:Reply → Retrieval:Bees."


def test_a_reference_to_a_missing_component_is_refused() -> None:
    dsl = kb_qa(KB)
    dsl["components"]["Message:Reply"]["obj"]["params"]["content"] = ["{LLM:Gone@content}"]
    assert refused(dsl) == (
        "Component `Message:Reply` refers to `{LLM:Gone@content}`, but the DSL has no component `LLM:Gone`."
    )


def test_a_reference_to_an_unknown_global_is_refused() -> None:
    dsl = kb_qa(KB)
    dsl["components"]["Message:Reply"]["obj"]["params"]["content"] = ["{sys.nothing}"]
    assert refused(dsl) == "Component `Message:Reply` refers to `{sys.nothing}`, which is not a variable."


def test_a_link_to_a_missing_component_is_refused() -> None:
    dsl = kb_qa(KB)
    dsl["components"]["begin"]["downstream"] = ["Retrieval:Nope"]
    assert refused(dsl) == "Component `begin` leads to `Retrieval:Nope`, which is not in the DSL."


@pytest.mark.parametrize(
    ("dsl", "message"),
    [
        ("not a dsl", "`dsl` should be an object."),
        ({"components": {}}, "The DSL has no components."),
        ({"components": {"Message:A": component("Message", {"content": ["hi"]}, [], [])}}, "no `begin` component"),
        ({"components": {"begin": {"obj": "x"}}}, "Component `begin` should be {obj: {component_name, params}"),
        ({"components": {"begin": component("Message", {"content": ["x"]}, [], [])}}, "should be of type Begin"),
    ],
)
def test_malformed_dsls_are_refused(dsl: object, message: str) -> None:
    assert message in refused(dsl)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kb_ids": "abc"}, "[Retrieval] Retrieval:Bees: `kb_ids` should be a list of dataset ids"),
        ({"kb_ids": [], "top_n": 1e100}, "`top_n` should be an integer between 0 and 1024"),
        ({"kb_ids": [], "similarity_threshold": float("nan")}, "`similarity_threshold` should be a number"),
        ({"kb_ids": [], "query": 5}, "`query` should be a string"),
    ],
)
def test_bad_retrieval_params_are_refused(params: dict[str, object], message: str) -> None:
    dsl = kb_qa(KB)
    dsl["components"]["Retrieval:Bees"]["obj"]["params"] = params
    assert message in refused(dsl)


def test_bad_llm_settings_are_refused() -> None:
    dsl = kb_qa(KB)
    dsl["components"]["LLM:Answer"]["obj"]["params"]["temperature"] = 7
    assert "`temperature` must be a number between 0 and 2." in refused(dsl)
    dsl["components"]["LLM:Answer"]["obj"]["params"] = {"prompts": [{"role": "system", "content": "x"}]}
    assert "`prompts` should be a list of {role: user|assistant, content}" in refused(dsl)


def test_huge_or_deep_dsls_are_refused() -> None:
    many = kb_qa(KB)
    for n in range(301):
        many["components"][f"Message:{n}"] = component("Message", {"content": ["x"]}, [], [])
    assert refused(many) == "The DSL has 305 components; at most 300 are allowed."
    deep: object = "bottom"
    for _ in range(500):
        deep = [deep]
    nested = kb_qa(KB)
    nested["components"]["Message:Reply"]["obj"]["params"]["extra"] = deep
    assert refused(nested) == "The DSL is nested more than 64 levels deep."


def test_loading_does_not_change_the_dsl() -> None:
    dsl = starter(KB)
    before = repr(dsl)
    load(dsl)
    assert repr(dsl) == before
