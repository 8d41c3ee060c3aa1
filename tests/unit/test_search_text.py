from __future__ import annotations

from service.domain.retrieval import highlight
from service.text.search_text import index_text


def test_cjk_runs_become_overlapping_bigrams() -> None:
    assert index_text("東京都").split() == ["東京", "京都"]
    assert index_text("猫").split() == ["猫"]


def test_latin_text_is_untouched_and_mixed_text_is_split() -> None:
    assert index_text("plain words") == "plain words"
    assert index_text("GPU東京").split() == ["GPU", "東京"]


def test_highlight_wraps_stems_and_bigrams() -> None:
    assert highlight("Cells feed on cholesterol", ["cell", "feed"]) == "<em>Cells</em> <em>feed</em> on cholesterol"
    assert highlight("東京都に住む", ["京都"]) == "東<em>京都</em>に住む"
    assert highlight("nothing here", []) == "nothing here"
