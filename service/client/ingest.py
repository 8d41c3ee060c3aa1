"""`nectar ingest`: send files to a dataset over HTTP, parse them, and say what became of each.

A file whose content (SHA-256) the dataset already holds is not sent again, so an interrupted bulk load
resumes: documents already parsed are skipped, ones left unparsed are parsed, ones still parsing are waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console

from service.client.api import ApiError, NectarApi
from service.client.files import LocalFile, read
from service.client.parsing import ParseRequests
from service.client.report import Bars, final_report
from service.client.results import FileResult, Outcome, exit_code, last_log_line, settle_interrupted
from service.client.watch import ParseWatch

# Which of several documents with the same content speaks for it: the one furthest along.
RUN_RANK = {"DONE": 0, "RUNNING": 1, "UNSTART": 2, "CANCEL": 3, "FAIL": 4}


class SetupError(Exception):
    """The run cannot start (no such dataset, ...); the message says what to do."""


@dataclass(frozen=True)
class IngestOptions:
    dataset: str
    create: bool = False
    chunk_method: str | None = None
    concurrency: int = 4
    retry_failed: bool = False
    poll_seconds: float = 0.5


async def resolve_dataset(api: NectarApi, options: IngestOptions) -> dict[str, Any]:
    """The dataset named, made first with `--create` (and `--chunk-method` as its default)."""
    found = await api.named("datasets", options.dataset)
    if found is not None:
        return found
    if not options.create:
        raise SetupError(f"there is no dataset named {options.dataset!r}: add --create to make it")
    body = {"name": options.dataset, **({"chunk_method": options.chunk_method} if options.chunk_method else {})}
    created: dict[str, Any] = await api.call("POST", "/datasets", json=body)
    return created


async def dataset_contents(api: NectarApi, dataset_id: str) -> tuple[dict[str, dict[str, Any]], bool]:
    """content SHA-256 → the document holding it; False when the server reports no hashes (not a Nectar)."""
    index: dict[str, dict[str, Any]] = {}
    hashed = True
    async for doc in api.documents(dataset_id):
        digest = doc.get("content_sha256")
        if not digest:
            hashed = False
            continue
        if digest not in index or RUN_RANK.get(doc["run"], 9) < RUN_RANK.get(index[digest]["run"], 9):
            index[digest] = doc
    return index, hashed


Uploaded = Callable[[], None]


class Ingest:
    """One run over a list of files: `concurrency` files on their way at once, their parse requests batched,
    and one watch over the parses."""

    def __init__(self, api: NectarApi, dataset_id: str, options: IngestOptions, watch: ParseWatch) -> None:
        self.api, self.dataset_id, self.options, self.watch = api, dataset_id, options, watch
        self.parses = ParseRequests(api, dataset_id, watch)
        self.known: dict[str, dict[str, Any]] = {}  # content hash → the dataset's document with that content
        self.claimed: dict[str, FileResult] = {}  # content hash → the first file of this run that has it

    async def run(self, results: list[FileResult], uploaded: Uploaded) -> None:
        """Every file through; returns when each has an outcome (raises CancelledError on Ctrl-C)."""
        files = iter(results)
        async with asyncio.TaskGroup() as group:
            watching = group.create_task(self.watch.run())
            parsing = group.create_task(self.parses.run())
            async with asyncio.TaskGroup() as senders:
                for _ in range(self.options.concurrency):
                    senders.create_task(self._send_each(files, uploaded))
            self.parses.close()
            await parsing
            self.watch.closed = True
            await watching

    async def _send_each(self, files: Iterator[FileResult], uploaded: Uploaded) -> None:
        for result in files:
            await self._send(result)
            uploaded()

    async def _send(self, result: FileResult) -> None:
        try:
            data, digest = await asyncio.to_thread(read, result.file.path)
        except OSError as error:
            result.fail("read", error)
            return
        first = self.claimed.setdefault(digest, result)
        if first is not result:
            result.end(Outcome.DUPLICATE, "", f"same content as {first.file.shown}")
            return
        doc = self.known.get(digest)
        if doc is not None:
            await self._resume(result, doc)
            return
        try:
            doc = await self.api.upload(self.dataset_id, result.file.path.name, data)
        except (ApiError, httpx.HTTPError) as error:
            result.fail("upload", error)
            return
        await self._parse(result, doc)

    async def _resume(self, result: FileResult, doc: dict[str, Any]) -> None:
        """A file the dataset already holds: done, still parsing, failed before, or never parsed."""
        result.document_id, run = doc["id"], doc["run"]
        if run == "DONE":
            result.chunks = int(doc.get("chunk_count") or 0)
            result.end(Outcome.PRESENT)
        elif run == "RUNNING":
            self.watch.add(result)
        elif run == "FAIL" and not self.options.retry_failed:
            failed = last_log_line(doc.get("progress_msg") or "")
            result.fail("parse", f"failed before: {failed} (--retry-failed parses it again)")
        else:
            await self._parse(result, doc)

    async def _parse(self, result: FileResult, doc: dict[str, Any]) -> None:
        """Give the document the chunk method asked for, then queue it for the next parse request."""
        result.document_id = doc["id"]
        method = self.options.chunk_method
        if method and doc.get("chunk_method") != method:
            try:
                await self.api.set_chunk_method(self.dataset_id, doc["id"], method)
            except (ApiError, httpx.HTTPError) as error:
                result.fail("parse", error)
                return
        self.parses.add(result)


async def ingest(api: NectarApi, files: list[LocalFile], options: IngestOptions, out: Console, err: Console) -> int:
    """The whole run; its exit code. Ctrl-C stops it between requests and still reports every file."""
    dataset = await resolve_dataset(api, options)
    results = [FileResult(file) for file in files]
    interrupted = False
    with Bars(err, len(results)) as bars:
        watch = ParseWatch(api, dataset["id"], options.poll_seconds, bars.parsed)
        run = Ingest(api, dataset["id"], options, watch)
        run.known, hashed = await dataset_contents(api, dataset["id"])
        if not hashed:
            err.print("warning: the server reports no content hashes, so files already there are sent again")
        try:
            await run.run(results, bars.uploaded)
        except asyncio.CancelledError:
            interrupted = True
            _carry_on_after_ctrl_c()
    settle_interrupted(results)
    final_report(out, results, dataset["name"])
    return exit_code(results, interrupted)


def _carry_on_after_ctrl_c() -> None:
    """asyncio.run answers the first Ctrl-C by cancelling the main task; taking it back lets the report print."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
