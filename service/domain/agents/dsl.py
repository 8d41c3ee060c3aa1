"""Reading a DSL: every component known, every link and reference pointing at a component, no cycle.

A DSL that fails any check is refused when an agent is created or updated, with the reason named; nothing is
skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.domain.agents.agent_tools import Agent
from service.domain.agents.base import Component
from service.domain.agents.branching import Categorize, Switch
from service.domain.agents.components import LLM, Begin, Message, Retrieval
from service.domain.agents.refs import GLOBALS, REFERENCE, references_in, split
from service.errors import Invalid

MAX_COMPONENTS = 300  # far more than any RAGFlow template; bounds the work (and the depth) of the checks
MAX_DEPTH = 64  # RAGFlow's templates nest about 10 deep; the checks below recurse through what is nested
COMPONENTS: dict[str, type[Component]] = {
    kind.type_name: kind for kind in (Begin, Retrieval, LLM, Message, Categorize, Switch, Agent)
}


@dataclass
class Canvas:
    components: dict[str, Component]
    names: dict[str, str]  # component id → its name in the editor's graph

    @property
    def begin(self) -> Begin:
        begin = self.components["begin"]
        assert isinstance(begin, Begin)  # load() makes sure of it
        return begin


def load(dsl: Any) -> Canvas:
    """The canvas a DSL describes, or `Invalid` saying what is wrong with it."""
    if not isinstance(dsl, dict):
        raise Invalid("`dsl` should be an object.")
    if depth(dsl) > MAX_DEPTH:
        raise Invalid(f"The DSL is nested more than {MAX_DEPTH} levels deep.")
    raw = dsl.get("components")
    if not isinstance(raw, dict) or not raw:
        raise Invalid("The DSL has no components.")
    if len(raw) > MAX_COMPONENTS:
        raise Invalid(f"The DSL has {len(raw)} components; at most {MAX_COMPONENTS} are allowed.")
    if "begin" not in raw:
        raise Invalid("The DSL has no `begin` component.")
    components = {str(component_id): build(str(component_id), spec) for component_id, spec in raw.items()}
    if not isinstance(components["begin"], Begin):
        raise Invalid("The `begin` component should be of type Begin.")
    check_links(components)
    check_references(components, dsl.get("globals"))
    check_cycles(components)
    return Canvas(components, graph_names(dsl))


def depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            pending += [(child, level + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return deepest


def build(component_id: str, spec: Any) -> Component:
    obj = spec.get("obj") if isinstance(spec, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("component_name"), str):
        raise Invalid(f"Component `{component_id}` should be {{obj: {{component_name, params}}, downstream}}.")
    kind = COMPONENTS.get(obj["component_name"])
    if kind is None:
        raise Invalid(
            f"Unsupported component type `{obj['component_name']}` (component `{component_id}`); "
            f"this server runs: {', '.join(COMPONENTS)}."
        )
    params = obj.get("params") or {}
    downstream = spec.get("downstream") or []
    if not isinstance(params, dict):
        raise Invalid(f"The params of component `{component_id}` should be an object.")
    if not isinstance(downstream, list) or not all(isinstance(target, str) for target in downstream):
        raise Invalid(f"The downstream of component `{component_id}` should be a list of component ids.")
    return kind(component_id, params, downstream)


def check_links(components: dict[str, Component]) -> None:
    for component in components.values():
        for target in [*component.downstream, *component.targets()]:
            if target not in components:
                raise Invalid(f"Component `{component.id}` leads to `{target}`, which is not in the DSL.")


def bare_references(component: Component) -> list[str]:
    """References written without braces: Switch's `cpn_id`s, and a `query` such as `sys.query`."""
    found = []
    if isinstance(component, Switch):
        found += [str(i["cpn_id"]) for c in component.params["conditions"] for i in c["items"] if i.get("cpn_id")]
    query = component.params.get("query")
    if isinstance(query, str) and not REFERENCE.search(query) and (query.startswith("sys.") or "@" in query):
        found.append(query)
    return found


def check_references(components: dict[str, Component], globals_: Any) -> None:
    known_globals = set(GLOBALS) | (set(globals_) if isinstance(globals_, dict) else set())
    for component in components.values():
        for reference in [*references_in(component.params), *bare_references(component)]:
            target, _ = split(reference)
            if target and target not in components:
                raise Invalid(
                    f"Component `{component.id}` refers to `{{{reference}}}`, but the DSL has no component `{target}`."
                )
            if not target and reference not in known_globals:
                raise Invalid(f"Component `{component.id}` refers to `{{{reference}}}`, which is not a variable.")


def check_cycles(components: dict[str, Component]) -> None:
    """Depth-first over every link; a link back to a component on the current path is a cycle."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(component_id: str, path: list[str]) -> None:
        state[component_id] = "open"
        component = components[component_id]
        for target in dict.fromkeys([*component.downstream, *component.targets()]):
            if state.get(target) == "open":
                loop = [*path[path.index(target) :], component_id, target] if target in path else [component_id, target]
                raise Invalid(f"The DSL has a cycle: {' → '.join(loop)}.")
            if target not in state:
                visit(target, [*path, component_id])
        state[component_id] = "done"

    for component_id in components:
        if component_id not in state:
            visit(component_id, [])


def graph_names(dsl: dict[str, Any]) -> dict[str, str]:
    graph = dsl.get("graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    names = {}
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            names[str(node.get("id"))] = data["name"]
    return names
