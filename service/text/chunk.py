"""Chunking strategies, one function per RAGFlow chunk method, all with one signature.

`chunk(parsed, method, config) -> list[ChunkDraft]`; pure and table-tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.errors import Unsupported
from service.text.parse import Parsed, Section

# RAGFlow's other methods (paper, resume, tag, ...) need layout models, LLM extraction or tag sets that we do not
# run; `check_method` refuses them and names these.
SUPPORTED_METHODS = ("naive", "qa", "table", "one", "book", "manual", "laws", "presentation", "picture", "email")

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+|[^\s\w]", re.UNICODE)


def count_tokens(text: str) -> int:
    """Cheap, tokenizer-free count: words, CJK characters and punctuation each count one."""
    return len(_TOKEN.findall(text))


@dataclass
class ChunkDraft:
    content: str
    page: int | None = None
    token_count: int = 0
    positions: list[list[int]] = field(default_factory=list)


def check_method(method: str) -> None:
    if method not in SUPPORTED_METHODS:
        raise Unsupported(
            f"Chunk method '{method}' is not supported by this server; use one of: {', '.join(SUPPORTED_METHODS)}"
        )


def chunk(parsed: Parsed, method: str, config: dict[str, Any]) -> list[ChunkDraft]:
    check_method(method)
    drafts = _STRATEGIES[method](parsed, config)
    for draft in drafts:
        draft.token_count = count_tokens(draft.content)
        if draft.page is not None:
            draft.positions = [[draft.page, 0, 0, 0, 0]]
    return [draft for draft in drafts if draft.content.strip()]


def _budget(config: dict[str, Any]) -> int:
    return max(1, int(config.get("chunk_token_num") or 512))


def _overlap_tokens(config: dict[str, Any]) -> int:
    percent = float(config.get("overlapped_percent", config.get("overlap", 0)) or 0)
    percent = percent * 100 if 0 < percent < 1 else percent
    return int(_budget(config) * min(max(percent, 0), 90) / 100)


def _delimiters(config: dict[str, Any]) -> re.Pattern[str]:
    """RAGFlow's delimiter string: each character splits, and `multi-char` runs in backticks split too."""
    raw = str(config.get("delimiter", "\n") or "\n")
    multi = re.findall(r"`([^`]+)`", raw)
    singles = re.sub(r"`[^`]+`", "", raw).encode().decode("unicode_escape")
    alternatives = [re.escape(item) for item in multi] + [re.escape(char) for char in singles]
    return re.compile("|".join(alternatives) or r"\n")


def _pieces(text: str, pattern: re.Pattern[str], budget: int) -> list[str]:
    """Split on delimiters; anything still longer than the budget is cut at sentence ends, then words."""
    out: list[str] = []
    for piece in (p.strip() for p in pattern.split(text)):
        if not piece:
            continue
        if count_tokens(piece) <= budget:
            out.append(piece)
            continue
        for sentence in re.split(r"(?<=[.!?。！？;；])\s*", piece):
            out.extend(_hard_split(sentence, budget))
    return [piece for piece in out if piece.strip()]


def _hard_split(text: str, budget: int) -> list[str]:
    tokens = list(re.finditer(r"\S+", text))
    if count_tokens(text) <= budget or len(tokens) <= 1:
        return [text]
    out, start, used = [], 0, 0
    for index, match in enumerate(tokens):
        used += count_tokens(match.group())
        if used > budget and index > start:
            out.append(" ".join(m.group() for m in tokens[start:index]))
            start, used = index, count_tokens(match.group())
    out.append(" ".join(m.group() for m in tokens[start:]))
    return out


def _merge(pieces: list[tuple[str, int | None]], budget: int, overlap: int, prefix: str = "") -> list[ChunkDraft]:
    """Greedy merge of pieces up to `budget` tokens, carrying `overlap` tokens of tail into the next chunk."""
    drafts: list[ChunkDraft] = []
    current: list[str] = []
    used, page = 0, None
    for text, text_page in pieces:
        size = count_tokens(text)
        if current and used + size > budget:
            drafts.append(ChunkDraft(prefix + "\n".join(current), page))
            current, used = _tail(current, overlap), 0
            used = sum(count_tokens(item) for item in current)
            page = None
        if page is None:
            page = text_page
        current.append(text)
        used += size
    if current:
        drafts.append(ChunkDraft(prefix + "\n".join(current), page))
    return drafts


def _tail(lines: list[str], overlap: int) -> list[str]:
    if overlap <= 0:
        return []
    words = "\n".join(lines).split()
    kept: list[str] = []
    for word in reversed(words):
        if count_tokens(" ".join([word, *kept])) > overlap:
            break
        kept.insert(0, word)
    return [" ".join(kept)] if kept else []


