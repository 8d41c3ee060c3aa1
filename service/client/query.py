"""`nectar ask` (a chat's answer, streamed, then its sources) and `nectar search` (a dataset's ranked chunks)."""

from __future__ import annotations

import re
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from service.client.api import NectarApi
from service.client.results import EXIT_FAILED, EXIT_OK

CITATION = re.compile(r"\[ID:(\d+)\]")
SNIPPET_CHARS = 300


class Unknown(Exception):
    """No chat or dataset of that name (the message says which)."""


class AnswerFailed(Exception):
    """The answer stream ended in an error event (the server's message)."""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def _id_of(api: NectarApi, kind: str, name: str) -> str:
    found = await api.named(kind, name)
    if found is None:
        raise Unknown(f"there is no {kind[:-1]} named {name!r}")
    return str(found["id"])


async def search(api: NectarApi, out: Console, question: str, datasets: list[str], top: int) -> int:
    """The `top` best chunks of the datasets for `question`: rank, similarity, document, content."""
    ids = [await _id_of(api, "datasets", name) for name in datasets]
    found = await api.call("POST", "/retrieval", json={"question": question, "dataset_ids": ids, "page_size": top})
    chunks = found.get("chunks") or []
    if not chunks:
        out.print("No chunk matches.")
    for rank, chunk in enumerate(chunks, 1):
        head = Text(f"{rank}. ", style="bold")
        head.append(f"{chunk.get('similarity', 0):.4f}  ", style="cyan")
        head.append(str(chunk.get("document_keyword") or chunk.get("document_name") or ""), style="bold")
        out.print(head)
        out.print(Text("   " + snippet(str(chunk.get("content", "")))))
    return EXIT_OK


async def ask(api: NectarApi, out: Console, stream: TextIO, question: str, chat: str) -> int:
    """The chat's answer as it streams (to `stream`, plain), then the passages it cites."""
    chat_id = await _id_of(api, "chats", chat)
    answer = ""
    reference: list[dict[str, Any]] = []
    async for event in api.stream(f"/chats/{chat_id}/completions", {"question": question, "stream": True}):
        data = event.get("data")
        if event.get("code") != 0:
            raise AnswerFailed(str(event.get("message") or "the answer failed"))
        if not isinstance(data, dict):  # the closing `data: true`
            break
        if data.get("final"):
            reference = (data.get("reference") or {}).get("chunks") or []
            continue
        answer += str(data.get("answer") or "")
        stream.write(str(data.get("answer") or ""))
        stream.flush()
    stream.write("\n")
    stream.flush()
    _sources(out, answer, reference)
    return EXIT_OK if answer.strip() else EXIT_FAILED


def _sources(out: Console, answer: str, reference: list[dict[str, Any]]) -> None:
    """The passages the answer cites as [ID:n] (all of them when it cites none)."""
    cited = sorted({int(n) for n in CITATION.findall(answer) if int(n) < len(reference)})
    rows = cited or list(range(len(reference)))
    if not rows:
        return
    out.print(Text("\nSources:", style="bold"))
    for row in rows:
        chunk = reference[row]
        line = Text(f"[ID:{row}] ", style="bold")
        line.append(str(chunk.get("document_name", "")), style="bold")
        line.append(f"  {snippet(str(chunk.get('content', '')), 160)}")
        out.print(line)
