"""A text longer than an encoder reads, cut into overlapping windows the encoder reads whole, and pooled back.

An encoder sees at most `max_seq_length` tokens (all-MiniLM-L6-v2: 256 word-pieces, two of them [CLS] and
[SEP]) and sentence-transformers drops the rest without a word. A chunk is sized in the chunker's tokens
(`chunk_token_num`), not the encoder's, and some chunk methods (`one`, `qa`, `table`) do not size their
chunks at all, so a stored chunk may be several windows long. Each window is encoded, and the chunk's vector
is the mean of the unit-length window vectors, renormalised: every word of the chunk is in it.

Windows are cut by the model's own tokenizer, at word boundaries where a word is not longer than the
overlap, all of one length (the last one too, by spreading their starts evenly), so each weighs the same
in the mean for the same amount of text; consecutive windows share at least `overlap` tokens, so a
sentence cut at one window's edge is whole in the next.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt


class Tokenizer(Protocol):
    """What windowing needs of a `tokenizers.Tokenizer` (one that neither pads nor truncates)."""

    def encode(self, sequence: str, add_special_tokens: bool = ...) -> Any: ...


def windows(text: str, tokenizer: Tokenizer, limit: int, overlap: int) -> list[str]:
    """`text` itself when it fits `limit` tokens; otherwise overlapping windows of it, each within `limit`."""
    encoding = tokenizer.encode(text, add_special_tokens=False)
    offsets = encoding.offsets

    def piece(start: int, end: int) -> str:
        return text[offsets[start][0] : offsets[end - 1][1]]

    def fits(start: int, end: int) -> bool:
        # Re-tokenized alone, a piece cut inside a word may take a token more than its span did.
        return len(tokenizer.encode(piece(start, end), add_special_tokens=False).ids) <= limit

    spans = token_spans(encoding.word_ids, limit, overlap, fits)
    return [text] if len(spans) <= 1 else [piece(start, end) for start, end in spans]


def token_spans(
    word_ids: Sequence[int | None], limit: int, overlap: int, fits: Callable[[int, int], bool] = lambda _s, _e: True
) -> list[tuple[int, int]]:
    """Token ranges `[start, end)` covering every token, each ≤ `limit` long, neighbours sharing ≥ `overlap`.

    As few windows as the limit allows, all of about one length: the text is spread evenly over them, so
    each weighs the same in the mean for the same amount of text, and the encoder reads little more than
    the text itself. `fits(start, end)` may refuse a range whose text re-tokenizes longer: it is shortened.
    """
    count = len(word_ids)
    overlap = max(0, min(overlap, limit // 2))
    if count <= limit:
        return [(0, count)]
    needed = math.ceil((count - overlap) / (limit - overlap))
    length = math.ceil((count + (needed - 1) * overlap) / needed)  # ≤ limit, by the choice of `needed`
    spans: list[tuple[int, int]] = []
    start = end = 0
    while end < count:
        planned = len(spans) * (length - overlap)  # where this window would start on the even grid
        if spans:  # never less overlap than asked, and always forward
            target = max(min(planned, end - overlap), start + 1)
            start = _word_start(word_ids, target, floor=max(target - overlap, start + 1))
        end = min(planned + length, start + limit, count)
        if end < count:  # cut before the word that would not fit, unless that word is longer than the overlap
            end = _word_start(word_ids, end, floor=max(end - overlap, start + 1))
        while end - start > 1 and not fits(start, end):
            end -= 1
        spans.append((start, end))
    return spans


def _word_start(word_ids: Sequence[int | None], index: int, floor: int) -> int:
    """The first token of the word holding token `index`, if that is not below `floor`; else `index`."""
    first = index
    while first > 0 and word_ids[first] is not None and word_ids[first - 1] == word_ids[first]:
        first -= 1
    return first if first >= floor else index


def pool(vectors: npt.NDArray[np.float32], sizes: list[int]) -> npt.NDArray[np.float32]:
    """One unit vector per text from its `size` consecutive window vectors: their renormalised mean."""
    pooled = np.empty((len(sizes), vectors.shape[1]), dtype=np.float32)
    offset = 0
    for index, size in enumerate(sizes):
        mean = vectors[offset : offset + size].mean(axis=0)
        pooled[index] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        offset += size
    return pooled
