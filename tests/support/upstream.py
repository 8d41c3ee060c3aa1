"""A fake OpenAI-compatible LLM server, run as its own process so clients see real sockets.

    python -m tests.support.upstream --port 8123

The `model` of a chat request chooses the behaviour:

- `echo`: answers `"echo: " + <last user message>`; streamed one word per chunk, then a `finish_reason: "stop"`
  chunk, then (if `stream_options.include_usage`) a usage chunk, then `data: [DONE]`.
  Usage counts whitespace words: prompt = over all messages, completion = in the answer.
- `echo-nousage`: like `echo`, never reports usage.
- `slow`: sleeps 30 s, then answers like `echo` (for client timeouts).
- `fail-500`: HTTP 500 with an OpenAI error body ("upstream exploded").
- `cut`: streams two content chunks, then drops the connection mid-body (the chunked body never terminates).
- `unfinished`: streams two content chunks, then ends the body cleanly: no `finish_reason`, no `[DONE]`.
- `endless`: streams a word every 50 ms for up to 60 s.
- `garbage`: streams one content chunk, then an event whose data is not JSON.
- `error-event`: streams one content chunk, then an OpenAI `{"error": ...}` event ("the GPU fell over"), as vLLM does
  when generation fails mid-answer.
- anything else: HTTP 404 with an OpenAI error body.

`GET /received` lists every chat request body so far, in order. For stream requests it adds `_outcome`:
`"streaming"` while the body is being sent, then `"completed"`, `"client_closed"` (the client went away first)
or `"cut"` (this server dropped the connection on purpose); `"error"` when answered with an error status.
`DELETE /received` clears the list.

`UpstreamProcess` starts the server on a free port in a child process and talks to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODELS = ("echo", "echo-nousage", "slow", "fail-500", "cut", "unfinished", "endless", "garbage", "error-event")
SLOW_SECONDS = 30.0
ENDLESS_INTERVAL = 0.05
ENDLESS_SECONDS = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]

received: list[dict[str, Any]] = []


class CutConnection(Exception):
    """Raised inside a streaming body on purpose: uvicorn then closes the socket mid-response."""


class _QuietCuts(logging.Filter):
    """Keeps the expected `cut` traceback out of the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], CutConnection))


def _error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status)


def _text(content: Any) -> str:
    """A message's text, whether `content` is a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _answer(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return "echo: " + (_text(users[-1].get("content")) if users else "")


def _usage(messages: list[dict[str, Any]], answer: str) -> dict[str, int]:
    prompt = sum(len(_text(m.get("content")).split()) for m in messages)
    completion = len(answer.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


class _Chunks:
    """Builds `chat.completion.chunk` SSE events for one response."""

    def __init__(self, model: str, with_usage: bool) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        self.created = int(time.time())
        self.model = model
        self.with_usage = with_usage

    def event(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.with_usage:
            chunk["usage"] = usage  # OpenAI sends `"usage": null` on every chunk but the last when asked for usage
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def delta(self, text: str, first: bool = False) -> bytes:
        delta: dict[str, str] = {"role": "assistant", "content": text} if first else {"content": text}
        return self.event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def stop(self) -> bytes:
        return self.event([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])


DONE = b"data: [DONE]\n\n"


async def _stream(record: dict[str, Any], body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Wraps a body to record how it ended: finishing, the client leaving (cancellation or close), or a cut."""
    record["_outcome"] = "streaming"
    try:
        async for piece in body:
            yield piece
        record["_outcome"] = "completed"
    except CutConnection:
        record["_outcome"] = "cut"
        raise
    finally:
        if record["_outcome"] == "streaming":
            record["_outcome"] = "client_closed"


async def _echo_body(chunks: _Chunks, messages: list[dict[str, Any]], answer: str) -> AsyncIterator[bytes]:
    for i, word in enumerate(_words(answer)):
        yield chunks.delta(word, first=i == 0)
    yield chunks.stop()
    if chunks.with_usage:
        yield chunks.event([], _usage(messages, answer))
    yield DONE


