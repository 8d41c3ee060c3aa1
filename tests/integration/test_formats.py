"""The formats RAGFlow users bring, through the HTTP API and the real worker: upload → parse → DONE → retrieval.

Every file is made here: pictures drawn with Pillow (read back by the real OCR engine), an image-only PDF (a
scan), a deck written with python-pptx, a message built with the email package, an EPUB zipped by hand; and
the hostile ones: a corrupt deck, an image that declares 30,000×30,000 pixels, a long scan stopped midway.
"""

from __future__ import annotations

import asyncio
import io
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from email.message import EmailMessage
from typing import Any

from PIL import Image
from pptx import Presentation
from pypdf import PdfReader, PdfWriter

from tests.api.ragflow.helpers import Client, call, document, new_dataset, parse, retrieve, upload, wait_parsed
from tests.conftest import Caller
from tests.support.pictures import encoded, picture

LEAKS = ("Traceback", "SELECT", "INSERT", "sqlalchemy", "asyncpg", 'File "')


def scanned_pdf(pages: list[Image.Image]) -> bytes:
    """A PDF whose pages are only pictures, as a document scanner writes it: bilevel (CCITT fax), no text layer.

    (Pillow's default JPEG at quality 75 blurs the gaps between words enough for OCR to lose some spaces.)
    """
    bilevel = [page.convert("1") for page in pages]
    buffer = io.BytesIO()
    bilevel[0].save(buffer, "PDF", save_all=True, append_images=bilevel[1:])
    return buffer.getvalue()


