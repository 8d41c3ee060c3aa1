"""A small OpenAI-compatible server that uses tool calling, for the Agent component (a real socket, in a thread).

Model `tools`: offered tools and no tool result yet → it calls the first tool with `{"query": <last user
message>}`; with a tool result → it answers `"from the tool: " + <that result's first line>`. Every request
body is kept in `received`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.upstream import free_port


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages") or []
    results = [m for m in messages if m.get("role") == "tool"]
    if body.get("tools") and not results:
        question = next(m["content"] for m in reversed(messages) if m.get("role") == "user")
        name = body["tools"][0]["function"]["name"]
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": name, "arguments": f'{{"query": "{question}"}}'},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    lines = [line for line in (results[-1]["content"] if results else "").splitlines() if "Content:" in line]
    return {"role": "assistant", "content": "from the tool: " + (lines[0] if lines else "nothing")}


class ToolServer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.received.append(body)
        message = _reply(body)
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}
        usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
        reply = {"id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time())}
        return JSONResponse({**reply, "model": body.get("model"), "choices": [choice], "usage": usage})


@contextmanager
def tool_server() -> Iterator[ToolServer]:
    server = ToolServer()
    config = uvicorn.Config(server.app, host="127.0.0.1", port=server.port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the tool-calling upstream did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        running.should_exit = True
        thread.join(timeout=5)
