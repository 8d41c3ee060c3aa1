"""The client commands' arguments (`nectar ingest | ask | search`) and their exit codes.

Exit codes: 0 done; 1 something failed (a file, the answer); 2 nothing was done (usage, no key, server
unreachable or refusing the key, no such dataset or chat); 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console

from service.client.api import ApiError, Connection, NectarApi
from service.client.connection import NoConnection, connection
from service.client.files import Globs, discover
from service.client.ingest import IngestOptions, SetupError, ingest
from service.client.query import AnswerFailed, Unknown, ask, search
from service.client.results import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_SETUP, why

if TYPE_CHECKING:
    from service.settings import Settings

COMMANDS = ("ingest", "ask", "search")


def _count(highest: int) -> Callable[[str], int]:
    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"should be a whole number, got {text!r}") from None
        if not 1 <= value <= highest:
            raise argparse.ArgumentTypeError(f"should be between 1 and {highest}, got {value}")
        return value

    return count


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the server, e.g. http://host:9380 (default: NECTAR_HOST and NECTAR_PORT)")
    parser.add_argument(
        "--api-key", help="default: NECTAR_API_KEY, else the key file `nectar serve` writes in NECTAR_DATA_DIR"
    )


def add_parsers(commands: Any) -> None:
    bulk = commands.add_parser("ingest", help="upload files and folders to a dataset over HTTP and parse them")
    bulk.add_argument("paths", nargs="+", metavar="PATH", help="files, and folders to walk")
    bulk.add_argument("--dataset", required=True, metavar="NAME")
    bulk.add_argument("--create", action="store_true", help="make the dataset when none has that name")
    bulk.add_argument("--chunk-method", metavar="M", help="e.g. naive, qa, table (default: the dataset's)")
    bulk.add_argument("--include", action="append", default=[], metavar="GLOB", help="only files matching")
    bulk.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip files and folders")
    bulk.add_argument("--concurrency", type=_count(64), default=4, metavar="N", help="files in flight (4)")
    bulk.add_argument("--retry-failed", action="store_true", help="parse again documents that failed before")
    _server_arguments(bulk)
    question = commands.add_parser("ask", help="ask a chat assistant; prints its answer and the passages it cites")
    question.add_argument("question")
    question.add_argument("--chat", required=True, metavar="NAME")
    _server_arguments(question)
    query = commands.add_parser("search", help="the chunks of datasets that best match a query")
    query.add_argument("question", metavar="QUERY")
    query.add_argument("--dataset", required=True, action="append", metavar="NAME", help="repeat for several")
    query.add_argument("--top", type=_count(100), default=5, metavar="N", help="how many chunks (5, at most 100)")
    _server_arguments(query)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one client command to its exit code; a setup problem is one line on stderr and exit code 2."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one INFO line per request
    try:
        server = connection(settings, args.url, args.api_key)
        return asyncio.run(_guarded(server, args))
    except NoConnection as problem:
        print(f"nectar {args.command}: {problem}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print(f"nectar {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _guarded(server: Connection, args: argparse.Namespace) -> int:
    concurrency = getattr(args, "concurrency", 1)
    try:
        async with NectarApi(server, concurrency) as api:
            return await HANDLERS[args.command](api, args)
    except (SetupError, Unknown) as problem:
        print(f"nectar {args.command}: {problem}", file=sys.stderr)
        return EXIT_SETUP
    except AnswerFailed as problem:
        print(f"nectar {args.command}: the answer failed: {problem}", file=sys.stderr)
        return EXIT_FAILED
    except (ApiError, httpx.HTTPError) as error:
        print(f"nectar {args.command}: {server.base_url}: {why(error)}", file=sys.stderr)
        return EXIT_SETUP


async def _ingest(api: NectarApi, args: argparse.Namespace) -> int:
    globs = Globs(tuple(args.include), tuple(args.exclude))
    try:
        files = discover(args.paths, globs)
    except FileNotFoundError as missing:
        raise SetupError(str(missing)) from None
    options = IngestOptions(args.dataset, args.create, args.chunk_method, args.concurrency, args.retry_failed)
    return await ingest(api, files, options, Console(), Console(stderr=True))


async def _ask(api: NectarApi, args: argparse.Namespace) -> int:
    return await ask(api, Console(), sys.stdout, args.question, args.chat)


async def _search(api: NectarApi, args: argparse.Namespace) -> int:
    return await search(api, Console(), args.question, args.dataset, args.top)


Handler = Callable[[NectarApi, argparse.Namespace], Coroutine[Any, Any, int]]
HANDLERS: dict[str, Handler] = {"ingest": _ingest, "ask": _ask, "search": _search}
