"""Encode throughput with two encoder threads while another thread counts tokens, three ways side by side.

- shared: `count_tokens` on the model's own tokenizer, as before issue #13 (races: wrong counts, failed batches)
- lock: the same, with one lock around every encode and every count (safe, but the encoders take turns)
- own counter: what `SentenceTransformerEmbedder` does now (a tokenizer of its own for counting)

Run: `.venv/bin/python -m bench.embed_threads [--record]` (--record rewrites its section of bench/RESULTS.md).
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.common import record
from service.providers.embedding import BUILTIN, SentenceTransformerEmbedder, load_embedder

SECONDS = 10.0  # per variant and round
ROUNDS = 3  # variants take turns, so a load that comes and goes hits each alike
ENCODERS = 2
BATCH = [" ".join(f"word{(i * 7 + j) % 997}" for j in range(40 + 9 * (i % 8))) for i in range(32)]
COUNTED = " ".join(f"token{i}" for i in range(300))


class Shared(SentenceTransformerEmbedder):
    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.encode(text, add_special_tokens=False))


class Locked(Shared):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return super().encode(texts)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return super().count_tokens(text)


def measure(embedder: SentenceTransformerEmbedder, expected: int) -> dict[str, float]:
    deadline = time.monotonic() + SECONDS
    encoded, counts, wrong, failures = [0], [0], [0], [0]
    count_seconds: list[float] = []

    def encode() -> None:
        while time.monotonic() < deadline:
            try:
                embedder.encode(BATCH)
                encoded[0] += len(BATCH)
            except Exception:
                failures[0] += 1

    def count() -> None:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                wrong[0] += embedder.count_tokens(COUNTED) != expected
            except Exception:
                failures[0] += 1
            count_seconds.append(time.perf_counter() - began)
            counts[0] += 1
            time.sleep(0.005)  # a count every few milliseconds, as busy API traffic would ask for them

    threads = [threading.Thread(target=encode) for _ in range(ENCODERS)] + [threading.Thread(target=count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    count_seconds.sort()
    return {
        "texts/s": encoded[0] / SECONDS,
        "counts": counts[0],
        "count p50 ms": 1000 * count_seconds[len(count_seconds) // 2],
        "count p99 ms": 1000 * count_seconds[int(len(count_seconds) * 0.99)],
        "wrong counts": wrong[0],
        "failed calls": failures[0],
    }


def main() -> None:
    model = load_embedder(BUILTIN, parallel=ENCODERS).model  # one torch thread per encoder, as the server runs
    expected = SentenceTransformerEmbedder("reference", model).count_tokens(COUNTED)
    variants: dict[str, Callable[[], SentenceTransformerEmbedder]] = {
        "shared tokenizer (before)": lambda: Shared("shared", model, parallel=ENCODERS),
        "one lock around encode and count": lambda: Locked("locked", model, parallel=ENCODERS),
        "own counting tokenizer (now)": lambda: SentenceTransformerEmbedder("now", model, parallel=ENCODERS),
    }
    lines = [
        f"{ENCODERS} encoder threads encoding batches of {len(BATCH)} texts (40–103 words) while a third thread",
        f"counts a 300-word text every ~5 ms; {ROUNDS} rounds of {SECONDS:g} s per variant, taking turns;",
        "medians of the rounds (counts, wrong counts and failed calls: totals).",
        f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, CPU only.",
        "",
        "| variant | encode texts/s | counts | count p50 | count p99 | wrong counts | failed calls |",
        "|---|---|---|---|---|---|---|",
    ]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, build in variants.items():
            results[name].append(measure(build(), expected))
    for name, rounds in results.items():
        total = {key: sum(r[key] for r in rounds) for key in ("counts", "wrong counts", "failed calls")}
        median = {key: sorted(r[key] for r in rounds)[len(rounds) // 2] for key in rounds[0]}
        lines.append(
            f"| {name} | {median['texts/s']:.1f} | {total['counts']:.0f} | {median['count p50 ms']:.2f} ms"
            f" | {median['count p99 ms']:.2f} ms | {total['wrong counts']:.0f} | {total['failed calls']:.0f} |"
        )
    if "--record" in sys.argv:
        record("Embedding from several threads (bench/embed_threads.py)", lines)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
