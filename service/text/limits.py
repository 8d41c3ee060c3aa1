"""How much work one document may cost: the parse limits, and the budget a parser spends as it goes.

A small upload can still mean unbounded work (a zip that expands to gigabytes, 300,000 paragraphs, a row of
100,000 cells): every parser counts what it reads against `ParseLimits`, and calls `Budget.tick()` often
enough that the clock and a stop request (the run was cancelled, or the worker is shutting down) are noticed
within milliseconds, even though parsing runs in a thread that cannot be interrupted from outside.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

MIB = 1024 * 1024


class ParseError(Exception):
    """The file could not be read as its type says (corrupt or mislabelled); the message says why."""


class LimitExceeded(ParseError):
    """The document is over one of the limits; the message names the limit and the setting that raises it."""


class ParseCancelled(Exception):
    """The parse was told to stop (`Budget.stop()`): whoever waited for it has moved on."""


# The environment variable behind each limit (read by service/settings.py), named in every refusal so an
# operator knows what to raise.
SETTING = {
    "max_expanded_bytes": "NECTAR_PARSE_MAX_EXPANDED_BYTES",
    "max_paragraphs": "NECTAR_PARSE_MAX_PARAGRAPHS",
    "max_rows": "NECTAR_PARSE_MAX_ROWS",
    "max_columns": "NECTAR_PARSE_MAX_COLUMNS",
    "max_chunks": "NECTAR_MAX_CHUNKS_PER_DOCUMENT",
    "timeout": "NECTAR_PARSE_TIMEOUT",
}


@dataclass(frozen=True)
class ParseLimits:
    max_expanded_bytes: int = 128 * MIB  # zip-based files: members' total uncompressed size; images: pixels × 4
    max_paragraphs: int = 100_000  # paragraphs, headings, pages' text blocks, JSON items
    max_rows: int = 100_000  # table rows: CSV and spreadsheet rows, rows of tables in a .docx
    max_columns: int = 1_000  # cells in one row
    max_chunks: int = 20_000  # chunks one document may produce (each is embedded and stored)
    timeout: float = 300.0  # seconds to parse and chunk one document


def _refusal(fact: str, limits: ParseLimits, name: str) -> LimitExceeded:
    """`fact` ends in "more than" or "longer than"; the limit and its setting follow."""
    value = getattr(limits, name)
    shown = f"{value:g} seconds" if name == "timeout" else f"{value:,}"
    return LimitExceeded(f"{fact} the limit of {shown} (setting {SETTING[name]}).")


class Budget:
    """One document's parse against its limits: what has been read so far, the deadline, and a stop flag.

    The parser's thread calls the checks; any other thread may call `stop()`.
    """

    def __init__(self, limits: ParseLimits | None = None, ocr_pdf: bool = True) -> None:
        self.limits = limits or ParseLimits()
        self.ocr_pdf = ocr_pdf  # PDF pages without a text layer go through OCR (the costliest work a parse does)
        self.deadline = time.monotonic() + self.limits.timeout
        self._stopped = threading.Event()
        self._rows = 0
        self._steps: list[tuple[float, str]] = []

    def stop(self) -> None:
        self._stopped.set()

    def report(self, fraction: float, message: str) -> None:
        """A step of a slow parse (OCR of page 3 of 10), for the job watching it to show on the document."""
        self._steps.append((fraction, message))  # list.append is atomic: the watching thread reads a whole step

    def steps(self, seen: int) -> list[tuple[float, str]]:
        """The steps reported after the first `seen` (fraction of the parse done, message), oldest first."""
        return self._steps[seen:]

    def waited(self, seconds: float) -> None:
        """Time spent queueing for a shared resource (the OCR engine) is not this document's work: it moves the
        deadline back, so a scan behind others is not timed out before it has started."""
        self.deadline += seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timed_out(self) -> LimitExceeded:
        return _refusal("Parsing took longer than", self.limits, "timeout")

    def tick(self) -> None:
        """Raise if the parse was stopped or is past its deadline; cheap enough to call per row or paragraph."""
        if self._stopped.is_set():
            raise ParseCancelled
        if time.monotonic() > self.deadline:
            raise self.timed_out()

    def expanded(self, size: int) -> None:
        """The declared uncompressed size of an archive's members, before anything is decompressed."""
        if size > self.limits.max_expanded_bytes:
            fact = f"The file declares {size:,} bytes of contents once uncompressed, more than"
            raise _refusal(fact, self.limits, "max_expanded_bytes")

    def over_expanded(self) -> LimitExceeded:
        """The archive's members, as actually decompressed, came to more than they may."""
        return _refusal("The file's contents uncompress to more than", self.limits, "max_expanded_bytes")

    def pixels(self, width: int, height: int) -> None:
        """An image about to be decoded (for OCR): refused when its pixels would take more than an archive may."""
        size = width * height * 4  # what one RGBA copy of it takes in memory
        if size > self.limits.max_expanded_bytes:
            fact = f"The image is {width:,}×{height:,} pixels ({size:,} bytes once decoded), more than"
            raise _refusal(fact, self.limits, "max_expanded_bytes")

    def pages(self, count: int) -> None:
        """Pages of a PDF, slides of a presentation, frames of an image: each is at least one paragraph."""
        if count > self.limits.max_paragraphs:
            raise _refusal(f"The document has {count:,} pages, more than", self.limits, "max_paragraphs")

    def paragraphs(self, count: int) -> None:
        if count > self.limits.max_paragraphs:
            raise _refusal(f"The document has {count:,} paragraphs, more than", self.limits, "max_paragraphs")

    def row(self, width: int) -> None:
        """One more table row of `width` cells (also a tick)."""
        self.tick()
        self._rows += 1
        if self._rows > self.limits.max_rows:
            raise _refusal("The document has more table rows than", self.limits, "max_rows")
        if width > self.limits.max_columns:
            raise _refusal(f"A row has {width:,} cells, more than", self.limits, "max_columns")

    def chunks(self, count: int) -> None:
        if count > self.limits.max_chunks:
            raise _refusal(f"The document gives {count:,} chunks, more than", self.limits, "max_chunks")
