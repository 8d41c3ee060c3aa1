"""Encoders and token counts from several threads at once get the answers one thread alone gets.

The model's HuggingFace tokenizer used to be shared by the encoders and `count_tokens`, which reconfigure it
(padding and truncation on to encode, off to count): a count in another thread between an encode's setup and
its tokenizing gave that encode a ragged batch ("Unable to create tensor ... expected sequence of length 8
(got 5)"), and an encode's setup gave a count of a long text the truncated 256.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable

from service.providers.embedding import BUILTIN, SentenceTransformerEmbedder, load_embedder

RAGGED = [" ".join(["word"] * (1 + 3 * i)) for i in range(4)]  # only padding makes this batch one tensor
LONG = " ".join(f"token{i}" for i in range(400))  # far over the 256-token window that encoding truncates to
SECONDS = 2.0  # on the shared tokenizer, the first wrong answer came within 0.1 s (about 15 per second)


def same_vectors(got: list[list[float]], expected: list[list[float]]) -> bool:
    return len(got) == len(expected) and all(
        math.isclose(sum(x * y for x, y in zip(a, b, strict=True)), 1.0, abs_tol=1e-4)
        for a, b in zip(got, expected, strict=True)
    )


def run_together(workers: list[Callable[[], str | None]], seconds: float) -> list[str]:
    """Each worker in its own thread, repeatedly, until the time is up or one reports a problem."""
    problems: list[str] = []
    deadline = time.monotonic() + seconds

    def loop(work: Callable[[], str | None]) -> None:
        while time.monotonic() < deadline and not problems:
            try:
                problem = work()
            except Exception as exc:  # the race surfaces as the tokenizer's or torch's own error
                problem = repr(exc)
            if problem:
                problems.append(problem)

    threads = [threading.Thread(target=loop, args=(work,)) for work in workers]
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads 50 times as often, so a race shows within the test's seconds
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    return problems


def test_two_encoders_and_two_counters_at_once_answer_as_one_thread_does() -> None:
    embedder = SentenceTransformerEmbedder("threads", load_embedder(BUILTIN).model, batch_size=4, parallel=2)
    vectors, tokens = embedder.encode(RAGGED), embedder.count_tokens(LONG)
    assert tokens > 256

    def encode() -> str | None:
        return None if same_vectors(embedder.encode(RAGGED), vectors) else "an encode gave other vectors"

    def count() -> str | None:
        counted = embedder.count_tokens(LONG)
        return None if counted == tokens else f"counted {counted} tokens, not {tokens}"

    assert run_together([encode, encode, count, count], SECONDS) == []
    assert embedder.count_tokens("hello world") == 2  # and the counter still counts without special tokens
