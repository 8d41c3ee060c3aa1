"""Small HTTP helpers shared by the RAGFlow API tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.conftest import Caller

Client = httpx.AsyncClient


async def call(client: Client, caller: Caller, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    headers = {**caller.headers, **kwargs.pop("headers", {})}
    response = await client.request(method, "/api/v1" + path, headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_dataset(client: Client, caller: Caller, name: str = "kb", **fields: Any) -> dict[str, Any]:
    body = await call(client, caller, "POST", "/datasets", json={"name": name, **fields})
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


async def upload(client: Client, caller: Caller, dataset_id: str, *files: tuple[str, bytes]) -> list[dict[str, Any]]:
    parts = [("file", (name, data)) for name, data in files]
    body = await call(client, caller, "POST", f"/datasets/{dataset_id}/documents", files=parts)
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


async def document(client: Client, caller: Caller, dataset_id: str, document_id: str) -> dict[str, Any]:
    body = await call(client, caller, "GET", f"/datasets/{dataset_id}/documents", params={"id": document_id})
    assert body["code"] == 0, body
    return body["data"]["docs"][0]  # type: ignore[no-any-return]


async def wait_parsed(
    client: Client, caller: Caller, dataset_id: str, document_id: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = await document(client, caller, dataset_id, document_id)
        if doc["run"] in ("DONE", "FAIL", "CANCEL"):
            return doc
        await asyncio.sleep(0.1)
    raise AssertionError(f"document {document_id} still {doc['run']} after {timeout}s: {doc['progress_msg']}")


async def parse(client: Client, caller: Caller, dataset_id: str, *document_ids: str) -> list[dict[str, Any]]:
    body = await call(
        client,
        caller,
        "POST",
        f"/datasets/{dataset_id}/documents/parse",
        json={"document_ids": list(document_ids)},
    )
    assert body == {"code": 0, "data": {"success_count": len(document_ids)}}, body
    return [await wait_parsed(client, caller, dataset_id, doc_id) for doc_id in document_ids]


async def retrieve(client: Client, caller: Caller, **body: Any) -> dict[str, Any]:
    reply = await call(client, caller, "POST", "/retrieval", json=body)
    assert reply["code"] == 0, reply
    return reply["data"]  # type: ignore[no-any-return]
