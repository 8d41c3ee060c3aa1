"""The RAGFlow endpoints the command-line client calls, with their `{"code": 0, "data": ...}` envelope unwrapped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

PAGE_SIZE = 100  # the largest page RAGFlow serves
NOT_FOUND = 102  # RAGFlow's data error: what a lookup by name answers when nothing has that name
UNAUTHORIZED = (401, 109)  # no valid key; the key's tenant may not do that


class ApiError(Exception):
    """The server said no (`code` is RAGFlow's application code, or the HTTP status when it sent no envelope)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Connection:
    base_url: str  # e.g. http://127.0.0.1:9380
    api_key: str


def _unwrapped(reply: httpx.Response) -> Any:
    try:
        body = reply.json()
    except ValueError:
        raise ApiError(reply.status_code, f"HTTP {reply.status_code}: {reply.text[:200]}") from None
    if not isinstance(body, dict) or body.get("code") != 0:
        code = body.get("code", reply.status_code) if isinstance(body, dict) else reply.status_code
        message = body.get("message", reply.text[:200]) if isinstance(body, dict) else reply.text[:200]
        raise ApiError(int(code) if isinstance(code, int) else reply.status_code, str(message))
    return body.get("data")


class NectarApi:
    """One HTTP connection pool to one server; `async with` it. Connection failures are retried by httpx."""

    def __init__(self, connection: Connection, concurrency: int = 4, timeout: float = 300.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=connection.base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {connection.api_key}"},
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=concurrency + 2),
            transport=httpx.AsyncHTTPTransport(retries=2),
        )

    async def __aenter__(self) -> NectarApi:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, **request: Any) -> Any:
        return _unwrapped(await self._http.request(method, path, **request))

    async def named(self, kind: str, name: str) -> dict[str, Any] | None:
        """The dataset or chat (`kind`: "datasets" | "chats") called `name`, or None."""
        try:
            found = await self.call("GET", f"/{kind}", params={"name": name, "page_size": 1})
        except ApiError as error:
            if error.code == NOT_FOUND:
                return None
            raise
        rows = found.get(kind, []) if isinstance(found, dict) else found  # chats come as {"chats": [...], "total"}
        return rows[0] if rows else None

    async def documents(self, dataset_id: str, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every document of the dataset matching `filters` (RAGFlow's list query), page after page."""
        page = 1
        while True:
            params = {**filters, "page": page, "page_size": PAGE_SIZE, "orderby": "create_time", "desc": "false"}
            docs = (await self.call("GET", f"/datasets/{dataset_id}/documents", params=params))["docs"]
            for doc in docs:
                yield doc
            if len(docs) < PAGE_SIZE:
                return
            page += 1

    async def document(self, dataset_id: str, document_id: str) -> dict[str, Any]:
        data = await self.call("GET", f"/datasets/{dataset_id}/documents", params={"id": document_id})
        if not data["docs"]:
            raise ApiError(NOT_FOUND, f"document {document_id} is gone")
        doc: dict[str, Any] = data["docs"][0]
        return doc

    async def upload(self, dataset_id: str, name: str, data: bytes) -> dict[str, Any]:
        added = await self.call("POST", f"/datasets/{dataset_id}/documents", files={"file": (name, data)})
        doc: dict[str, Any] = added[0]
        return doc

    async def set_chunk_method(self, dataset_id: str, document_id: str, method: str) -> None:
        await self.call("PATCH", f"/datasets/{dataset_id}/documents/{document_id}", json={"chunk_method": method})

    async def parse(self, dataset_id: str, document_ids: list[str]) -> None:
        await self.call("POST", f"/datasets/{dataset_id}/documents/parse", json={"document_ids": document_ids})

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The `data:{json}` events of a RAGFlow SSE reply; an error before the stream (a JSON envelope) raises."""
        async with self._http.stream("POST", path, json=body) as reply:
            if not reply.headers.get("content-type", "").startswith("text/event-stream"):
                _unwrapped(httpx.Response(reply.status_code, content=await reply.aread()))
                return
            async for line in reply.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if isinstance(event, dict):
                        yield event
