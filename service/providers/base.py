"""Provider contracts: one or two methods each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` is the `model@provider` string stored beside each vector."""

    name: str
    dim: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


# The embedder of a `model@provider` name (None: the server's default model), loaded once per process.
EmbedderFor = Callable[[str | None], Embedder]


@dataclass
class Passage:
    """A retrieved chunk as the model sees it; `index` is what an `[ID:n]` citation refers to."""

    index: int
    document_name: str
    content: str


@dataclass
class Generation:
    """One LLM call: the prompt, the passages it was built from, and sampling settings."""

    model: str  # the provider's own model name (after `name@provider` is resolved)
    messages: list[dict[str, str]]
    passages: list[Passage] = field(default_factory=list)
    question: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int


class ChatModel(Protocol):
    """Streams an answer as text deltas, then a `Usage` if the provider reports one.

    Raises `UpstreamError` (with a message safe to show) when the provider fails, at any point.
    """

    name: str

    def stream(self, generation: Generation) -> AsyncIterator[str | Usage]: ...
