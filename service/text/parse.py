"""Turn uploaded bytes into text sections (and rows, for tabular files). Pure functions, no I/O.

Every parser spends a `Budget` (service/text/limits.py) as it reads, so a hostile file fails with the name of
the limit it broke instead of tying a worker up, and a stop request ends the parse within milliseconds.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any

from service.errors import Invalid
from service.text.limits import Budget, LimitExceeded, ParseCancelled, ParseError
from service.text.sections import Parsed, Section

__all__ = ["Budget", "LimitExceeded", "ParseError", "Parsed", "Section", "parse"]

IMAGE_SUFFIXES = ("png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp")  # read by OCR (service/text/ocr.py)
DOC_SUFFIXES = ("txt", "md", "markdown", "html", "htm", "pdf", "docx", "csv", "xlsx", "json", "pptx", "eml", "epub")
SUPPORTED_SUFFIXES = (*DOC_SUFFIXES, *IMAGE_SUFFIXES)


def suffix_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_supported(filename: str) -> str:
    suffix = suffix_of(filename)
    if suffix not in SUPPORTED_SUFFIXES:
        raise Invalid(f"The extension of file '{filename}' is not supported yet.")
    return suffix


def parse(data: bytes, filename: str, budget: Budget | None = None) -> Parsed:
    """The file's text; raises ParseError (LimitExceeded when over a limit), or ParseCancelled once stopped."""
    parser = _PARSERS[check_supported(filename)]
    try:
        return parser(data, budget or Budget())
    except (ParseError, ParseCancelled):
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


def _counted(sections: list[Section], budget: Budget) -> Parsed:
    budget.paragraphs(len(sections))
    return Parsed(sections=sections)


def parse_text(data: bytes, budget: Budget) -> Parsed:
    return _counted(_paragraphs(decode_text(data)), budget)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def parse_markdown(data: bytes, budget: Budget) -> Parsed:
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        sections.extend(_paragraphs("\n".join(body)))
        body.clear()

    for line in decode_text(data).splitlines():
        budget.tick()
        match = _MD_HEADING.match(line)
        if match:
            flush()
            sections.append(Section(match.group(2).strip(), heading_level=len(match.group(1))))
        else:
            body.append(line)
    flush()
    return _counted(sections, budget)


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


_HTML_PIECE = 64 * 1024  # characters fed to the (pure Python) HTML parser between budget checks


def parse_html(data: bytes, budget: Budget) -> Parsed:
    reader = _HtmlText()
    text = decode_text(data)
    for start in range(0, len(text), _HTML_PIECE):
        budget.tick()
        reader.feed(text[start : start + _HTML_PIECE])
        budget.paragraphs(len(reader.sections))
    reader.close()
    reader._flush()
    return _counted(reader.sections, budget)


def parse_pdf(data: bytes, budget: Budget) -> Parsed:
    """The text layer of each page; a page without one (a scan) is read by OCR from the images it draws."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    pages = len(reader.pages)
    budget.pages(pages)
    sections: list[Section] = []
    for number, page in enumerate(reader.pages, start=1):
        budget.tick()
        text = page.extract_text() or ""
        if not text.strip() and budget.ocr_pdf:
            text = _ocr_page(page, number, pages, budget)
        for section in _paragraphs(text):
            section.page = number
            sections.append(section)
        budget.paragraphs(len(sections))
    return Parsed(sections=sections)


def _ocr_page(page: Any, number: int, pages: int, budget: Budget) -> str:
    from service.text.ocr import pdf_page_images, recognise

    budget.report((number - 1) / pages, f"OCR of page {number}/{pages}")
    return "\n\n".join(recognise(image, budget) for image in pdf_page_images(page, budget))


def parse_image(data: bytes, budget: Budget) -> Parsed:
    """A picture (a screenshot, a photo of a page, a multi-page TIFF scan): one section per page, by OCR."""
    from service.text.ocr import image_pages

    return _counted([Section(text, page=number) for number, _, text in image_pages(data, budget) if text], budget)


def parse_pptx(data: bytes, budget: Budget) -> Parsed:
    from service.text.presentation import parse_slides

    check_archive(data, budget)
    return parse_slides(data, budget)


def parse_eml(data: bytes, budget: Budget) -> Parsed:
    from service.text.mail import parse_message

    return parse_message(data, budget, lambda part, name: parse(part, name, budget))


def parse_epub(data: bytes, budget: Budget) -> Parsed:
    from service.text.epub import chapters

    check_archive(data, budget)
    sections: list[Section] = []
    for chapter in chapters(data, budget):
        sections.extend(parse_html(chapter, budget).sections)
        budget.paragraphs(len(sections))
    return Parsed(sections=sections)


def check_archive(data: bytes, budget: Budget) -> None:
    """Refuse an office file (a zip) whose contents would expand past the limit, before any parser opens it.

    First the sizes the archive declares; then every member is decompressed (1 MiB at a time, into nothing)
    and checked against its declared size and checksum, so a member that lies about its size is refused too.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        budget.expanded(sum(member.file_size for member in archive.infolist()))
        broken = archive.testzip()
    if broken is not None:
        raise ParseError(f"The file's member {broken!r} does not match its declared size and checksum.")


