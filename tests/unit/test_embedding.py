"""The built-in embedder: concurrent callers share encode batches and each gets its own vectors back."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import pytest

from service.errors import Invalid, Unsupported
from service.providers.embedding import BUILTIN, SentenceTransformerEmbedder, canonical_name, load_embedder

TEXTS = [f"Sentence number {i} is about {topic}." for i, topic in enumerate(["cats", "rivers", "taxes", "jazz"] * 4)]


class CountingEmbedder(SentenceTransformerEmbedder):
    """The real model; records the size of every forward batch it runs."""

    def __init__(self, model: Any, batch_size: int) -> None:
        super().__init__("counting", model, batch_size)
        self.batches: list[int] = []

    def encode(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(len(texts))
        return super().encode(texts)


def close(a: list[float], b: list[float]) -> bool:
    return math.isclose(sum(x * y for x, y in zip(a, b, strict=True)), 1.0, abs_tol=1e-4)


async def test_concurrent_calls_are_coalesced_and_answered_in_order() -> None:
    embedder = CountingEmbedder(load_embedder(BUILTIN).model, batch_size=8)
    one_by_one = [embedder.encode([text])[0] for text in TEXTS]
    embedder.batches.clear()

    together = await asyncio.gather(*(embedder.embed([text]) for text in TEXTS))

    assert all(close(vector, expected) for [vector], expected in zip(together, one_by_one, strict=True))
    assert sum(embedder.batches) == len(TEXTS)
    assert len(embedder.batches) < len(TEXTS)  # shared forward passes, not one per caller
    assert max(embedder.batches) <= 8


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    embedder = CountingEmbedder(load_embedder(BUILTIN).model, batch_size=4)
    first = asyncio.create_task(embedder.embed(TEXTS[:4]))  # occupies the encoder
    await asyncio.sleep(0)
    doomed = asyncio.create_task(embedder.embed(TEXTS[4:8]))
    survivor = asyncio.create_task(embedder.embed(TEXTS[8:10]))
    await asyncio.sleep(0)
    doomed.cancel()

    assert len(await first) == 4
    assert len(await survivor) == 2
    assert doomed.cancelled()
    assert embedder.batches == [4, 2]  # the cancelled request's texts were never encoded


async def test_a_large_request_goes_alone_and_whole() -> None:
    embedder = CountingEmbedder(load_embedder(BUILTIN).model, batch_size=4)
    vectors = await embedder.embed(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert embedder.batches == [len(TEXTS)]


async def test_parallel_encoders_run_batches_at_the_same_time() -> None:
    both_inside = threading.Barrier(2, timeout=30)  # broken (and the test failed) if encodes are serialised

    class MeetingEmbedder(SentenceTransformerEmbedder):
        def encode(self, texts: list[str]) -> list[list[float]]:
            both_inside.wait()
            return super().encode(texts)

    embedder = MeetingEmbedder("meeting", load_embedder(BUILTIN).model, batch_size=4, parallel=2)
    first, second = await asyncio.gather(embedder.embed(TEXTS[:4]), embedder.embed(TEXTS[4:8]))

    assert len(first) == len(second) == 4
    assert all(close(a, b) for a, b in zip(first, load_embedder(BUILTIN).encode(TEXTS[:4]), strict=True))


def test_names_are_canonicalised_once_and_share_one_loaded_model() -> None:
    assert canonical_name("all-MiniLM-L6-v2@builtin") == canonical_name("all-MiniLM-L6-v2@BUILTIN") == BUILTIN
    assert load_embedder("all-MiniLM-L6-v2@builtin") is load_embedder(BUILTIN)  # not a second copy of the model
    with pytest.raises(Invalid):
        canonical_name("all-MiniLM-L6-v2")
    for unknown in ("all-MiniLM-L6-v2@Elsewhere", "other-model@Builtin"):
        with pytest.raises(Unsupported):
            canonical_name(unknown)
