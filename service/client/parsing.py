"""Starting the parse of uploaded documents, many per request.

A parse request costs the server more than an upload (it queues a job per document), so uploaded documents
wait a little for others and go together: a request per 100 documents, or per LINGER_SECONDS. A refused batch
is sent again one document at a time, so that only the documents the server refuses fail, each with its own
reason.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from service.client.api import PAGE_SIZE, ApiError, NectarApi
from service.client.results import FileResult
from service.client.watch import ParseWatch

# How long an uploaded document may wait for others to share its parse request. Measured on 2 cores, 150 small
# files: parse requests trickling in one by one took the run from 10 s to 22 s (uploads and parsing slow each
# other down on one machine, and the worker works best on many queued jobs).
LINGER_SECONDS = 2.0


class ParseRequests:
    def __init__(self, api: NectarApi, dataset_id: str, watch: ParseWatch, linger: float = LINGER_SECONDS) -> None:
        self.api, self.dataset_id, self.watch, self.linger = api, dataset_id, watch, linger
        self.waiting: list[FileResult] = []  # uploaded, parse not asked yet
        self._full = asyncio.Event()  # a whole batch is waiting, or no more will come
        self._closed = False

    def add(self, result: FileResult) -> None:
        self.waiting.append(result)
        if len(self.waiting) >= PAGE_SIZE:
            self._full.set()

    def close(self) -> None:
        """No more documents: `run` returns once the waiting ones are sent."""
        self._closed = True
        self._full.set()

    async def run(self) -> None:
        while not (self._closed and not self.waiting):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.linger)
            self._full.clear()
            while self.waiting:
                batch = self.waiting[:PAGE_SIZE]
                await self._send(batch)
                del self.waiting[: len(batch)]

    async def _send(self, batch: list[FileResult]) -> None:
        try:
            await self.api.parse(self.dataset_id, [str(result.document_id) for result in batch])
        except (ApiError, httpx.HTTPError) as error:
            if len(batch) == 1:
                batch[0].fail("parse", error)
                return
            for result in batch:
                await self._send([result])
            return
        for result in batch:
            self.watch.add(result)
