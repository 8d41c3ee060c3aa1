"""A small OpenAI-compatible upstream of these tests, on loopback in a thread, whose answers depend on the question:

- model `flaky`: HTTP 500 when the last user message holds `FAIL`, otherwise the echo of tests/support/upstream.py;
- model `judge`: the verdict `{"score": 0.75, "reason": ...}` (a reply holding no score when the prompt holds
  `UNREADABLE`), streamed as one chunk.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.support.upstream import DONE, _answer, _Chunks, _echo_body, _error, _text, free_port

VERDICT = {"score": 0.75, "reason": "judged by the test upstream"}


async def _one_piece(chunks: _Chunks, text: str) -> AsyncIterator[bytes]:
    yield chunks.delta(text, first=True)
    yield chunks.stop()
    yield DONE


def _prompt(messages: list[dict[str, Any]]) -> str:
    return " ".join(_text(message.get("content")) for message in messages)


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    model, messages = str(body.get("model")), list(body.get("messages") or [])
    chunks = _Chunks(model, bool((body.get("stream_options") or {}).get("include_usage")))
    if model == "judge":
        reply = "no idea" if "UNREADABLE" in _prompt(messages) else json.dumps(VERDICT)
        return StreamingResponse(_one_piece(chunks, reply), media_type="text/event-stream")
    if model != "flaky":
        return _error(404, f"The model `{model}` does not exist", "invalid_request_error")
    answer = _answer(messages)
    if "FAIL" in answer:
        return _error(500, "upstream exploded on this question", "server_error")
    return StreamingResponse(_echo_body(chunks, messages, answer), media_type="text/event-stream")


APP = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])


@contextmanager
def flaky_upstream() -> Iterator[str]:
    """The server's OpenAI base URL while the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(APP, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the flaky upstream did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
