"""Batch operations as RAGFlow does them: act on the ids that are valid, report the others."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Batch:
    """What one batch did: how many it acted on, the ids it could not find, and the other errors
    (RAGFlow's `Duplicate <kind> ids: <id>` lines first, then per-item refusals)."""

    done: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def unique_ids(ids: list[str], kind: str) -> tuple[list[str], list[str]]:
    """Each id once, in the order given, and one `Duplicate <kind> ids: <id>` per repeated id."""
    counts = Counter(ids)
    return list(counts), [f"Duplicate {kind} ids: {value}" for value, seen in counts.items() if seen > 1]
