"""Office files no library would write, built in the test: bombs, liars and documents of absurd shape."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl


def saved(document: docx.document.Document | openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rezipped(data: bytes, member: str, edit: dict[str, str]) -> bytes:
    """The same office file with text replaced in one member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                text = content.decode()
                for old, new in edit.items():
                    assert old in text
                    text = text.replace(old, new, 1)
                content = text.encode()
            target.writestr(info.filename, content)
    return out.getvalue()


def docx_with_paragraphs(count: int) -> bytes:
    """A .docx of `count` paragraphs, written as XML: python-docx would take longer to write it than to read it."""
    paragraph = "<w:p><w:r><w:t>Staff must badge in at the front desk.</w:t></w:r></w:p>"
    return rezipped(saved(docx.Document()), "word/document.xml", {"<w:body>": "<w:body>" + paragraph * count})


def zip_bomb(member: str, expanded: int) -> bytes:
    """A zip of one member of `expanded` spaces: a few kilobytes that declare (and hold) far more."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, b" " * expanded)
    return bomb.getvalue()


def declaring(data: bytes, member: str, size: int) -> bytes:
    """`data` with its central directory declaring `size` uncompressed bytes for `member` (offset 24 of the entry)."""
    out = bytearray(data)
    entry = out.index(b"PK\x01\x02")
    while out[entry + 46 : entry + 46 + len(member)] != member.encode():
        entry = out.index(b"PK\x01\x02", entry + 1)
    out[entry + 24 : entry + 28] = size.to_bytes(4, "little")
    return bytes(out)
