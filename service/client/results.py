"""What became of each file of a `nectar ingest` run: the rows of its final table and its exit code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import httpx

from service.client.api import UNAUTHORIZED, ApiError
from service.client.files import LocalFile

EXIT_OK, EXIT_FAILED, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 130  # 130: 128 + SIGINT, as shells report Ctrl-C
_CLOCK = re.compile(r"^\d\d:\d\d:\d\d ")  # the time stamp a server's progress_msg line starts with


class Outcome(StrEnum):
    PARSED = "parsed"
    PRESENT = "already in the dataset"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass
class FileResult:
    file: LocalFile
    outcome: Outcome | None = None  # None while the file is on its way
    stage: str = ""  # where it stopped: read, upload, parse
    reason: str = ""
    document_id: str | None = None
    progress: float = 0.0  # the server's parse progress, 0..1
    chunks: int = 0

    def end(self, outcome: Outcome, stage: str = "", reason: str = "") -> None:
        self.outcome, self.stage, self.reason = outcome, stage, reason

    def fail(self, stage: str, error: BaseException | str) -> None:
        self.end(Outcome.FAILED, stage, error if isinstance(error, str) else why(error))


def why(error: BaseException) -> str:
    """One line a person can act on."""
    if isinstance(error, ApiError):
        refused = "the server refused the API key: " if error.code in UNAUTHORIZED else ""
        return refused + error.message
    if isinstance(error, httpx.TransportError):
        return f"cannot reach the server ({type(error).__name__}: {error})"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return f"{type(error).__name__}: {error}"


def last_log_line(progress_msg: str) -> str:
    """The last line of a document's progress log (where a failure says why), without its time stamp."""
    lines = [line for line in progress_msg.splitlines() if line.strip()]
    return _CLOCK.sub("", lines[-1]).removeprefix("[ERROR] ") if lines else "no message from the server"


def settle_interrupted(results: list[FileResult]) -> None:
    """After Ctrl-C: what each unfinished file was left as, and what a re-run will do with it."""
    for result in results:
        if result.outcome is not None:
            continue
        if result.document_id is None:
            result.end(Outcome.INTERRUPTED, "upload", "not uploaded yet; run again to upload")
        else:
            result.end(Outcome.INTERRUPTED, "parse", "uploaded, not parsed yet; run again to finish")


def exit_code(results: list[FileResult], interrupted: bool) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(r.outcome is Outcome.FAILED for r in results) else EXIT_OK
