"""A client that goes away mid-stream cancels the upstream LLM request, and the turn is recorded as cancelled."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.db.models import Message
from service.domain.assistants import AssistantConfig, create_assistant
from service.domain.tenants import authenticate
from service.runtime import Runtime
from tests.support.upstream import UpstreamProcess

PATHS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "openai": (
        "/api/v1/chats_openai/{id}/chat/completions",
        lambda q: {"model": "model", "stream": True, "messages": [{"role": "user", "content": q}]},
    ),
    "ragflow": ("/api/v1/chats/{id}/completions", lambda q: {"question": q, "stream": True}),
}


async def _endless_assistant(runtime: Runtime, key: str) -> str:
    async with runtime.sessions() as db:
        tenant_id = await authenticate(db, key)
        name = f"endless-{uuid.uuid4().hex[:8]}"
        assistant = await create_assistant(db, tenant_id, name, AssistantConfig(llm_id="endless@echo"))
        await db.commit()
    return assistant.id


async def _eventually(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"still not true after {timeout}s")


@pytest.mark.parametrize("face", sorted(PATHS))
async def test_disconnect_cancels_upstream_and_records_cancelled(
    face: str, live_server: tuple[str, str], runtime: Runtime, upstream: UpstreamProcess
) -> None:
    base_url, key = live_server
    assistant_id = await _endless_assistant(runtime, key)
    marker = uuid.uuid4().hex
    path, body = PATHS[face]
    http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with http, http.stream("POST", path.format(id=assistant_id), json=body(f"forever {marker}")) as reply:
        assert reply.status_code == 200
        words = 0
        async for line in reply.aiter_lines():
            words += line.startswith("data:") and "word" in line
            if words >= 3:
                break  # leaving the block closes the connection mid-stream

    async def upstream_saw_the_hangup() -> bool:
        mine = [r for r in upstream.received() if marker in str(r.get("messages"))]
        return bool(mine) and mine[-1].get("_outcome") == "client_closed"

    async def cancelled_row() -> Message | None:
        async with runtime.sessions() as db:
            return await db.scalar(select(Message).where(Message.assistant_id == assistant_id))

    await _eventually(upstream_saw_the_hangup)
    row = await _eventually(cancelled_row)
    assert row.status == "cancelled"
    assert row.output.startswith("word0 word1") and row.input.endswith(marker)