def typed_pdf(text: str) -> bytes:
    """A one-page PDF with a text layer (Helvetica, no embedded font), its cross-reference table computed."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    bodies = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, table)
    return bytes(out)


def joined_pdf(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def deck(*slides: tuple[str, str, str]) -> bytes:
    """A .pptx of (title, body, speaker notes) slides."""
    presentation = Presentation()
    for title, body, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def png_bomb(side: int) -> bytes:
    """A real PNG of side×side 1-bit pixels: about a hundred kilobytes that decode to gigabytes as RGB."""

    def piece(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the packed bits
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + piece(b"IHDR", header) + piece(b"IDAT", pixels) + piece(b"IEND", b"")


def epub(*chapters: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
            "</container>",
        )
        items = "".join(
            f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i, _ in enumerate(chapters)
        )
        spine = "".join(
            f'<itemref idref="c{i}"/>' for i in reversed(range(len(chapters)))
        )  # reading order ≠ file order
        book.writestr(
            "OEBPS/content.opf",
            f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>{items}</manifest>'
            f"<spine>{spine}</spine></package>",
        )
        for index, text in enumerate(chapters):
            book.writestr(f"OEBPS/c{index}.xhtml", f"<html><body><h1>Chapter {index}</h1><p>{text}</p></body></html>")
    return buffer.getvalue()


async def chunks_of(client: Client, caller: Caller, dataset_id: str, document_id: str) -> list[dict[str, Any]]:
    body = await call(client, caller, "GET", f"/datasets/{dataset_id}/documents/{document_id}/chunks")
    assert body["code"] == 0, body
    return sorted(body["data"]["chunks"], key=lambda chunk: chunk["content"])


async def found(client: Client, caller: Caller, dataset_id: str, question: str) -> list[str]:
    data = await retrieve(client, caller, question=question, dataset_ids=[dataset_id])
    return [chunk["content"] for chunk in data["chunks"]]


def failure(doc: dict[str, Any]) -> str:
    assert doc["run"] == "FAIL", doc["progress_msg"]
    assert not any(leak in doc["progress_msg"] for leak in LEAKS), doc["progress_msg"]
    return str(doc["progress_msg"]).rsplit("[ERROR] ", 1)[1]


async def test_pictures_of_every_format_are_read_by_ocr(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "pictures", chunk_method="picture")
    formats = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "tif": "TIFF", "bmp": "BMP", "webp": "WEBP"}
    files = [
        (f"shot.{suffix}", encoded(picture(f"The {suffix} screenshot names heron"), kind))
        for suffix, kind in formats.items()
    ]
    uploaded = await upload(client, caller, dataset["id"], *files)
    done = await parse(client, caller, dataset["id"], *(doc["id"] for doc in uploaded))
    for doc in done:
        assert doc["run"] == "DONE" and doc["chunk_count"] == 1, doc["progress_msg"]
        suffix = doc["name"].rsplit(".", 1)[1]
        [chunk] = await chunks_of(client, caller, dataset["id"], doc["id"])
        assert chunk["content"] == f"The {suffix} screenshot names heron"
    assert "The webp screenshot names heron" in await found(client, caller, dataset["id"], "webp screenshot heron")


async def test_a_multi_page_tiff_gives_one_chunk_per_page(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "tiff", chunk_method="picture")
    buffer = io.BytesIO()
    first, second = picture("Fax page one about lanterns"), picture("Fax page two about kettles")
    first.save(buffer, "TIFF", save_all=True, append_images=[second])
    [doc] = await upload(client, caller, dataset["id"], ("fax.tiff", buffer.getvalue()))
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    contents = [chunk["content"] for chunk in await chunks_of(client, caller, dataset["id"], doc["id"])]
    assert contents == ["Fax page one about lanterns", "Fax page two about kettles"], done["progress_msg"]
    assert "OCR of image page 2/2" in done["progress_msg"]


async def test_a_scanned_pdf_becomes_searchable_page_by_page(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "scans")  # the dataset's usual method: naive
    pages = [picture("Invoice for the lighthouse keeper"), picture("Payment is due before the winter storms")]
    pdf = joined_pdf(scanned_pdf(pages), typed_pdf("Typed terms and conditions"))
    [doc] = await upload(client, caller, dataset["id"], ("scan.pdf", pdf))
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    assert done["run"] == "DONE", done["progress_msg"]
    assert "OCR of page 1/3" in done["progress_msg"] and "OCR of page 2/3" in done["progress_msg"]
    assert "OCR of page 3/3" not in done["progress_msg"]  # page 3 has a text layer: read as it is
    [chunk] = await chunks_of(client, caller, dataset["id"], doc["id"])
    assert chunk["content"] == (
        "Invoice for the lighthouse keeper\nPayment is due before the winter storms\nTyped terms and conditions"
    )
    assert chunk["positions"][0][0] == 1  # the chunk starts on the first page
    hits = await found(client, caller, dataset["id"], "when is payment due")
    assert hits and "winter storms" in hits[0]


async def test_plain_text_layout_reads_only_the_text_layer(client: Client, caller: Caller) -> None:
    """RAGFlow's `layout_recognize: "Plain Text"` means no OCR: a scan then has no text to index."""
    dataset = await new_dataset(client, caller, "plain", parser_config={"layout_recognize": "Plain Text"})
    [doc] = await upload(client, caller, dataset["id"], ("scan.pdf", scanned_pdf([picture("Never read by OCR")])))
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    assert done["run"] == "DONE" and done["chunk_count"] == 0, done["progress_msg"]
    assert "OCR" not in done["progress_msg"]


async def test_a_deck_gives_one_chunk_per_slide_with_its_notes(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "decks", chunk_method="presentation")
    slides = [
        ("Roadmap", "Ship the beekeeping app in spring", "Mention the pilot hives in Norway"),
        ("Budget", "Two new apiaries", "Ask finance about the grant"),
    ]
    [doc] = await upload(client, caller, dataset["id"], ("plan.pptx", deck(*slides)))
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    assert done["run"] == "DONE" and done["chunk_count"] == 2, done["progress_msg"]
    chunks = await chunks_of(client, caller, dataset["id"], doc["id"])
    assert [chunk["content"] for chunk in chunks] == [
        "Budget\nTwo new apiaries\nAsk finance about the grant",
        "Roadmap\nShip the beekeeping app in spring\nMention the pilot hives in Norway",
    ]
    assert sorted(chunk["positions"][0][0] for chunk in chunks) == [1, 2]  # the slide numbers
    hits = await found(client, caller, dataset["id"], "pilot hives Norway")
    assert hits[0].startswith("Roadmap")  # found by its speaker notes


