"""Provider contracts: one or two methods each."""

from __future__ import annotations

from typing import Protocol


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` is the `model@provider` string stored beside each vector."""

    name: str
    dim: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...
