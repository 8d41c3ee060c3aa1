"""Runs a canvas: components in the order their links give, as a stream of RAGFlow's events.

`workflow_started`; per component `node_started`, then (a Message) `message` pieces and `message_end` with the
reference, then `node_finished` with its outputs or its error; `workflow_finished`. A component that fails ends
the run: its `node_finished` carries the error, then the error is raised. Cancelling the consumer cancels the
component at work (an LLM stream closes its upstream request).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from service.domain.agents.agent_tools import Agent
from service.domain.agents.base import Component, Deferred, Run, plain
from service.domain.agents.components import LLM, Message
from service.domain.agents.dsl import Canvas
from service.errors import DomainError


@dataclass
class Event:
    name: str  # workflow_started | node_started | message | message_end | node_finished | workflow_finished
    data: dict[str, Any]


def descendants_of(canvas: Canvas) -> dict[str, set[str]]:
    """Every component each one can lead to (the DSL has no cycle: load() checked)."""
    found: dict[str, set[str]] = {}

    def visit(component_id: str) -> set[str]:
        if component_id not in found:
            component = canvas.components[component_id]
            targets = [*component.downstream, *component.targets()]
            found[component_id] = set(targets).union(*(visit(target) for target in targets))
        return found[component_id]

    for component_id in canvas.components:
        visit(component_id)
    return found


def node(canvas: Canvas, component: Component) -> dict[str, Any]:
    return {
        "component_id": component.id,
        "component_name": canvas.names.get(component.id, component.id),
        "component_type": component.type_name,
        "created_at": time.time(),
    }


async def execute(canvas: Canvas, run: Run) -> AsyncIterator[Event]:
    started = time.perf_counter()
    yield Event("workflow_started", {"inputs": run.turn.inputs})
    descendants = descendants_of(canvas)
    queue, done, last = ["begin"], set[str](), "begin"
    while queue:
        component_id = queue.pop(0)
        if component_id in done:
            continue
        if any(component_id in descendants[other] for other in queue if other not in done):  # a join waits
            queue.append(component_id)
            continue
        component = canvas.components[component_id]
        async for event in step(canvas, component, run):
            yield event
        done.add(component_id)
        last = component_id
        queue += component.next(run)
    for outputs in run.outputs.values():  # an answer nobody quoted is still the component's work
        for value in outputs.values():
            if isinstance(value, Deferred):
                await value.read()
    outputs = plain(run.outputs.get(last, {}))
    elapsed = time.perf_counter() - started
    yield Event("workflow_finished", {"inputs": run.turn.inputs, "outputs": outputs, "elapsed_time": elapsed})


async def step(canvas: Canvas, component: Component, run: Run) -> AsyncIterator[Event]:
    info = node(canvas, component)
    started = time.perf_counter()
    yield Event("node_started", info)
    try:
        async for piece in component.invoke(run):
            yield Event("message", {"content": piece})
        if isinstance(component, LLM | Agent) and not any(
            isinstance(canvas.components[target], Message) for target in component.downstream
        ):
            await run.value(f"{component.id}@content")  # no Message streams it: read it now
    except DomainError as exc:
        failed = {"inputs": {}, "outputs": {}, "error": exc.message, "elapsed_time": time.perf_counter() - started}
        yield Event("node_finished", {**info, **failed})
        raise
    if isinstance(component, Message):
        yield Event("message_end", {"reference": run.reference()})
    outputs = plain(run.outputs.get(component.id, {}))
    finished: dict[str, Any] = {"inputs": {}, "outputs": outputs, "error": None}
    finished["elapsed_time"] = time.perf_counter() - started
    yield Event("node_finished", {**info, **finished})
