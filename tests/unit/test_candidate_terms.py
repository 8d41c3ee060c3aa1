"""Which query terms generate keyword candidates: the rarer ones; every term still counts in the score."""

from __future__ import annotations

import math

from service.domain.retrieval import DF_CAP, candidate_terms


def idf(corpus: int, df: int) -> float:
    return math.log(1 + (corpus - df + 0.5) / (df + 0.5))


def test_a_term_in_over_30_percent_of_a_small_corpus_is_skipped() -> None:
    corpus = 1_000
    weights = [idf(corpus, 10), idf(corpus, 290), idf(corpus, 400), 0.0]
    assert candidate_terms(["rare", "fairly", "common", "absent"], weights, corpus) == ["rare", "fairly"]


def test_in_a_large_corpus_a_term_whose_count_reached_the_cap_is_skipped() -> None:
    corpus = 100_000  # 30% would be 30,000 chunks; counting stopped at DF_CAP (5%)
    weights = [idf(corpus, 10), idf(corpus, DF_CAP - 1), idf(corpus, DF_CAP)]
    assert candidate_terms(["rare", "below", "capped"], weights, corpus) == ["rare", "below"]


def test_a_tiny_corpus_keeps_every_present_term() -> None:
    corpus = 10
    weights = [idf(corpus, 9), idf(corpus, 1), 0.0]
    assert candidate_terms(["everywhere", "once", "absent"], weights, corpus) == ["everywhere", "once"]
