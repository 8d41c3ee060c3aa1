"""HTTP helpers of the apps face tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import Caller

Client = httpx.AsyncClient
ECHO = "echo@echo"


async def call(client: Client, caller: Caller | None, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    """The envelope of `method /apps<path>`, after checking the HTTP status."""
    headers = caller.headers if caller else {}
    response = await client.request(method, "/apps" + path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "data", "message"}, body
    return body


async def success(client: Client, caller: Caller, method: str, path: str, **kwargs: Any) -> Any:
    body = await call(client, caller, method, path, **kwargs)
    assert body["code"] == "success", body
    return body["data"]


async def new_app(client: Client, caller: Caller, name: str = "app", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = await success(client, caller, "POST", "", json={"name": name, **fields})
    return data


async def echo_app(client: Client, caller: Caller, name: str = "echo-app", dialog_round: int = 3) -> dict[str, Any]:
    return await new_app(client, caller, name, model_config={"llm_id": ECHO, "dialog_round": dialog_round})


async def debug(client: Client, caller: Caller, app_id: str, query: str) -> dict[str, Any]:
    data: dict[str, Any] = await success(client, caller, "POST", f"/{app_id}/debug", json={"query": query})
    return data


def sse_events(raw: str) -> list[dict[str, Any]]:
    """The `data:` payloads of a stream, in order (keep-alive comments skipped)."""
    events = []
    for block in raw.split("\n\n"):
        if not block.strip() or block.startswith(":"):
            continue
        assert block.startswith("data:"), block
        events.append(json.loads(block.removeprefix("data:")))
    return events
