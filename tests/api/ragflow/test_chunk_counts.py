"""A document's chunk and token counts stay exact under concurrent chunk writes (each adds its own change)."""

from __future__ import annotations

import asyncio

from tests.api.ragflow.helpers import Client, call, document, new_dataset, upload
from tests.conftest import Caller

WRITERS = 20


async def test_concurrent_adds_and_deletes_keep_exact_counts(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("empty.txt", b"x"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"

    async def add(n: int) -> dict[str, object]:
        return await call(client, caller, "POST", path, json={"content": f"Chunk number {n} about bees"})

    added = await asyncio.gather(*(add(n) for n in range(WRITERS)))
    assert all(reply["code"] == 0 for reply in added), added
    listing = await call(client, caller, "GET", path, params={"page_size": 100})
    chunks = listing["data"]["chunks"]
    stored = await document(client, caller, ds["id"], doc["id"])
    assert listing["data"]["total"] == stored["chunk_count"] == WRITERS
    assert stored["token_count"] == WRITERS * 5  # "Chunk number N about bees": five tokens each

    doomed = [chunk["id"] for chunk in chunks[:10]]
    deletes = [call(client, caller, "DELETE", path, json={"chunk_ids": [chunk_id]}) for chunk_id in doomed]
    assert all(reply["code"] == 0 for reply in await asyncio.gather(*deletes))
    stored = await document(client, caller, ds["id"], doc["id"])
    assert (stored["chunk_count"], stored["token_count"]) == (WRITERS - 10, (WRITERS - 10) * 5)


async def test_an_edit_changes_the_token_count_by_its_difference(client: Client, caller: Caller) -> None:
    ds = await new_dataset(client, caller)
    [doc] = await upload(client, caller, ds["id"], ("empty.txt", b"x"))
    path = f"/datasets/{ds['id']}/documents/{doc['id']}/chunks"
    chunk = (await call(client, caller, "POST", path, json={"content": "one two three"}))["data"]["chunk"]
    await call(client, caller, "PATCH", f"{path}/{chunk['id']}", json={"content": "one two three four five"})
    stored = await document(client, caller, ds["id"], doc["id"])
    assert (stored["chunk_count"], stored["token_count"]) == (1, 5)
