"""Text out of pictures: images, and the pages of a scanned PDF, through RapidOCR (PP-OCRv4 on ONNX Runtime).

The detection and recognition models ship inside the `rapidocr-onnxruntime` wheel, so nothing is fetched at
run time. The engine is built once per process, on first use (about a second), and shared by the worker's
jobs, one page at a time.

Every image is checked against the budget's size limit before a single pixel is decoded, so a small file that
declares 30,000×30,000 pixels fails by name instead of taking the worker's memory.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

from service.text.limits import Budget, ParseError

# Detection on the image scaled so its longer side is at most this many pixels: RapidOCR's default instead
# scales the *shorter* side up to 736, which made a 900×200 screenshot 3,312×736 and its OCR 15 times slower.
DETECTION_SIDE = 1280
# Recognition reads lines cut from the image scaled to at most this side. RapidOCR's 2,000 shrinks an A4 page
# scanned at 300 dpi (2,480×3,508) enough to lose the spaces between words (352 of 440 kept on a 40-line page);
# at full size all 440 are, for 20% more time.
RECOGNITION_SIDE = 3600
# Only formats Pillow decodes itself: a file claiming to be a picture must not start Ghostscript (EPS) or the like.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP")
MIN_SCORE = 0.5  # recognised lines below this confidence are noise (speckles read as letters)

_engine: Any = None
_engine_lock = threading.Lock()
# One page at a time: RapidOCR keeps per-call state on the engine (its detector rebuilds its resize step for each
# image), and ONNX Runtime already spreads one page over every core (sessions side by side would only thrash).
_run_lock = threading.Lock()


def _ocr_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR(
                max_side_len=RECOGNITION_SIDE,
                det_limit_type="max",
                det_limit_side_len=DETECTION_SIDE,
                text_score=MIN_SCORE,
            )
        return _engine


def recognise(image: Any, budget: Budget) -> str:
    """The text of one decoded PIL image, line by line in reading order (top to bottom, then left to right)."""
    import numpy

    budget.tick()
    pixels = numpy.asarray(image.convert("RGB"))
    engine = _ocr_engine()
    since = time.monotonic()
    while not _run_lock.acquire(timeout=0.1):  # another document's page is being read: wait, but heed a stop
        since = _queued(budget, since)
        budget.tick()
    _queued(budget, since)
    try:
        found, _ = engine(pixels)
    finally:
        _run_lock.release()
    budget.tick()  # the engine cannot be interrupted: a stop during it is noticed as soon as it returns
    return "\n".join(text.strip() for _box, text, _score in found or [] if text.strip())  # in reading order


def _queued(budget: Budget, since: float) -> float:
    now = time.monotonic()
    budget.waited(now - since)
    return now


def open_image(data: bytes, budget: Budget) -> Any:
    """The image, opened (its header read, nothing decoded) and checked against the size limit."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides, below
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError as exc:  # so many pixels that Pillow refuses it before we can look
        raise ParseError(f"The image is too large to decode: {exc}") from exc
    except UnidentifiedImageError as exc:  # its own message shows a Python object's address
        raise ParseError(f"The file is not an image in one of the formats {', '.join(IMAGE_FORMATS)}.") from exc
    width, height = image.size
    budget.pixels(width, height)
    return image


def image_pages(data: bytes, budget: Budget) -> Iterator[tuple[int, int, str]]:
    """(page, pages, text) for every frame of an image file (a TIFF may hold a whole scanned document)."""
    from PIL import ImageSequence

    image = open_image(data, budget)
    frames = getattr(image, "n_frames", 1)
    budget.pages(frames)
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        budget.pixels(*frame.size)  # each frame declares its own size
        budget.report((number - 1) / frames, f"OCR of image page {number}/{frames}")
        yield number, frames, recognise(frame, budget)


def pdf_page_images(page: Any, budget: Budget) -> Iterator[Any]:
    """The images a PDF page draws (also inside its forms), each checked against the size limit before decoding."""
    yield from _xobject_images(page.get("/Resources"), budget, depth=0)


_MAX_FORM_DEPTH = 8  # forms nest forms; a cycle or a deep nest is not a scan


def _xobject_images(resources: Any, budget: Budget, depth: int) -> Iterator[Any]:
    if resources is None or depth > _MAX_FORM_DEPTH:
        return
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return
    for name in xobjects.get_object():
        budget.tick()
        xobject = xobjects.get_object()[name].get_object()
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            budget.pixels(int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0)))
            yield xobject.decode_as_image()
        elif subtype == "/Form":
            yield from _xobject_images(xobject.get("/Resources"), budget, depth + 1)
