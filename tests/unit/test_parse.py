from __future__ import annotations

import io
import json

import docx
import openpyxl
import pytest
from pypdf import PdfWriter

from service.errors import Invalid
from service.text.parse import ParseError, parse


def test_text_and_markdown() -> None:
    assert [s.text for s in parse(b"one\n\ntwo\r\n\r\nthree", "a.txt").sections] == ["one", "two", "three"]
    parsed = parse(b"# Title\n\nbody text\n\n## Sub\nmore", "a.md")
    assert [(s.text, s.heading_level) for s in parsed.sections] == [
        ("Title", 1),
        ("body text", 0),
        ("Sub", 2),
        ("more", 0),
    ]


def test_html_drops_scripts_and_keeps_headings() -> None:
    html = b"<html><head><title>t</title><script>x=1</script></head><body><h1>Head</h1><p>Para &amp; more</p></body>"
    assert [(s.text, s.heading_level) for s in parse(html, "page.html").sections] == [("Head", 1), ("Para & more", 0)]


def test_csv_and_xlsx_give_header_and_rows() -> None:
    parsed = parse(b"q,a\nhello,world\n", "t.csv")
    assert parsed.header == ["q", "a"] and parsed.rows == [["hello", "world"]]
    book = openpyxl.Workbook()
    book.active.append(["name", "n"])
    book.active.append(["x", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse(buffer.getvalue(), "t.xlsx")
    assert parsed.header == ["name", "n"] and parsed.rows == [["x", "3"]]


def test_docx_paragraphs_headings_and_tables() -> None:
    document = docx.Document()
    document.add_heading("Policy", level=1)
    document.add_paragraph("All staff must badge in.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "k", "v"
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse(buffer.getvalue(), "p.docx")
    assert [(s.text, s.heading_level) for s in parsed.sections] == [
        ("Policy", 1),
        ("All staff must badge in.", 0),
        ("k | v", 0),
    ]


def test_json_objects_become_sections() -> None:
    parsed = parse(json.dumps([{"title": "a", "tags": ["x", "y"]}, "plain"]).encode(), "d.json")
    assert [s.text for s in parsed.sections] == ["title: a\ntags: x, y", "plain"]


def test_pdf_pages_are_numbered() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert parse(buffer.getvalue(), "blank.pdf").sections == []


@pytest.mark.parametrize(
    ("name", "data"),
    [("bad.pdf", b"%PDF-1.4 garbage"), ("bad.docx", b"not a zip"), ("bad.xlsx", b"nope"), ("bad.json", b"{oops")],
)
def test_corrupt_files_raise_parse_error(name: str, data: bytes) -> None:
    with pytest.raises(ParseError, match=name):
        parse(data, name)


def test_unknown_suffix_is_invalid() -> None:
    with pytest.raises(Invalid, match="not supported"):
        parse(b"x", "movie.mp4")