def naive(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    return _merged(parsed.sections, config)


def _merged(sections: list[Section], config: dict[str, Any], prefix: str = "") -> list[ChunkDraft]:
    budget, pattern = _budget(config), _delimiters(config)
    pieces = [(piece, s.page) for s in sections for piece in _pieces(s.text, pattern, budget)]
    return _merge(pieces, budget, _overlap_tokens(config), prefix)


def one(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    text = "\n\n".join(section.text for section in parsed.sections)
    first_page = next((s.page for s in parsed.sections if s.page is not None), None)
    return [ChunkDraft(text, first_page)]


def table(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    if parsed.header is None:
        return naive(parsed, config)
    header = [name or f"column {index + 1}" for index, name in enumerate(parsed.header)]
    return [
        ChunkDraft("\n".join(f"{name}: {value}" for name, value in zip(header, row, strict=False) if value))
        for row in parsed.rows
    ]


_QA_LINE = re.compile(r"^\s*(?:Q|Question|问|質問)\s*[:：]\s*(.+)$", re.IGNORECASE)
_QA_ANSWER = re.compile(r"^\s*(?:A|Answer|答|回答)\s*[:：]\s*(.+)$", re.IGNORECASE)


def qa(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    """Question/answer pairs: the first two columns of a table, `Q<TAB>A` lines, or `Q:`/`A:` lines."""
    if parsed.header is not None:
        rows = [parsed.header, *parsed.rows]
        pairs = [(row[0], row[1]) for row in rows if len(row) >= 2 and row[0].strip()]
    else:
        pairs = _text_pairs("\n".join(section.text for section in parsed.sections))
    return [ChunkDraft(f"Question: {q.strip()}\tAnswer: {a.strip()}") for q, a in pairs]


def _text_pairs(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for line in text.splitlines():
        if "\t" in line and question is None and not _QA_LINE.match(line):
            q, _, a = line.partition("\t")
            if q.strip():
                pairs.append((q, a))
        elif match := _QA_LINE.match(line):
            question = match.group(1)
        elif (match := _QA_ANSWER.match(line)) and question is not None:
            pairs.append((question, match.group(1)))
            question = None
    return pairs


_HEADING_LINE = re.compile(
    r"^\s*(?:(?:chapter|section|part|article|title)\s+[\w.]+|第[一二三四五六七八九十百千\d]+[章节條条编部]"
    r"|\d+(?:\.\d+){0,3}\.?\s+\S)",
    re.IGNORECASE,
)


def _heading_level(section: Section) -> int:
    if section.heading_level:
        return section.heading_level
    first_line = section.text.splitlines()[0] if section.text else ""
    if len(section.text) < 120 and _HEADING_LINE.match(first_line):
        return 1 + first_line.strip().split()[0].count(".") if first_line[:1].isdigit() else 1
    return 0


def hierarchical(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    """book / manual / laws: body text grouped under its heading path, which prefixes every chunk."""
    budget, pattern, overlap = _budget(config), _delimiters(config), _overlap_tokens(config)
    path: list[tuple[int, str]] = []
    drafts: list[ChunkDraft] = []
    body: list[tuple[str, int | None]] = []

    def flush() -> None:
        prefix = " > ".join(title for _, title in path)
        drafts.extend(_merge(body, budget, overlap, prefix + "\n" if prefix else ""))
        body.clear()

    for section in parsed.sections:
        level = _heading_level(section)
        if level:
            flush()
            path[:] = [(lvl, title) for lvl, title in path if lvl < level] + [(level, section.text.strip())]
        else:
            body.extend((piece, section.page) for piece in _pieces(section.text, pattern, budget))
    flush()
    return drafts or naive(parsed, config)


def by_page(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    """presentation / picture: one chunk per slide, page or picture, whatever its length (as RAGFlow does).

    A file without pages (a text file in such a dataset) is chunked as `naive` would.
    """
    pages: dict[int, list[str]] = {}
    for section in parsed.sections:
        if section.page is None:
            return naive(parsed, config)
        pages.setdefault(section.page, []).append(section.text)
    return [ChunkDraft("\n".join(texts), page) for page, texts in pages.items()]


def email(parsed: Parsed, config: dict[str, Any]) -> list[ChunkDraft]:
    """The message, then each attachment (a heading opens one): naive chunks that never span two parts.

    An attachment's chunks start with its heading (`Attachment: <name>`), so a hit says where it came from.
    """
    parts: list[tuple[str, list[Section]]] = [("", [])]
    for section in parsed.sections:
        if section.heading_level:
            parts.append((section.text + "\n", []))
        else:
            parts[-1][1].append(section)
    return [draft for prefix, sections in parts for draft in _merged(sections, config, prefix)]


_STRATEGIES: dict[str, Callable[[Parsed, dict[str, Any]], list[ChunkDraft]]] = {
    "naive": naive,
    "qa": qa,
    "table": table,
    "one": one,
    "book": hierarchical,
    "manual": hierarchical,
    "laws": hierarchical,
    "presentation": by_page,
    "picture": by_page,
    "email": email,
}
