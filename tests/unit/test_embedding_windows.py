"""A text longer than the model reads is embedded whole: windows cover all of it and their vectors are pooled."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from service.providers.embedding import BUILTIN, SentenceTransformerEmbedder, load_embedder
from service.providers.windows import pool, token_spans, windows

PASTA = "Boil the pasta in plenty of salted water until it is al dente, then drain it and toss it with butter. "
VOLCANO = (
    "Volcanic eruptions in Iceland send rivers of glowing lava across the black basalt fields. The volcano near"
    " Reykjavik erupted again, and lava flowed toward the coast while ash clouds grounded flights."
)
LONG = PASTA * 12 + VOLCANO  # 334 word-pieces: the volcano lies past all-MiniLM-L6-v2's 254


def embedder() -> SentenceTransformerEmbedder:
    return load_embedder(BUILTIN)


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("words", "limit", "overlap"),
    [
        ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10, 2),  # fits: one window
        (list(range(11)), 10, 2),
        (list(range(600)), 254, 31),
        (list(range(1000)), 254, 0),
        ([i // 3 for i in range(300)], 40, 8),  # three-token words
        ([i // 50 for i in range(500)], 40, 8),  # words longer than the overlap: cut inside them
        (list(range(7)), 1, 0),
    ],
)
def test_spans_cover_every_token_within_the_limit_and_overlap(words: list[int], limit: int, overlap: int) -> None:
    spans = token_spans(list(words), limit, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == len(words)
    assert all(0 < end - start <= limit for start, end in spans)
    assert all(b_start <= a_end - overlap for (_, a_end), (b_start, _) in pairwise(spans))
    assert all(b_start > a_start for (a_start, _), (b_start, _) in pairwise(spans))
    minimum = 1 if len(words) <= limit else math.ceil((len(words) - overlap) / (limit - overlap))
    assert len(spans) <= minimum + 1  # as few windows as the limit allows (one more where words forced a cut)


def test_spans_are_cut_between_words_and_spread_evenly() -> None:
    words = [i // 4 for i in range(1000)]  # 250 words of four tokens
    spans = token_spans(words, 254, 31)
    assert all(start % 4 == 0 for start, _ in spans) and all(end % 4 == 0 for _, end in spans)
    lengths = [end - start for start, end in spans]
    assert len(spans) == 5 and max(lengths) - min(lengths) <= 8  # ≈ (1000 + 4 × 31) / 5 each, not 254 + a stub


def test_a_refused_range_is_shortened_and_coverage_kept() -> None:
    spans = token_spans(list(range(100)), 30, 5, fits=lambda start, end: end - start <= 20)
    assert all(end - start <= 20 for start, end in spans) and spans[-1][1] == 100
    assert all(b <= a_end for (_, a_end), (b, _) in pairwise(spans))


def test_every_window_fits_the_model_and_together_they_hold_the_whole_text() -> None:
    model = embedder()
    words = " ".join(f"topic{i} alpha{i}," for i in range(300))
    one_long_word = "x" + "qzv" * 60  # more word-pieces than the overlap: cut inside it
    cjk = "".join(chr(0x4E00 + i) for i in range(300))
    text = f"{words} {one_long_word} {cjk} the end."
    pieces = windows(text, model._counter, model.window, model.overlap)
    assert len(pieces) > 3 and all(model.count_tokens(piece) <= model.window for piece in pieces)
    covered = 0
    for piece in pieces:  # no text repeats, so each window's place is where it is found
        found = text.find(piece)
        assert 0 <= found <= covered  # in order, and no gap after the previous window
        covered = found + len(piece)
    assert covered == len(text)


def test_a_text_within_the_window_is_embedded_as_before() -> None:
    model = embedder()
    assert windows(PASTA, model._counter, model.window, model.overlap) == [PASTA]
    [vector] = model.encode([PASTA])
    expected = model.model.encode([PASTA], normalize_embeddings=True)[0]
    assert np.allclose(vector, expected, atol=1e-6)


def test_the_tail_of_a_long_text_is_in_its_vector() -> None:
    model = embedder()
    assert model.count_tokens(PASTA * 12) > model.window  # the volcano sentence lies past the window
    [long_vector, other_tail, query] = model.encode([LONG, PASTA * 12 + PASTA, "volcano eruption lava Iceland"])
    assert dot(long_vector, other_tail) < 0.99  # truncated to the window, both texts had one vector
    assert dot(long_vector, query) > 0.2  # 0.30; cut at the window, 0.04


def test_a_long_text_is_the_renormalised_mean_of_its_windows() -> None:
    model = embedder()
    pieces = windows(LONG, model._counter, model.window, model.overlap)
    assert len(pieces) == 2
    each = model.model.encode(pieces, normalize_embeddings=True)
    mean = each.mean(axis=0)
    [vector] = model.encode([LONG])
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
    assert math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-5)


def test_pool_keeps_texts_apart() -> None:
    vectors = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    pooled = pool(vectors, [2, 1, 2])
    assert np.allclose(pooled, np.array([[math.sqrt(0.5), math.sqrt(0.5)], [1, 0], [0, 1]]))
