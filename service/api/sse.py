"""Server-sent events for every streaming face, through sse-starlette (keep-alive pings, disconnect handling).

Each face renders its own events as exact bytes (RAGFlow wants `data:{...}` with no space; OpenAI
clients accept either), so the wire format stays the face's business. When the client disconnects,
sse-starlette cancels the producer: the cancellation reaches the LLM stream, which closes the upstream
request, and the answering layer records the turn as cancelled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Any, cast

from litestar import Request, Response
from litestar.types import ASGIApp
from sse_starlette import EventSourceResponse

PING_SECONDS = 15


def data_event(payload: Any) -> bytes:
    """`data:` + Python's default json.dumps (RAGFlow's exact bytes) + blank line."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data:{text}\n\n".encode()


def event_stream(events: AsyncIterable[bytes]) -> ASGIApp:
    # Sends Content-Type `text/event-stream; charset=utf-8` and `Connection: keep-alive` itself.
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = EventSourceResponse(events, ping=PING_SECONDS, sep="\n", headers=headers)
    return cast(ASGIApp, response)  # Starlette and Litestar spell the same ASGI types differently


def as_asgi(request: Request[Any, Any, Any], response: Response[Any]) -> ASGIApp:
    """A handler that may stream is typed `-> ASGIApp`; its plain JSON replies go through this."""
    return response.to_asgi_response(None, request)
