"""PowerPoint (.pptx) slides as text: one section per slide, its shapes in order and then its speaker notes.

The caller has already checked the archive against the expansion limit (`parse.check_archive`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from service.text.limits import Budget
from service.text.sections import Parsed, Section


def parse_slides(data: bytes, budget: Budget) -> Parsed:
    from pptx import Presentation

    slides = list(Presentation(io.BytesIO(data)).slides)
    budget.pages(len(slides))
    sections: list[Section] = []
    for number, slide in enumerate(slides, start=1):
        texts = [text for text in _shape_texts(slide.shapes, budget) if text]
        if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame):
            texts.append(notes.text.strip())
        text = "\n".join(text for text in texts if text)
        if text:
            sections.append(Section(text, page=number))
    return Parsed(sections=sections)


def _shape_texts(shapes: Any, budget: Budget) -> Iterator[str]:
    from pptx.shapes.group import GroupShape

    """The text of each shape, tables row by row, groups shape by shape (python-pptx gives them in z-order)."""
    for shape in shapes:
        budget.tick()
        if isinstance(shape, GroupShape):
            yield from _shape_texts(shape.shapes, budget)
        elif shape.has_table:
            for row in shape.table.rows:
                cells = [cell.text.strip() for cell in row.cells]
                budget.row(len(cells))
                yield " | ".join(cells) if any(cells) else ""
        elif shape.has_text_frame:
            yield shape.text_frame.text.strip()
