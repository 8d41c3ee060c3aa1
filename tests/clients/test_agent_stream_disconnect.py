"""A client that leaves an agent's stream cancels the run: the upstream request closes, the turn is recorded
as cancelled (both the native face and agents_openai), against a live `nectar serve`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from service.db.models import Message
from service.runtime import Runtime
from tests.domain.agents.dsls import kb_qa
from tests.support.upstream import UpstreamProcess

T = TypeVar("T")
BODIES: dict[str, tuple[str, Callable[[str, str], dict[str, Any]]]] = {
    "ragflow": ("/api/v1/agents/chat/completions", lambda agent, q: {"agent_id": agent, "query": q}),
    "openai": (
        "/api/v1/agents_openai/{agent}/chat/completions",
        lambda agent, q: {"model": "model", "stream": True, "messages": [{"role": "user", "content": q}]},
    ),
}


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 15) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"still not true after {timeout}s")


@pytest.mark.parametrize("face", sorted(BODIES))
async def test_leaving_an_agent_stream_cancels_the_run(
    face: str, live_server: tuple[str, str], runtime: Runtime, upstream: UpstreamProcess
) -> None:
    base_url, key = live_server
    marker = uuid.uuid4().hex
    path, body = BODIES[face]
    http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with http:
        made = await http.post("/api/v1/agents", json={"title": f"endless-{marker}", "dsl": kb_qa([], "endless@echo")})
        agent_id = made.json()["data"]["id"]
        async with http.stream("POST", path.format(agent=agent_id), json=body(agent_id, f"forever {marker}")) as reply:
            assert reply.status_code == 200
            words = 0
            async for line in reply.aiter_lines():
                words += line.startswith("data:") and "word" in line
                if words >= 3:
                    break  # leaving the block closes the connection mid-stream

        async def upstream_saw_the_hangup() -> bool:
            mine = [r for r in upstream.received() if marker in str(r.get("messages"))]
            return bool(mine) and mine[-1].get("_outcome") == "client_closed"

        async def recorded() -> Message | None:
            async with runtime.sessions() as db:
                return await db.scalar(select(Message).where(Message.assistant_id == agent_id))

        await eventually(upstream_saw_the_hangup)
        row = await eventually(recorded)
        assert row.status == "cancelled" and row.output.startswith("word0 word1") and row.input.endswith(marker)
        await http.delete(f"/api/v1/agents/{agent_id}")
