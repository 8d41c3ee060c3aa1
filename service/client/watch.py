"""Following the documents a run asked the server to parse, until each is DONE, FAIL or CANCEL.

One poll lists the dataset's RUNNING documents (the progress of ours among them); a document of ours that is
no longer among them has finished and is read once by id. So a poll costs one request per 100 running
documents, whatever the size of the dataset, and the wait between polls grows with what a poll costs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from service.client.api import ApiError, NectarApi
from service.client.results import FileResult, Outcome, last_log_line, why

MAX_FAILED_POLLS = 5  # consecutive polls the server did not answer before the unfinished files are given up


class ParseWatch:
    def __init__(
        self, api: NectarApi, dataset_id: str, interval: float, on_change: Callable[[float, int], None]
    ) -> None:
        self.api, self.dataset_id, self.interval = api, dataset_id, interval
        self.on_change = on_change  # (documents parsed so far, fractions included; documents to parse)
        self.pending: dict[str, FileResult] = {}
        self.finished = 0
        self.closed = False  # no more documents will be added
        self._failed_polls = 0

    def add(self, result: FileResult) -> None:
        assert result.document_id is not None
        self.pending[result.document_id] = result
        self._changed()

    def _changed(self) -> None:
        done = self.finished + sum(max(r.progress, 0.0) for r in self.pending.values())
        self.on_change(done, self.finished + len(self.pending))

    async def run(self) -> None:
        pause = self.interval
        while not (self.closed and not self.pending):
            await asyncio.sleep(pause)
            if not self.pending:
                continue
            started = time.monotonic()
            await self._poll()
            pause = max(self.interval, 2 * (time.monotonic() - started))

    async def _poll(self) -> None:
        try:
            running = {doc["id"]: doc async for doc in self.api.documents(self.dataset_id, run="RUNNING")}
            ended = [result for doc_id, result in self.pending.items() if doc_id not in running]
            for doc_id, result in self.pending.items():
                if doc_id in running:
                    result.progress = float(running[doc_id].get("progress") or 0.0)
            await asyncio.gather(*(self._settle(result) for result in ended))
            self._failed_polls = 0
        except (ApiError, httpx.HTTPError) as error:
            self._failed_polls += 1
            if self._failed_polls >= MAX_FAILED_POLLS:
                self._give_up(why(error))
        self._changed()

    async def _settle(self, result: FileResult) -> None:
        """Read a document that left RUNNING and record how it ended."""
        assert result.document_id is not None
        try:
            doc = await self.api.document(self.dataset_id, result.document_id)
        except ApiError as error:  # deleted meanwhile
            self._done(result, Outcome.FAILED, "parse", error.message)
            return
        if doc["run"] == "RUNNING":  # started between the two requests
            return
        self._done(result, *ended_as(doc))
        result.chunks = int(doc.get("chunk_count") or 0)

    def _done(self, result: FileResult, outcome: Outcome, stage: str = "", reason: str = "") -> None:
        assert result.document_id is not None
        result.end(outcome, stage, reason)
        if self.pending.pop(result.document_id, None) is not None:
            self.finished += 1

    def _give_up(self, reason: str) -> None:
        for result in list(self.pending.values()):
            self._done(result, Outcome.FAILED, "parse", f"lost the server while it parsed: {reason}")


def ended_as(doc: dict[str, Any]) -> tuple[Outcome, str, str]:
    """(outcome, stage, reason) of a document whose parse run is over."""
    run = doc["run"]
    if run == "DONE":
        return Outcome.PARSED, "", ""
    if run == "FAIL":
        return Outcome.FAILED, "parse", last_log_line(doc.get("progress_msg") or "")
    if run == "CANCEL":
        return Outcome.FAILED, "parse", "parsing was stopped on the server"
    return Outcome.FAILED, "parse", f"the server reset the document ({run})"
