"""What `nectar ingest` shows: two progress bars while it runs (on stderr), a summary and a table at the end.

Every text from a server or a file name is shown as plain text (rich.text.Text), never read as rich markup.
"""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from service.client.results import FileResult, Outcome


class Bars:
    """Files uploaded (or found already there) out of all; documents parsed, fractions of running ones included."""

    def __init__(self, console: Console, files: int) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._uploads = self.progress.add_task("uploaded", total=files)
        self._parses = self.progress.add_task("parsed", total=0)

    def __enter__(self) -> Bars:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def uploaded(self) -> None:
        self.progress.advance(self._uploads)

    def parsed(self, done: float, total: int) -> None:
        self.progress.update(self._parses, completed=done, total=total)


def summary(results: list[FileResult]) -> str:
    counts = Counter(result.outcome for result in results)
    chunks = sum(result.chunks for result in results if result.outcome is Outcome.PARSED)
    parts = [f"{counts[Outcome.PARSED]} parsed ({chunks} chunks)"]
    parts += [
        f"{counts[outcome]} {outcome}" for outcome in Outcome if outcome is not Outcome.PARSED and counts[outcome]
    ]
    files = "file" if len(results) == 1 else "files"
    return f"{len(results)} {files}: " + ", ".join(parts)


Row = tuple[str, str, str, str]


def _interrupted_rows(results: list[FileResult]) -> list[Row]:
    """Files Ctrl-C caught on their way: one row per stage (they all have the same reason), so that a long list
    of them does not bury the failures."""
    rows = []
    for stage in ("upload", "parse"):
        caught = [r for r in results if r.outcome is Outcome.INTERRUPTED and r.stage == stage]
        if caught:
            name = caught[0].file.shown if len(caught) == 1 else f"{len(caught)} files"
            rows.append((name, str(Outcome.INTERRUPTED), stage, caught[0].reason))
    return rows


def problems_table(results: list[FileResult]) -> Table | None:
    """Every file that did not end parsed or already there: which, how far it got, and why."""
    rows: list[Row] = [
        (result.file.shown, str(result.outcome), result.stage, result.reason)
        for result in results
        if result.outcome in (Outcome.FAILED, Outcome.DUPLICATE)
    ]
    rows += _interrupted_rows(results)
    if not rows:
        return None
    table = Table(title="Files not ingested", title_justify="left")
    table.add_column("file", overflow="fold")
    for heading in ("outcome", "stage", "why"):
        table.add_column(heading)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def final_report(console: Console, results: list[FileResult], dataset: str) -> None:
    console.print(Text(f"Dataset {dataset!r}: {summary(results)}"))
    table = problems_table(results)
    if table is not None:
        console.print(table)
