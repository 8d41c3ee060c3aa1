from __future__ import annotations

import pytest

from service.errors import Unsupported
from service.text.chunk import chunk, count_tokens
from service.text.parse import Parsed, Section


def sections(*texts: str) -> Parsed:
    return Parsed(sections=[Section(text) for text in texts])


def test_count_tokens_counts_words_cjk_characters_and_punctuation() -> None:
    assert count_tokens("Hello, world") == 3
    assert count_tokens("東京都") == 3
    assert count_tokens("") == 0


def test_naive_respects_the_token_budget_and_keeps_every_word() -> None:
    words = [f"w{i}" for i in range(1000)]
    text = "\n".join(" ".join(words[i : i + 10]) for i in range(0, 1000, 10))
    drafts = chunk(sections(text), "naive", {"chunk_token_num": 64, "delimiter": "\n"})
    assert all(draft.token_count <= 64 for draft in drafts)
    assert " ".join(d.content.replace("\n", " ") for d in drafts).split() == words
    assert len(drafts) == 17  # 100 lines of 10 tokens, 6 lines per chunk


def test_naive_overlap_repeats_the_tail_of_the_previous_chunk() -> None:
    text = "\n".join(f"line{i} alpha beta gamma delta" for i in range(40))
    drafts = chunk(sections(text), "naive", {"chunk_token_num": 50, "overlapped_percent": 20})
    assert len(drafts) > 2
    # 20% of 50 tokens: the last 10 tokens (two 5-token lines) of a chunk open the next one.
    assert drafts[1].content.split()[:10] == drafts[0].content.split()[-10:]
    assert drafts[1].content.split()[10] != drafts[0].content.split()[-10]


def test_naive_splits_an_oversized_paragraph_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    drafts = chunk(sections(text), "naive", {"chunk_token_num": 40})
    assert len(drafts) > 5 and all(d.token_count <= 40 for d in drafts)


def test_custom_multi_character_delimiter() -> None:
    drafts = chunk(sections("a a a##b b b##c c c"), "naive", {"chunk_token_num": 3, "delimiter": "`##`"})
    assert [d.content for d in drafts] == ["a a a", "b b b", "c c c"]


def test_one_keeps_the_whole_document() -> None:
    drafts = chunk(sections("first", "second", "third"), "one", {})
    assert [d.content for d in drafts] == ["first\n\nsecond\n\nthird"]


def test_table_makes_one_chunk_per_row_with_headers() -> None:
    parsed = Parsed(header=["name", "age"], rows=[["ann", "31"], ["bob", ""]])
    assert [d.content for d in chunk(parsed, "table", {})] == ["name: ann\nage: 31", "name: bob"]


def test_qa_from_rows_tabs_and_prefixed_lines() -> None:
    table = Parsed(header=["Q1", "A1"], rows=[["Q2", "A2"]])
    assert [d.content for d in chunk(table, "qa", {})] == ["Question: Q1\tAnswer: A1", "Question: Q2\tAnswer: A2"]
    text = sections("What is X?\tX is a letter.\nQ: Why?\nA: Because.")
    assert [d.content for d in chunk(text, "qa", {})] == [
        "Question: What is X?\tAnswer: X is a letter.",
        "Question: Why?\tAnswer: Because.",
    ]


def test_hierarchical_methods_prefix_the_heading_path() -> None:
    parsed = Parsed(
        sections=[
            Section("Guide", heading_level=1),
            Section("Intro text."),
            Section("Setup", heading_level=2),
            Section("Install it."),
            Section("Chapter 2 Usage"),
            Section("Run it."),
        ]
    )
    for method in ("book", "manual", "laws"):
        contents = [d.content for d in chunk(parsed, method, {"chunk_token_num": 512})]
        assert contents == ["Guide\nIntro text.", "Guide > Setup\nInstall it.", "Chapter 2 Usage\nRun it."]


@pytest.mark.parametrize("method", ["paper", "resume", "tag", "bogus"])
def test_unsupported_methods_are_refused_by_name(method: str) -> None:
    with pytest.raises(Unsupported, match=method):
        chunk(sections("x"), method, {})


def test_presentation_and_picture_give_one_chunk_per_page_however_long() -> None:
    pages = Parsed(sections=[Section("Slide one", page=1), Section("its notes " * 600, page=1), Section("Two", page=2)])
    for method in ("presentation", "picture"):
        drafts = chunk(pages, method, {"chunk_token_num": 16})
        assert [(d.page, d.content.splitlines()[0]) for d in drafts] == [(1, "Slide one"), (2, "Two")]
        assert drafts[0].positions == [[1, 0, 0, 0, 0]]
    assert len(chunk(sections("a " * 40), "presentation", {"chunk_token_num": 16})) == 3  # no pages: as naive


def test_email_chunks_never_span_the_message_and_an_attachment() -> None:
    parsed = Parsed(
        sections=[
            Section("Subject: Hi"),
            Section("Body text."),
            Section("Attachment: a.txt", heading_level=1),
            Section("First attachment."),
            Section("Attachment: b.txt", heading_level=1),
            Section("Second attachment."),
        ]
    )
    contents = [d.content for d in chunk(parsed, "email", {"chunk_token_num": 512})]
    assert contents == [
        "Subject: Hi\nBody text.",
        "Attachment: a.txt\nFirst attachment.",
        "Attachment: b.txt\nSecond attachment.",
    ]
