"""The keyword side of retrieval: Okapi BM25 over PostgreSQL's full-text index, normalised into [0, 1].

For a query q and a chunk d of length |d| (its indexed words) in datasets of N chunks averaging `avgdl` words:

    BM25(d, q) = Σ_t idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 - b + b · |d| / avgdl))
    idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))            (Lucene's, never negative)

over the question's distinct terms t (a word the question repeats counts once: on NFCorpus dev, weighing terms
by their count in the question did no better).

`term_similarity` is BM25 divided by the query's maximum attainable score, Σ_t idf(t) · (k1 + 1): each term's
saturating factor tf · (k1 + 1) / (tf + K_d) tends to k1 + 1 as its frequency grows, so the quotient lies in
[0, 1), ranks exactly as BM25 does, and reads as the IDF-weighted share of the query's terms a chunk holds,
each term counted by its saturated frequency tf / (tf + K_d) rather than 1 (RAGFlow's own term similarity is
that share with every held term counted 1). A chunk of average length holding each term once scores
1 / (k1 + 1) = 0.4. Terms no chunk holds weigh nothing (they are not attainable).

N, avgdl and df come from the datasets' statistics (`keyword_corpus`, `keyword_terms`), which the database
keeps as chunks change (migration 0015); tf and |d| from the chunk row (`keyword_repeats`, `keyword_length`).
Several datasets searched together are one corpus: their counts are summed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.text.search_text import TS_CONFIG, index_text

# The best on NFCorpus dev of k1 ∈ {0.9, 1.2, 1.5, 2.0} × b ∈ {0.4, 0.6, 0.75, 0.9} (0.312 nDCG@10; the grid
# spans 0.308-0.312, Lucene's 1.2 / 0.75 0.310: BM25 is flat here, any of them would do).
K1 = 1.5
B = 0.4
MAX_QUERY_TERMS = 256  # three bind parameters each in the search statement; asyncpg allows 32,767 in all
# The keyword candidates are the chunks holding the query's rarest terms, taken rarest first while the chunks
# they are found in stay within this many; every term still counts in the score of every candidate. Scoring
# a chunk costs a few µs, so this bounds the keyword side's cost whatever the question; below it (most
# questions in a dataset of tens of thousands of chunks) the ranking is exact BM25.
CANDIDATE_BUDGET = 20_000


@dataclass
class KeywordTerms:
    """The question's terms with what BM25 needs of them, in the order they appear in the question."""

    terms: list[str]  # distinct stemmed lexemes (CJK as bigrams), as the index holds them
    chunks_holding: list[int]  # df over the searched datasets
    corpus_chunks: int  # N
    corpus_words: int  # N · avgdl

    @property
    def weights(self) -> list[float]:
        """idf per term; 0 for a term no chunk holds."""
        return [idf(self.corpus_chunks, df) if df else 0.0 for df in self.chunks_holding]

    @property
    def average_length(self) -> float:
        return self.corpus_words / self.corpus_chunks if self.corpus_words else 1.0  # no words: no match


def idf(corpus: int, df: int) -> float:
    return math.log(1 + (corpus - df + 0.5) / (df + 0.5))


_TERMS_SQL = text(
    f"""
    WITH q AS (
        SELECT lexeme, positions[1] AS first FROM unnest(to_tsvector('{TS_CONFIG}', :q))
        ORDER BY positions[1], lexeme LIMIT :cap
    )
    SELECT (SELECT coalesce(sum(chunks), 0) FROM keyword_corpus WHERE dataset_id = ANY(:ds)) AS chunks,
           (SELECT coalesce(sum(words), 0) FROM keyword_corpus WHERE dataset_id = ANY(:ds)) AS words,
           ARRAY(SELECT lexeme FROM q ORDER BY first, lexeme) AS terms,
           ARRAY(SELECT (SELECT coalesce(sum(k.chunks), 0) FROM keyword_terms k
                         WHERE k.dataset_id = ANY(:ds) AND k.term = q.lexeme)
                 FROM q ORDER BY first, lexeme) AS dfs
    """
)


async def keyword_terms(db: AsyncSession, question: str, dataset_ids: list[str]) -> KeywordTerms:
    """The question's first MAX_QUERY_TERMS distinct lexemes (a pasted document must not cost a bind
    parameter per word) and the datasets' statistics for them: one round trip whatever the term count."""
    params = {"q": index_text(question), "cap": MAX_QUERY_TERMS, "ds": dataset_ids}
    row = (await db.execute(_TERMS_SQL, params)).one()
    return KeywordTerms(list(row.terms), [int(df) for df in row.dfs], int(row.chunks), int(row.words))


def candidate_terms(keywords: KeywordTerms, budget: int = CANDIDATE_BUDGET) -> list[str]:
    """The terms whose chunks become keyword candidates: the rarest ones, while their chunks fit the budget."""
    present = sorted((df, term) for term, df in zip(keywords.terms, keywords.chunks_holding, strict=True) if df)
    chosen: list[str] = []
    for df, term in present:
        budget -= df
        if budget < 0:
            break
        chosen.append(term)
    return chosen


def quote(term: str) -> str:
    """A lexeme as a tsquery operand, taken as is (not stemmed again)."""
    return "'" + term.replace("'", "''").replace("\\", "\\\\") + "'"


def score_sql(terms: Iterable[int], chunk: str = "c") -> str:
    """term_similarity of row `chunk` (counting only the query terms at indices `terms`), one `@@` per term
    written out (a subquery over the terms cost 9 µs a chunk); a term's frequency is read from
    `keyword_repeats` only where the chunk holds it."""
    k = f"(CAST(:k_base AS float8) + CAST(:k_slope AS float8) * {chunk}.keyword_length)"
    tf = f"coalesce(CAST({chunk}.keyword_repeats ->> CAST(:lexeme{{i}} AS text) AS float8), 1)"
    holds = f"{chunk}.tsv @@ CAST(:term{{i}} AS tsquery)"
    case = f"CASE WHEN {holds} THEN CAST(:weight{{i}} AS float8) * (1 - {k} / ({tf} + {k})) ELSE 0 END"
    cases = [case.format(i=i) for i in terms]
    return f"(({' + '.join(cases) or '0'}) / CAST(:weight_total AS float8))"


def score_params(keywords: KeywordTerms, k1: float = K1, b: float = B) -> dict[str, object]:
    """The bind parameters of `score_sql`: K_d = k1 · (1 - b + b · |d| / avgdl) = k_base + k_slope · |d|."""
    weights = keywords.weights
    return {
        **{f"term{i}": quote(term) for i, term in enumerate(keywords.terms)},
        **{f"lexeme{i}": term for i, term in enumerate(keywords.terms)},
        **{f"weight{i}": weight for i, weight in enumerate(weights)},
        "weight_total": sum(weights) or 1.0,
        "k_base": k1 * (1 - b),
        "k_slope": k1 * b / keywords.average_length,
    }