async def _two_then(chunks: _Chunks, answer: str, cut: bool) -> AsyncIterator[bytes]:
    for i, word in enumerate(_words(answer)[:2]):
        yield chunks.delta(word, first=i == 0)
        await asyncio.sleep(0.01)
    if cut:
        raise CutConnection("dropping the connection mid-response")


async def _broken_body(chunks: _Chunks, answer: str, model: str) -> AsyncIterator[bytes]:
    yield chunks.delta(_words(answer)[0], first=True)
    if model == "garbage":
        yield b"data: {this is not json\n\n"
    else:
        yield b'data: {"error": {"message": "the GPU fell over", "type": "server_error", "code": 500}}\n\n'


async def _endless_body(chunks: _Chunks) -> AsyncIterator[bytes]:
    deadline = time.monotonic() + ENDLESS_SECONDS
    n = 0
    while time.monotonic() < deadline:
        yield chunks.delta(f"word{n} ", first=n == 0)
        n += 1
        await asyncio.sleep(ENDLESS_INTERVAL)
    yield chunks.stop()
    yield DONE


def _completion(model: str, messages: list[dict[str, Any]], answer: str, with_usage: bool) -> JSONResponse:
    body: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    if with_usage:
        body["usage"] = _usage(messages, answer)
    return JSONResponse(body)


async def chat_completions(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "The request body is not JSON", "invalid_request_error")
    if not isinstance(body, dict):
        return _error(400, "The request body is not a JSON object", "invalid_request_error")
    record = dict(body)
    received.append(record)
    model = str(body.get("model", ""))
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    streaming = bool(body.get("stream"))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    if model not in MODELS:
        if streaming:
            record["_outcome"] = "error"
        return _error(404, f"The model `{model}` does not exist", "invalid_request_error", "model_not_found")
    if model == "fail-500":
        if streaming:
            record["_outcome"] = "error"
        return _error(500, "upstream exploded", "server_error")
    if model == "slow":
        await asyncio.sleep(SLOW_SECONDS)

    answer = _answer(messages)
    with_usage = model != "echo-nousage"
    if not streaming:
        return _completion(model, messages, answer, with_usage)

    chunks = _Chunks(model, with_usage and include_usage)
    source: AsyncIterator[bytes]
    if model == "cut":
        source = _two_then(chunks, answer, cut=True)
    elif model == "unfinished":
        source = _two_then(chunks, answer, cut=False)
    elif model == "endless":
        source = _endless_body(chunks)
    elif model in ("garbage", "error-event"):
        source = _broken_body(chunks, answer, model)
    else:
        source = _echo_body(chunks, messages, answer)
    return StreamingResponse(
        _stream(record, source),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


async def list_models(request: Request) -> Response:
    return JSONResponse(
        {
            "object": "list",
            "data": [{"id": m, "object": "model", "created": 0, "owned_by": "nectar-tests"} for m in MODELS],
        }
    )


async def get_received(request: Request) -> Response:
    return JSONResponse(received)


async def clear_received(request: Request) -> Response:
    received.clear()
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/received", get_received, methods=["GET"]),
        Route("/received", clear_received, methods=["DELETE"]),
    ]
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class UpstreamProcess:
    """The fake upstream in a child process on a free port; a context manager.

    `base_url` is what an OpenAI client takes; `received()` and `clear()` read and reset its request log.
    """

    def __init__(self, startup_timeout: float = 20.0) -> None:
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v1"
        self.startup_timeout = startup_timeout
        self.log_path = Path(tempfile.mkdtemp(prefix="nectar-upstream-")) / "upstream.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(base_url=self.root_url, timeout=10.0)

    def start(self) -> UpstreamProcess:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.upstream", "--port", str(self.port)],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the fake upstream exited with {self._process.returncode}:\n{self.log()}")
            try:
                if self._http.get("/v1/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the fake upstream did not answer within {self.startup_timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def received(self) -> list[dict[str, Any]]:
        response = self._http.get("/received")
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()
        return records

    def clear(self) -> None:
        self._http.delete("/received").raise_for_status()

    def stop(self) -> None:
        self._http.close()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> UpstreamProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible LLM server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())  # after Config, which sets up logging
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
