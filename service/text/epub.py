"""EPUB books: the XHTML chapters of the spine, in reading order, for the HTML reader to turn into sections.

An EPUB is a zip: META-INF/container.xml names the package document (OPF), whose manifest maps ids to files
and whose spine lists the ids in reading order. The caller has already checked the archive's expanded size.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from urllib.parse import unquote
from xml.etree import ElementTree

from service.text.limits import Budget, ParseError

CONTAINER = "META-INF/container.xml"
CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
OPF_NS = "{http://www.idpf.org/2007/opf}"


def chapters(data: bytes, budget: Budget) -> Iterator[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        package_path = _package_path(book)
        package = ElementTree.fromstring(book.read(package_path))
        folder = posixpath.dirname(package_path)
        files = {item.get("id"): item.get("href") for item in package.iter(f"{OPF_NS}item")}
        names = set(book.namelist())
        for reference in package.iter(f"{OPF_NS}itemref"):
            budget.tick()
            href = files.get(reference.get("idref"))
            path = posixpath.normpath(posixpath.join(folder, unquote(href))) if href else None
            if path in names:
                yield book.read(path)


def _package_path(book: zipfile.ZipFile) -> str:
    try:
        container = ElementTree.fromstring(book.read(CONTAINER))
    except KeyError as exc:
        raise ParseError(f"The book has no {CONTAINER}: it is not an EPUB.") from exc
    rootfile = container.find(f"{CONTAINER_NS}rootfiles/{CONTAINER_NS}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise ParseError(f"The book's {CONTAINER} names no package document.")
    return path
