"""Every word of a stored chunk counts in vector search, for every chunk method and for chunks added or edited
by hand: a chunk longer than the model's window (all-MiniLM-L6-v2: 254 word-pieces) is embedded in windows and
pooled, so a query about its last sentences finds it. Cut at the window, the vector saw only the pasta."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation

from service.text.chunk import SUPPORTED_METHODS
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, retrieve, upload
from tests.conftest import Caller

PASTA = "Boil the pasta in plenty of salted water until it is al dente, then drain it and toss it with butter. " * 12
VOLCANO = (
    "Volcanic eruptions in Iceland send rivers of glowing lava across the black basalt fields. The volcano near"
    " Reykjavik erupted again, and lava flowed toward the coast while ash clouds grounded flights."
)
GLACIER = (
    "Glaciers in Greenland are melting faster every summer. Meltwater from the ice sheet raises the sea level"
    " and icebergs calve into the fjords."
)
LONG = PASTA + VOLCANO  # one chunk of 334 word-pieces (288 of the chunker's tokens): the volcano past the window


def slide_deck(body: str) -> bytes:
    """A one-slide .pptx holding `body` (the method `presentation` makes a chunk of a slide)."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Cooking"
    slide.placeholders[1].text = body
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


# A document each method makes into one chunk holding LONG.
FILES = {
    "naive": ("long.txt", LONG.encode()),
    "one": ("long.txt", LONG.encode()),
    "book": ("book.txt", f"Chapter 1 Cooking\n\n{LONG}".encode()),
    "manual": ("manual.txt", f"Section 1 Cooking\n\n{LONG}".encode()),
    "laws": ("laws.txt", f"Article 1 Cooking\n\n{LONG}".encode()),
    "qa": ("qa.txt", f"Question: How do I cook dinner?\nAnswer: {LONG}".encode()),
    "table": ("table.csv", f'topic,notes\ncooking,"{LONG}"'.encode()),
    "presentation": ("deck.pptx", slide_deck(LONG)),
    "email": ("dinner.eml", f"Subject: Dinner\nFrom: cook@kitchen.test\n\n{LONG}".encode()),
}
# A picture's chunk is the text OCR read in it, embedded by the same path as every other chunk (workers/ingest.py);
# OCR of an image that long is tested in tests/integration/test_formats.py, not here.
EMBEDDED_AS_OTHERS = {"picture"}


async def vector_score(client: Client, caller: Caller, dataset_id: str, question: str) -> dict[str, float]:
    """Chunk id → its vector similarity to `question` (vector-only search, no threshold)."""
    result = await retrieve(
        client,
        caller,
        question=question,
        dataset_ids=[dataset_id],
        vector_similarity_weight=1.0,
        similarity_threshold=0,
    )
    return {chunk["id"]: chunk["vector_similarity"] for chunk in result["chunks"]}


def test_every_supported_method_is_covered() -> None:
    assert set(FILES) | EMBEDDED_AS_OTHERS == set(SUPPORTED_METHODS)


@pytest.mark.parametrize("method", sorted(FILES))
async def test_the_end_of_a_long_chunk_is_found(client: Client, caller: Caller, method: str) -> None:
    ds = await new_dataset(client, caller, f"long-{method}", chunk_method=method)
    name, content = FILES[method]
    [doc] = await upload(client, caller, ds["id"], (name, content))
    [parsed] = await parse(client, caller, ds["id"], doc["id"])
    assert parsed["run"] == "DONE" and parsed["chunk_count"] == 1, parsed
    [score] = (await vector_score(client, caller, ds["id"], "volcano eruption lava Iceland")).values()
    assert score > 0.2  # cut at the window: about 0.05


async def test_added_and_edited_chunks_are_embedded_whole(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller, "long-by-hand")
    [doc] = await upload(client, caller, ds["id"], ("seed.txt", b"A short seed document."))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    added = await call(client, caller, "POST", path, json={"content": LONG})
    chunk_id = added["data"]["chunk"]["id"]
    assert (await vector_score(client, caller, ds["id"], "volcano eruption lava Iceland"))[chunk_id] > 0.2

    edited = await call(client, caller, "PATCH", f"{path}/{chunk_id}", json={"content": PASTA + GLACIER})
    assert edited == {"code": 0}
    assert (await vector_score(client, caller, ds["id"], "melting glaciers and icebergs in Greenland"))[chunk_id] > 0.2
