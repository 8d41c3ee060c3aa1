"""What a parser gives the chunker: a document's text as sections (and rows, for tabular files)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    text: str
    page: int | None = None
    heading_level: int = 0  # 0: body text; 1..6: a heading


@dataclass
class Parsed:
    sections: list[Section] = field(default_factory=list)
    header: list[str] | None = None  # tabular files: column names
    rows: list[list[str]] = field(default_factory=list)
