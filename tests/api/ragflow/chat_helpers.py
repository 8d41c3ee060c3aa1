"""Helpers of the chat, session and completion tests: a parsed dataset, a chat over it, SSE parsing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from service.db.models import Message
from service.runtime import Runtime
from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

BEES = "Honey bees collect nectar and turn it into honey inside the hive. The queen lays the eggs."
RUST = "Iron rusts when it reacts with oxygen and water, forming iron oxide."
NO_AUTH = {"code": 109, "message": "no authorization", "data": False}


async def parsed_dataset(client: Client, caller: Caller, name: str = "kb") -> str:
    ds = await new_dataset(client, caller, name)
    docs = await upload(client, caller, ds["id"], ("bees.txt", BEES.encode()), ("rust.txt", RUST.encode()))
    await parse(client, caller, ds["id"], *[doc["id"] for doc in docs])
    return str(ds["id"])


async def new_chat(client: Client, caller: Caller, name: str = "helper", **fields: Any) -> dict[str, Any]:
    body = await call(client, caller, "POST", "/chats", json={"name": name, **fields})
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


async def chat_over_corpus(client: Client, caller: Caller, name: str = "bees-chat") -> dict[str, Any]:
    return await new_chat(client, caller, name, dataset_ids=[await parsed_dataset(client, caller)])


async def new_session(client: Client, caller: Caller, chat_id: str, **fields: Any) -> dict[str, Any]:
    body = await call(client, caller, "POST", f"/chats/{chat_id}/sessions", json=fields)
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


def sse_events(raw: str) -> list[Any]:
    """The `data:` payloads of a RAGFlow stream, in order (the ASGI transport hands us the whole body)."""
    events = []
    for block in raw.split("\n\n"):
        if not block.strip() or block.startswith(":"):  # keep-alive comments
            continue
        assert block.startswith("data:"), block
        events.append(json.loads(block.removeprefix("data:")))
    return events


async def ask_stream(client: Client, caller: Caller, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/api/v1" + path, json=body, headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream"), response.headers
    return sse_events(response.text)


async def message_rows(runtime: Runtime, session_id: str) -> list[Message]:
    async with runtime.sessions() as db:
        return list(await db.scalars(select(Message).where(Message.session_id == session_id)))


async def count_messages(runtime: Runtime, assistant_id: str) -> int:
    async with runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).where(Message.assistant_id == assistant_id)) or 0)