async def test_an_email_gives_headers_body_and_its_text_attachments(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "mail", chunk_method="email")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "Hive inspection", "ana@apiary.test", "ben@apiary.test"
    message["Received"] = "from relay.test by mx.test"  # transport noise, left out
    message.set_content("The queen was seen laying.\n\nHoney stores look good for the winter.")
    message.add_alternative("<p>The queen was seen <b>laying</b>.</p>", subtype="html")
    message.add_attachment(
        b"Varroa count: 3 mites per 100 bees.", maintype="text", subtype="plain", filename="count.txt"
    )
    message.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream", filename="blob.bin")
    [doc] = await upload(client, caller, dataset["id"], ("inspection.eml", bytes(message)))
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    assert done["run"] == "DONE", done["progress_msg"]
    contents = [chunk["content"] for chunk in await chunks_of(client, caller, dataset["id"], doc["id"])]
    assert contents == [
        "Attachment: count.txt\nVarroa count: 3 mites per 100 bees.",
        "Subject: Hive inspection\nFrom: ana@apiary.test\nTo: ben@apiary.test\nThe queen was seen laying.\n"
        "Honey stores look good for the winter.",
    ]
    assert (await found(client, caller, dataset["id"], "how many varroa mites"))[0].startswith("Attachment: count.txt")


async def test_an_epub_is_read_in_spine_order(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "books")
    [doc] = await upload(
        client, caller, dataset["id"], ("tale.epub", epub("The end of the voyage.", "The ship leaves port."))
    )
    [done] = await parse(client, caller, dataset["id"], doc["id"])
    assert done["run"] == "DONE", done["progress_msg"]
    [chunk] = await chunks_of(client, caller, dataset["id"], doc["id"])
    assert chunk["content"] == "Chapter 1\nThe ship leaves port.\nChapter 0\nThe end of the voyage."
    assert await found(client, caller, dataset["id"], "ship leaves port")


