"""Hostile files built here fail fast, naming the limit they broke and its setting; a stop ends a parse at once."""

from __future__ import annotations

import threading
import time

import docx
import openpyxl
import pytest

from service.settings import Settings
from service.text.limits import SETTING, Budget, LimitExceeded, ParseCancelled, ParseLimits
from service.text.parse import ParseError, parse
from tests.support.hostile_files import declaring, docx_with_paragraphs, rezipped, saved, zip_bomb
from workers.ingest import parse_limits


def budget(**limits: float) -> Budget:
    return Budget(ParseLimits(**limits))  # type: ignore[arg-type]


def refused(data: bytes, name: str, **limits: float) -> str:
    with pytest.raises(LimitExceeded) as caught:
        parse(data, name, budget(**limits))
    return str(caught.value)


def test_a_compressed_bomb_is_refused_from_its_declared_size_before_any_parser_reads_it() -> None:
    # Not even a spreadsheet: had openpyxl opened it, this would be "not a valid xlsx", not a size refusal.
    bomb = zip_bomb("xl/worksheets/sheet1.xml", 5_000_000)
    assert len(bomb) < 10_000
    message = refused(bomb, "bomb.xlsx", max_expanded_bytes=1_000_000)
    assert "5,000,000 bytes" in message and "1,000,000" in message
    assert "NECTAR_PARSE_MAX_EXPANDED_BYTES" in message


def test_a_member_that_lies_about_its_size_is_refused_up_front() -> None:
    liar = declaring(saved(docx.Document()), "word/document.xml", 10)
    with pytest.raises(ParseError, match=r"'word/document.xml' does not match its declared size"):
        parse(liar, "liar.docx")


def test_too_many_paragraphs_fail_before_they_are_read() -> None:
    message = refused(docx_with_paragraphs(3_000), "long.docx", max_paragraphs=1_000)
    assert message == (
        "The document has 3,000 paragraphs, more than the limit of 1,000 (setting NECTAR_PARSE_MAX_PARAGRAPHS)."
    )
    many = b"\n\n".join(b"paragraph %d" % i for i in range(50))
    assert "NECTAR_PARSE_MAX_PARAGRAPHS" in refused(many, "notes.txt", max_paragraphs=49)
    assert len(parse(many, "notes.txt", budget(max_paragraphs=50)).sections) == 50


def test_docx_paragraph_styles_are_read_from_one_table_of_the_document_styles() -> None:
    document = docx.Document()
    document.add_paragraph("Contents", style="Title")
    document.add_paragraph("Scope", style="Heading 2")
    document.add_paragraph("Plain body text.")
    document.add_paragraph("A quote.", style="Quote")
    parsed = parse(saved(document), "styled.docx")
    assert [(s.text, s.heading_level) for s in parsed.sections] == [
        ("Contents", 1),
        ("Scope", 2),
        ("Plain body text.", 0),
        ("A quote.", 0),
    ]


def test_a_csv_row_too_wide_or_too_many_rows_fail_with_their_setting() -> None:
    wide = (",".join(f"c{i}" for i in range(5_000)) + "\n").encode()
    assert refused(wide, "wide.csv", max_columns=1_000) == (
        "A row has 5,000 cells, more than the limit of 1,000 (setting NECTAR_PARSE_MAX_COLUMNS)."
    )
    long = b"q,a\n" + b"".join(b"question %d,answer\n" % i for i in range(300))
    assert "limit of 100 (setting NECTAR_PARSE_MAX_ROWS)" in refused(long, "long.csv", max_rows=100)
    assert len(parse(long, "long.csv", budget(max_rows=301)).rows) == 300


def test_a_spreadsheet_is_read_as_wide_and_long_as_its_cells_not_its_declared_dimension() -> None:
    book = openpyxl.Workbook()
    book.active.append(["name", "value"])
    book.active.append(["x", 3])
    # Declares every cell of the sheet: openpyxl pads each row (and adds rows) to fill the dimension.
    hostile = rezipped(
        saved(book), "xl/worksheets/sheet1.xml", {'<dimension ref="A1:B2"/>': '<dimension ref="A1:XFD1048576"/>'}
    )
    began = time.monotonic()
    parsed = parse(hostile, "huge.xlsx", budget(timeout=10))
    assert parsed.header == ["name", "value"] and parsed.rows == [["x", "3"]]
    assert time.monotonic() - began < 5

    far = openpyxl.Workbook()
    far.active.append(["name"])
    far.active.cell(row=2, column=16_000, value="far right")
    assert "NECTAR_PARSE_MAX_COLUMNS" in refused(saved(far), "far.xlsx", max_columns=1_000)


def test_a_parse_past_its_deadline_fails_naming_the_timeout() -> None:
    rows = b"".join(b"%d,some text in a cell,%d\n" % (i, i) for i in range(400_000))
    message = refused(rows, "slow.csv", timeout=0.05, max_rows=10**7)
    assert message == "Parsing took longer than the limit of 0.05 seconds (setting NECTAR_PARSE_TIMEOUT)."


class Watched(Budget):
    """A budget that says when the parse is under way (a thousand rows read)."""

    def __init__(self, limits: ParseLimits) -> None:
        super().__init__(limits)
        self.under_way = threading.Event()
        self.read = 0

    def row(self, width: int) -> None:
        super().row(width)
        self.read += 1
        if self.read == 1_000:
            self.under_way.set()


def test_a_stop_from_another_thread_ends_the_parse_within_moments() -> None:
    rows = b"".join(b"%d,some text in a cell,%d\n" % (i, i) for i in range(600_000))
    work = Watched(ParseLimits(max_rows=10**8, timeout=600))
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            parse(rows, "huge.csv", work)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert work.under_way.wait(timeout=30)
    stopped = time.monotonic()
    work.stop()
    thread.join(timeout=5)
    assert time.monotonic() - stopped < 0.5 and not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ParseCancelled)
    assert work.read < 600_000


def test_every_limit_is_read_from_the_variable_its_refusal_names(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {variable: 7 + index for index, variable in enumerate(SETTING.values())}
    for variable, value in values.items():
        monkeypatch.setenv(variable, str(value))
    limits = parse_limits(Settings.from_env())
    assert {field: getattr(limits, field) for field in SETTING} == {f: values[v] for f, v in SETTING.items()}
    assert parse_limits(Settings()) == ParseLimits()  # and the defaults agree