def parse_docx(data: bytes, budget: Budget) -> Parsed:
    import docx

    check_archive(data, budget)
    document = docx.Document(io.BytesIO(data))
    paragraphs = document.paragraphs
    budget.paragraphs(len(paragraphs))
    style_names = _paragraph_styles(document)
    sections: list[Section] = []
    for paragraph in paragraphs:
        budget.tick()
        text = paragraph.text.strip()
        if not text:
            continue
        style = style_names.get(paragraph._p.style or "", style_names[""])
        match = re.match(r"Heading (\d)", style)
        level = int(match.group(1)) if match else (1 if style == "Title" else 0)
        sections.append(Section(text, heading_level=level))
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            budget.row(len(cells))
            if any(cells):
                sections.append(Section(" | ".join(cells)))
    return Parsed(sections=sections)


def _paragraph_styles(document: Any) -> dict[str, str]:
    """Paragraph style id → name, and "" → the default style's name, as `paragraph.style.name` would say.

    Looked up once: python-docx finds each paragraph's style by scanning every style of the document, which
    made a 300,000-paragraph file take many minutes.
    """
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles
    names = {style.style_id: style.name or "" for style in styles if style.type == WD_STYLE_TYPE.PARAGRAPH}
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    names[""] = (default.name or "") if default is not None else ""
    return names


def _trimmed(cells: Iterable[str]) -> list[str]:
    """A row without its trailing empty cells (a spreadsheet pads every row out to its widest)."""
    row = list(cells)
    while row and not row[-1].strip():
        row.pop()
    return row


def _tabular(rows: Iterable[list[str]], budget: Budget) -> Parsed:
    """Header and rows of a table, counting every row with content against the limits as it is read."""
    kept: list[list[str]] = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            budget.tick()  # empty rows take time too: a sheet may skip straight to row 1,048,576
            continue
        budget.row(len(row))
        kept.append(row)
    if not kept:
        return Parsed()
    header, body = kept[0], kept[1:]
    lines = [" | ".join(header)] + [" | ".join(row) for row in body]
    return Parsed(sections=[Section(line) for line in lines], header=header, rows=body)


def parse_csv(data: bytes, budget: Budget) -> Parsed:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    return _tabular(csv.reader(io.StringIO(text), dialect), budget)


def parse_xlsx(data: bytes, budget: Budget) -> Parsed:
    import openpyxl

    check_archive(data, budget)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return _tabular(_sheet_rows(workbook), budget)
    finally:
        workbook.close()


def _sheet_rows(workbook: Any) -> Iterable[list[str]]:
    for sheet in workbook.worksheets:
        # Read rows as wide as their cells, not as the sheet's declared dimension: a tiny file may declare
        # A1:XFD1048576 and openpyxl would pad every row (and add rows) to fill it.
        sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            yield _trimmed("" if cell is None else str(cell) for cell in row)


def parse_json(data: bytes, budget: Budget) -> Parsed:
    value = json.loads(decode_text(data))
    items = value if isinstance(value, list) else [value]
    budget.paragraphs(len(items))
    return Parsed(sections=[Section(_json_text(item)) for item in items if item not in (None, "", {}, [])])


def _json_text(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{key}: {_json_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_json_text(item) for item in value)
    return str(value)


_PARSERS: dict[str, Callable[[bytes, Budget], Parsed]] = {
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
    "pptx": parse_pptx,
    "eml": parse_eml,
    "epub": parse_epub,
    **dict.fromkeys(IMAGE_SUFFIXES, parse_image),
}
