"""Which query terms generate keyword candidates: the rarest, while the chunks holding them fit the budget;
every term still counts in the score (tests/api/ragflow/test_retrieval_bm25.py)."""

from __future__ import annotations

from service.domain.keyword_scoring import KeywordTerms, candidate_terms


def terms(dfs: dict[str, int], corpus: int = 100_000) -> KeywordTerms:
    return KeywordTerms(list(dfs), list(dfs.values()), corpus, corpus * 50)


def test_the_rarest_terms_are_taken_while_their_chunks_fit_the_budget() -> None:
    found = terms({"common": 9_000, "rare": 10, "fairly": 6_000, "absent": 0, "usual": 5_000})
    assert candidate_terms(found, budget=11_010) == ["rare", "usual", "fairly"]
    assert candidate_terms(found, budget=11_009) == ["rare", "usual"]


def test_a_small_corpus_keeps_every_present_term() -> None:
    found = terms({"everywhere": 10, "once": 1, "absent": 0}, corpus=10)
    assert candidate_terms(found) == ["once", "everywhere"]


def test_a_question_of_only_very_common_terms_has_no_keyword_candidates() -> None:
    """Its chunks are still scored among the vector candidates; scanning 60k of them is what the budget avoids."""
    assert candidate_terms(terms({"cancer": 60_000, "study": 40_000}), budget=20_000) == []
