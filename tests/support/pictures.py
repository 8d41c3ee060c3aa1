"""Pictures of text, drawn with Pillow, for the OCR tests to read back."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont


def picture(*lines: str) -> Image.Image:
    """Black text on white, large enough for OCR to read every word and every space."""
    font = ImageFont.load_default(size=48)
    image = Image.new("RGB", (1200, 90 * len(lines) + 60), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((40, 30 + index * 90), line, fill="black", font=font)
    return image


def encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()
