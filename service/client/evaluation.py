"""`nectar eval DATASET --deployment D [--metrics M ...]`: start an evaluation run over HTTP and follow it.

DATASET and D are ids or names (an OpsBee evaluation dataset and deployment of the key's organization). The run
is queued on the server, whose workers answer it; this command shows a progress bar (on stderr) until the run
ends, then the per-metric summary and the failures. Ctrl-C cancels the run. Exit codes: 0 the run is done and no
item failed; 1 some item failed, or the run did not finish; 2 nothing was started (no key, no server, no such
dataset or deployment, a request the server refused); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from service.client.connection import NoConnection, connection
from service.client.results import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_SETUP

if TYPE_CHECKING:
    from service.settings import Settings

COMMAND = "eval"
FINAL = ("done", "cancelled", "failed")
PAGE = 1000  # the largest OpsBee page
SHOWN_FAILURES = 10


class Refused(Exception):
    """The server said no, or what was named does not exist: nothing was started."""


@dataclass
class EvalRequest:
    dataset: str
    deployment: str
    metrics: list[str] | None = None
    name: str | None = None
    concurrency: int | None = None
    poll_seconds: float = 0.5
    body: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        fields = {"metrics": self.metrics, "name": self.name, "concurrency": self.concurrency}
        self.body = {key: value for key, value in fields.items() if value is not None}


def add_parser(commands: Any) -> None:
    run = commands.add_parser(COMMAND, help="run an evaluation dataset through a deployment and score the answers")
    run.add_argument("dataset", metavar="DATASET", help="the OpsBee evaluation dataset (id or name)")
    run.add_argument("--deployment", required=True, metavar="D", help="the deployment that answers (id or name)")
    run.add_argument("--metrics", nargs="+", metavar="M", help="e.g. exact_match f1 rouge_l retrieval_hit@5 mrr")
    run.add_argument("--name", help="the run's name (unique in the dataset; default: the time)")
    run.add_argument("--concurrency", type=int, metavar="N", help="items answered at a time (default 4)")
    run.add_argument("--url", help="the server, e.g. http://host:9380 (default: NECTAR_HOST and NECTAR_PORT)")
    run.add_argument("--api-key", help="default: NECTAR_API_KEY, else the key file `nectar serve` writes")


def _reply(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = body.get("error_description") if isinstance(body, dict) else response.text[:200]
        raise Refused(f"HTTP {response.status_code}: {detail}")
    return body


async def _named(http: httpx.AsyncClient, kind: str, wanted: str) -> str:
    """The id of the dataset or deployment (`kind`) whose id or name is `wanted`."""
    offset, named = 0, []
    while True:
        page = _reply(await http.get(f"/{kind}", params={"offset": offset, "limit": PAGE}))
        for row in page[kind]:
            if row["id"] == wanted:
                return str(row["id"])
            if row["name"] == wanted:
                named.append(str(row["id"]))
        if not page["has_next"]:
            break
        offset += PAGE
    if len(named) != 1:
        raise Refused(f"no {kind[:-1]} is called {wanted!r}" if not named else f"several {kind} are called {wanted!r}")
    return named[0]


def _bar(console: Console) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console)


async def _follow(http: httpx.AsyncClient, path: str, request: EvalRequest, err: Console) -> dict[str, Any]:
    """Poll the run until it ends, moving the bar; Ctrl-C (cancellation) cancels the run and re-raises."""
    with _bar(err) as bar:
        task = bar.add_task("answered", total=None)
        try:
            while True:
                run: dict[str, Any] = _reply(await http.get(path))
                bar.update(task, total=run["progress"]["total"], completed=run["progress"]["done"])
                if run["status"] in FINAL:
                    return run
                await asyncio.sleep(request.poll_seconds)
        except (asyncio.CancelledError, KeyboardInterrupt):
            await asyncio.shield(http.patch(path, json={"status": "cancelled"}))
            raise


def summary_table(run: dict[str, Any]) -> Table:
    table = Table("metric", "items", "mean", "p50", "p90", title=Text(f"run {run['name']}: {run['status']}"))
    for name, figures in run["scores"].items():
        table.add_row(name, str(figures["count"]), *(f"{figures[key]:.4g}" for key in ("mean", "p50", "p90")))
    return table


def report(run: dict[str, Any], out: Console) -> int:
    progress = run["progress"]
    out.print(summary_table(run))
    out.print(Text(f"{progress['succeeded']} answered, {progress['failed']} failed, {progress['pending']} not run"))
    for failure in run["failures"][:SHOWN_FAILURES]:
        out.print(Text(f"  item {failure['item_id']}: {failure['error_message']}"))
    if run.get("error_message"):
        out.print(Text(f"the run stopped: {run['error_message']}"))
    return EXIT_OK if run["status"] == "done" and not progress["failed"] else EXIT_FAILED


async def evaluate(http: httpx.AsyncClient, request: EvalRequest, out: Console, err: Console) -> int:
    """`http` is based at `/opsbee-llm/organizations/me` with the key set."""
    dataset_id = await _named(http, "datasets", request.dataset)
    deployment_id = await _named(http, "deployments", request.deployment)
    run = _reply(await http.post(f"/datasets/{dataset_id}/runs", json={"deployment_id": deployment_id, **request.body}))
    out.print(Text(f"run {run['id']} ({run['name']}): {run['progress']['total']} items queued"))
    return report(await _follow(http, f"/datasets/{dataset_id}/runs/{run['id']}", request, err), out)


def opsbee_client(base_url: str, api_key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/opsbee-llm/organizations/me",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=httpx.Timeout(60.0, connect=10.0),
        transport=httpx.AsyncHTTPTransport(retries=2),
    )


async def _main(base_url: str, api_key: str, request: EvalRequest) -> int:
    async with opsbee_client(base_url, api_key) as http:
        return await evaluate(http, request, Console(), Console(stderr=True))


def run(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    request = EvalRequest(args.dataset, args.deployment, args.metrics, args.name, args.concurrency)
    try:
        server = connection(settings, args.url, args.api_key)
        return asyncio.run(_main(server.base_url, server.api_key, request))
    except (NoConnection, Refused) as problem:
        print(f"nectar eval: {problem}", file=sys.stderr)
        return EXIT_SETUP
    except httpx.HTTPError as error:
        print(f"nectar eval: cannot reach the server ({type(error).__name__}: {error})", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("nectar eval: interrupted; the run was cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
