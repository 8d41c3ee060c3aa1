"""Evaluation metrics: each a small named function of one scored answer, returning a score or None (not applicable).

Text metrics compare the answer with the item's expected output after SQuAD's normalisation (lower case,
punctuation and the articles a/an/the dropped; CJK characters count as words of their own):
`exact_match`, `contains` (the expected output appears in the answer), token-level `f1`, `rouge_l` (F-measure of
the longest common token subsequence). Retrieval metrics need an item that names what should be retrieved:
`retrieval_hit@k` (1 when one of the first k retrieved chunks is relevant) and `mrr` (1 / rank of the first
relevant chunk, 0 when none is). `latency_ms` and `tokens` (prompt + completion) are measured. `llm_judge` is
scored by a configured upstream model (domain/judge.py), not here.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.errors import Invalid

LLM_JUDGE = "llm_judge"
HIT_AT = "retrieval_hit@"
MAX_K = 1000
MAX_LCS_TOKENS = 2000  # rouge_l is quadratic: longer texts are cut (an answer of 2,000 tokens is already an essay)
DEFAULT_METRICS = ("exact_match", "contains", "f1", "rouge_l", "retrieval_hit@5", "mrr", "latency_ms", "tokens")
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCTUATION = str.maketrans("", "", string.punctuation)
# One CJK character is one word (they are not separated by spaces); otherwise runs of word characters.
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+")


@dataclass
class Scored:
    """What a metric looks at: the answer, what was expected, what was retrieved (hits of the reference)."""

    answer: str
    expected: str | None
    hits: list[dict[str, Any]] = field(default_factory=list)
    relevant_documents: frozenset[str] = frozenset()
    relevant_chunks: frozenset[str] = frozenset()
    latency_ms: float = 0.0
    tokens: int = 0


def tokens(text: str) -> list[str]:
    return [word for word in _WORDS.findall(text.lower().translate(_PUNCTUATION)) if word not in _ARTICLES]


def _text_metric(compare: Callable[[list[str], list[str]], float]) -> Callable[[Scored], float | None]:
    def metric(scored: Scored) -> float | None:
        if scored.expected is None:
            return None
        return compare(tokens(scored.answer), tokens(scored.expected))

    return metric


def _exact(answer: list[str], expected: list[str]) -> float:
    return float(answer == expected)


def _contains(answer: list[str], expected: list[str]) -> float:
    if not expected:
        return 1.0
    return float(f" {' '.join(expected)} " in f" {' '.join(answer)} ")


def _f1(answer: list[str], expected: list[str]) -> float:
    if not answer or not expected:
        return float(answer == expected)
    common = sum((Counter(answer) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(answer), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _lcs(first: list[str], second: list[str]) -> int:
    """Length of the longest common subsequence, one row of the table at a time."""
    previous = [0] * (len(second) + 1)
    for word in first:
        current = [0]
        for j, other in enumerate(second):
            current.append(previous[j] + 1 if word == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _rouge_l(answer: list[str], expected: list[str]) -> float:
    if not answer or not expected:
        return float(answer == expected)
    common = _lcs(answer[:MAX_LCS_TOKENS], expected[:MAX_LCS_TOKENS])
    if common == 0:
        return 0.0
    precision, recall = common / len(answer), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _relevant(scored: Scored, hit: dict[str, Any]) -> bool:
    """A hit is relevant when its chunk is named, or its document by id, by name or by name without extension."""
    name = str(hit.get("document_name", ""))
    documents = scored.relevant_documents
    return (
        str(hit.get("id", "")) in scored.relevant_chunks
        or str(hit.get("document_id", "")) in documents
        or name in documents
        or name.rsplit(".", 1)[0] in documents
    )


def _first_relevant_rank(scored: Scored) -> int | None:
    for rank, hit in enumerate(scored.hits, start=1):
        if _relevant(scored, hit):
            return rank
    return None


def _names_relevance(scored: Scored) -> bool:
    return bool(scored.relevant_documents or scored.relevant_chunks)


def _hit_at(k: int) -> Callable[[Scored], float | None]:
    def metric(scored: Scored) -> float | None:
        if not _names_relevance(scored):
            return None
        rank = _first_relevant_rank(scored)
        return float(rank is not None and rank <= k)

    return metric


def _mrr(scored: Scored) -> float | None:
    if not _names_relevance(scored):
        return None
    rank = _first_relevant_rank(scored)
    return 0.0 if rank is None else 1.0 / rank


METRICS: dict[str, Callable[[Scored], float | None]] = {
    "exact_match": _text_metric(_exact),
    "contains": _text_metric(_contains),
    "f1": _text_metric(_f1),
    "rouge_l": _text_metric(_rouge_l),
    "mrr": _mrr,
    "latency_ms": lambda scored: scored.latency_ms,
    "tokens": lambda scored: float(scored.tokens),
}
KNOWN = (*METRICS, "retrieval_hit@<k>", LLM_JUDGE)


def metric_function(name: str) -> Callable[[Scored], float | None]:
    if name.startswith(HIT_AT):
        return _hit_at(int(name.removeprefix(HIT_AT)))
    return METRICS[name]


def _checked_name(name: Any) -> str:
    if not isinstance(name, str):
        raise Invalid("`metrics` must be a list of metric names")
    if name in METRICS or name == LLM_JUDGE:
        return name
    k = name.removeprefix(HIT_AT) if name.startswith(HIT_AT) else ""
    if k.isdigit() and 1 <= int(k) <= MAX_K:
        return f"{HIT_AT}{int(k)}"
    raise Invalid(f"unknown metric {name!r}; known: {', '.join(KNOWN)} (k from 1 to {MAX_K})")


def check_metrics(value: Any) -> list[str]:
    """The metric names a run asked for (None: the defaults), each once, in the order given."""
    if value is None:
        return list(DEFAULT_METRICS)
    if not isinstance(value, list) or not value:
        raise Invalid("`metrics` must be a non-empty list of metric names")
    return list(dict.fromkeys(_checked_name(name) for name in value))


def score(names: list[str], scored: Scored) -> dict[str, float]:
    """Every applicable metric of `names` but the judge's (which needs a model call)."""
    found = {name: metric_function(name)(scored) for name in names if name != LLM_JUDGE}
    return {name: round(value, 6) for name, value in found.items() if value is not None}
