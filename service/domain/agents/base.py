"""What every component shares: the run it belongs to (globals, outputs, references, token counts) and its base."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain import retrieval
from service.domain.agents.refs import REFERENCE, as_text, split
from service.errors import Invalid, NotFound
from service.providers.base import Embedder, Passage, Usage
from service.providers.llm import ModelRegistry


@dataclass
class Services:
    """What components call: the database (short transactions of their own), embedders and chat models."""

    sessions: async_sessionmaker[AsyncSession]
    embedder_for: Callable[[str], Embedder]
    models: ModelRegistry
    count_tokens: Callable[[str], int]
    default_llm: str


@dataclass
class Turn:
    """One question put to an agent."""

    tenant_id: str
    query: str
    user_id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)  # Begin's inputs: {key: value}
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (question, answer) turns


class Deferred:
    """An LLM's answer not read yet. A Message streams it as it arrives; anything else reading it waits for all
    of it. Either way the model is called once, and its text is kept for later readers."""

    def __init__(self, pieces: AsyncIterator[str]) -> None:
        self._pieces = pieces
        self.text = ""
        self.done = False

    async def stream(self) -> AsyncIterator[str]:
        if self.done:
            if self.text:
                yield self.text
            return
        async for piece in self._pieces:
            self.text += piece
            yield piece
        self.done = True

    async def read(self) -> str:
        async for _ in self.stream():
            pass
        return self.text


class Run:
    """The state of one canvas run: globals, each component's outputs, what was retrieved, what it cost."""

    def __init__(self, services: Services, turn: Turn) -> None:
        self.services = services
        self.turn = turn
        self.globals: dict[str, Any] = {
            "sys.query": turn.query,
            "sys.user_id": turn.user_id,
            "sys.conversation_turns": len(turn.history) + 1,
            "sys.files": [],
            "sys.history": [f"USER: {q}\nASSISTANT: {a}" for q, a in turn.history],
            "sys.date": date.today().isoformat(),
        }
        self.outputs: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}  # component id → its name in the graph, for node events
        self.hits: list[retrieval.Hit] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.first_token_at: float | None = None
        self.llm_ids: list[str] = []

    def output(self, component_id: str, name: str) -> Any:
        outputs = self.outputs.get(component_id)
        if outputs is None or name not in outputs:
            raise NotFound(f"Can't find variable: '{component_id}@{name}'")
        return outputs[name]

    def raw(self, reference: str) -> Any:
        component_id, name = split(reference)
        if not component_id:
            if reference not in self.globals:
                raise NotFound(f"Can't find variable: '{reference}'")
            return self.globals[reference]
        return self.output(component_id, name)

    async def value(self, reference: str) -> Any:
        """A reference's value; an LLM answer not read yet is read whole first."""
        value = self.raw(reference)
        return await value.read() if isinstance(value, Deferred) else value

    async def render(self, template: str) -> str:
        """`template` with each reference replaced by its value as text."""
        parts: list[str] = []
        end = 0
        for match in REFERENCE.finditer(template):
            parts += [template[end : match.start()], as_text(await self.value(match[1]))]
            end = match.end()
        return "".join([*parts, template[end:]])

    def add_hits(self, hits: list[retrieval.Hit]) -> None:
        known = {hit.id for hit in self.hits}
        self.hits += [hit for hit in hits if hit.id not in known]

    def passages(self) -> list[Passage]:
        return [Passage(i, hit.document_name, hit.content) for i, hit in enumerate(self.hits)]

    def reference(self) -> dict[str, Any]:
        """In the answering layer's shape (what a recorded message keeps, and what every face formats)."""
        counts: dict[str, list[Any]] = {}
        for hit in self.hits:
            counts.setdefault(hit.document_id, [hit.document_name, hit.document_id, 0])[2] += 1
        return {
            "total": len(self.hits),
            "chunks": [asdict(hit) for hit in self.hits],
            "doc_aggs": [{"doc_name": n, "doc_id": d, "count": c} for n, d, c in counts.values()],
        }

    def count(self, usage: Usage | None, prompt: list[dict[str, str]], answer: str) -> None:
        """Adds one LLM call's tokens: the provider's own count when it reported one, else ours."""
        if usage is not None:
            self.prompt_tokens += usage.prompt_tokens
            self.completion_tokens += usage.completion_tokens
            return
        self.prompt_tokens += sum(self.services.count_tokens(m.get("content") or "") for m in prompt)
        self.completion_tokens += self.services.count_tokens(answer)


class Component:
    """One node of a canvas. Subclasses name their RAGFlow type, check their params and do their work."""

    type_name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, component_id: str, params: dict[str, Any], downstream: list[str]) -> None:
        self.id = component_id
        self.params = copy.deepcopy({**self.defaults, **params})  # checks fill in defaults: never in the DSL
        self.downstream = downstream
        self.check()

    def check(self) -> None:
        """Refuse parameters this component cannot run with (raise `Invalid`)."""

    def targets(self) -> list[str]:
        """The components a branch may go to besides `downstream` (Switch, Categorize)."""
        return []

    def invoke(self, run: Run) -> AsyncIterator[str]:
        """Does the work and sets `run.outputs[self.id]`; yields the text a Message shows, if any."""
        raise NotImplementedError

    def next(self, run: Run) -> list[str]:
        return self.downstream

    def _fail(self, message: str) -> Invalid:
        return Invalid(f"[{self.type_name}] {self.id}: {message}")

    def text_param(self, key: str) -> str:
        value = self.params.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._fail(f"`{key}` should be a string")
        return value

    def number_param(self, key: str, low: float, high: float, integer: bool = False) -> None:
        check_number(f"[{self.type_name}] {self.id}", self.params, key, (low, high), integer)


def plain(value: Any) -> Any:
    """An output as JSON (node events, traces): an LLM answer not read yet shows what was read of it."""
    if isinstance(value, Deferred):
        return value.text
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def check_number(where: str, params: dict[str, Any], key: str, bounds: tuple[float, float], integer: bool) -> None:
    """`params[key]` must be a number (an integer with `integer`) within `bounds`."""
    value, (low, high) = params.get(key), bounds
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise Invalid(f"{where}: `{key}` should be {kind} between {low:g} and {high:g}")