async def test_corrupt_and_hostile_files_fail_alone_with_a_readable_reason(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "hostile")
    files = [
        ("fine.txt", b"A perfectly ordinary note."),
        ("broken.pptx", b"PK\x03\x04 this is no presentation"),
        ("bomb.png", png_bomb(12_000)),
        ("huge.png", png_bomb(30_000)),  # past even Pillow's own guard, which refuses it before we look
        ("torn.png", encoded(picture("cut short"), "PNG")[:200]),
        ("fake.jpg", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"),  # not decoded by Ghostscript
        ("mail.eml", b"\xff\xfe garbage that is no message at all"),
    ]
    uploaded = await upload(client, caller, dataset["id"], *files)
    done = {doc["name"]: doc for doc in await parse(client, caller, dataset["id"], *(d["id"] for d in uploaded))}
    assert done["fine.txt"]["run"] == "DONE" and done["fine.txt"]["chunk_count"] == 1
    assert failure(done["broken.pptx"]).startswith("Cannot read 'broken.pptx' as pptx: ")
    assert failure(done["bomb.png"]) == (
        "The image is 12,000×12,000 pixels (576,000,000 bytes once decoded), more than the limit of "
        "134,217,728 (setting NECTAR_PARSE_MAX_EXPANDED_BYTES)."
    )
    assert failure(done["huge.png"]).startswith("The image is too large to decode: Image size (900000000 pixels)")
    assert failure(done["torn.png"]).startswith("Cannot read 'torn.png' as png: ")
    assert failure(done["fake.jpg"]) == "The file is not an image in one of the formats PNG, JPEG, TIFF, BMP, WEBP."
    # A message with no headers and no structure is still a message: its text is its body.
    assert done["mail.eml"]["run"] == "DONE"
    for name in ("broken.pptx", "bomb.png", "huge.png", "torn.png", "fake.jpg"):
        assert done[name]["chunk_count"] == 0
    unknown = await call(
        client, caller, "POST", f"/datasets/{dataset['id']}/documents", files=[("file", ("a.msg", b"x"))]
    )
    assert unknown["code"] == 101 and "not supported" in unknown["message"]


def ocr_threads() -> int:
    """Threads of this process inside the OCR module right now."""
    busy = 0
    for frame in sys._current_frames().values():
        current: Any = frame
        while current is not None and not current.f_code.co_filename.endswith("ocr.py"):
            current = current.f_back
        busy += current is not None
    return busy


async def test_stop_during_the_ocr_of_a_long_scan_ends_it_within_seconds(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "long scan")
    pages = [picture(f"Page {n} of the ship's log", "Calm seas and a steady wind") for n in range(1, 41)]
    [doc] = await upload(client, caller, dataset["id"], ("log.pdf", scanned_pdf(pages)))
    path = f"/datasets/{dataset['id']}/documents"
    await call(client, caller, "POST", f"{path}/parse", json={"document_ids": [doc["id"]]})
    deadline = time.monotonic() + 60
    while (
        "OCR of page 2/40" not in (current := await document(client, caller, dataset["id"], doc["id"]))["progress_msg"]
    ):
        assert time.monotonic() < deadline and current["run"] == "RUNNING", current["progress_msg"]
        await asyncio.sleep(0.1)
    assert 0.05 < current["progress"] < 0.2  # progress moves while the pages are read
    assert (await call(client, caller, "POST", f"{path}/stop", json={"document_ids": [doc["id"]]}))["code"] == 0
    stopped = time.monotonic()
    while ocr_threads():
        assert time.monotonic() - stopped < 15, "the OCR thread is still working after the stop"
        await asyncio.sleep(0.1)
    after = await wait_parsed(client, caller, dataset["id"], doc["id"])
    assert after["run"] == "CANCEL" and after["chunk_count"] == 0
    assert "OCR of page 40/40" not in after["progress_msg"]
    [small] = await upload(client, caller, dataset["id"], ("next.txt", b"Parsed after the stop."))
    assert (await parse(client, caller, dataset["id"], small["id"]))[0]["run"] == "DONE"


NO_NETWORK = """
import sys
def refuse(event, args):
    if event.startswith(("socket.", "urllib.")) or event == "http.client.connect":
        raise SystemExit(f"network use: {event} {args}")
sys.addaudithook(refuse)
from service.text.parse import parse
from tests.support.pictures import encoded, picture
print(parse(encoded(picture("Offline reading works"), "PNG"), "a.png").sections[0].text)
"""


def test_ocr_loads_its_models_and_reads_without_the_network() -> None:
    """Every socket (or URL) the engine would open is an audit event: the child exits at the first one."""
    result = subprocess.run([sys.executable, "-c", NO_NETWORK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "Offline reading works"


async def test_an_upload_takes_the_method_of_its_kind_as_ragflow_does(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "mixed")  # naive
    files = [
        ("shot.png", encoded(picture("A heron"), "PNG")),
        ("deck.pptx", deck(("Title", "Body", "Notes"))),
        ("mail.eml", b"Subject: Hive\n\nThe queen is well."),
        ("a.txt", b"Plain text."),
    ]
    uploaded = {doc["name"]: doc for doc in await upload(client, caller, dataset["id"], *files)}
    methods = {name: (doc["chunk_method"], doc["type"]) for name, doc in uploaded.items()}
    assert methods == {
        "shot.png": ("picture", "visual"),
        "deck.pptx": ("presentation", "doc"),
        "mail.eml": ("email", "doc"),
        "a.txt": ("naive", "doc"),
    }
