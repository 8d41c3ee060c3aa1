"""Turn uploaded bytes into text sections (and rows, for tabular files). Pure functions, no I/O."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from service.errors import Invalid

SUPPORTED_SUFFIXES = ("txt", "md", "markdown", "html", "htm", "pdf", "docx", "csv", "xlsx", "json")


class ParseError(Exception):
    """The file could not be read as its type says (corrupt or mislabelled)."""


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


def suffix_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_supported(filename: str) -> str:
    suffix = suffix_of(filename)
    if suffix not in SUPPORTED_SUFFIXES:
        raise Invalid(f"The extension of file '{filename}' is not supported yet.")
    return suffix


def parse(data: bytes, filename: str) -> Parsed:
    parser = _PARSERS[check_supported(filename)]
    try:
        return parser(data)
    except ParseError:
        raise
    except Exception as exc:  # a corrupt file surfaces as any library's own error
        raise ParseError(f"Cannot read {filename!r} as {suffix_of(filename)}: {exc}") from exc


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _paragraphs(text: str) -> list[Section]:
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [Section(block.strip()) for block in blocks if block.strip()]


def parse_text(data: bytes) -> Parsed:
    return Parsed(sections=_paragraphs(decode_text(data)))


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def parse_markdown(data: bytes) -> Parsed:
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        sections.extend(_paragraphs("\n".join(body)))
        body.clear()

    for line in decode_text(data).splitlines():
        match = _MD_HEADING.match(line)
        if match:
            flush()
            sections.append(Section(match.group(2).strip(), heading_level=len(match.group(1))))
        else:
            body.append(line)
    flush()
    return Parsed(sections=sections)


class _HtmlText(HTMLParser):
    BLOCKS = frozenset({"p", "div", "li", "tr", "br", "section", "article", "table", "pre", "blockquote"})
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self._buffer: list[str] = []
        self._level = 0
        self._skipping = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.sections.append(Section(text, heading_level=self._level))
        self._buffer.clear()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._level = int(tag[1])
        elif tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._level = 0
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._buffer.append(data)


def parse_html(data: bytes) -> Parsed:
    reader = _HtmlText()
    reader.feed(decode_text(data))
    reader.close()
    reader._flush()
    return Parsed(sections=reader.sections)


def parse_pdf(data: bytes) -> Parsed:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    sections: list[Section] = []
    for number, page in enumerate(reader.pages, start=1):
        for section in _paragraphs(page.extract_text() or ""):
            section.page = number
            sections.append(section)
    return Parsed(sections=sections)


def parse_docx(data: bytes) -> Parsed:
    import docx

    document = docx.Document(io.BytesIO(data))
    sections: list[Section] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        match = re.match(r"Heading (\d)", style)
        level = int(match.group(1)) if match else (1 if style == "Title" else 0)
        sections.append(Section(text, heading_level=level))
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            if any(cells):
                sections.append(Section(" | ".join(cells)))
    return Parsed(sections=sections)


def _tabular(rows: list[list[str]]) -> Parsed:
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return Parsed()
    header, body = rows[0], rows[1:]
    lines = [" | ".join(header)] + [" | ".join(row) for row in body]
    return Parsed(sections=[Section(line) for line in lines], header=header, rows=body)


def parse_csv(data: bytes) -> Parsed:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    return _tabular([list(row) for row in csv.reader(io.StringIO(text), dialect)])


def parse_xlsx(data: bytes) -> Parsed:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows: list[list[str]] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            rows.append(["" if cell is None else str(cell) for cell in row])
    workbook.close()
    return _tabular(rows)


def parse_json(data: bytes) -> Parsed:
    value = json.loads(decode_text(data))
    items = value if isinstance(value, list) else [value]
    return Parsed(sections=[Section(_json_text(item)) for item in items if item not in (None, "", {}, [])])


def _json_text(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{key}: {_json_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_json_text(item) for item in value)
    return str(value)


_PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "txt": parse_text,
    "md": parse_markdown,
    "markdown": parse_markdown,
    "html": parse_html,
    "htm": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
    "csv": parse_csv,
    "xlsx": parse_xlsx,
    "json": parse_json,
}
