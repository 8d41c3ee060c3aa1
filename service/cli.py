"""The `nectar` command: serve | worker | migrate | tenant create|list | apikey create|list|revoke, and the
HTTP client commands ingest | ask | search (service/client/)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from service.client import commands as client_commands
from service.client import evaluation as eval_command
from service.client.connection import api_key_file
from service.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("nectar")


async def _serve(settings: Settings) -> None:
    import uvicorn

    from service.app import create_app
    from service.domain.tenants import ensure_default_tenant
    from service.runtime import build_runtime

    runtime = await build_runtime(settings)
    try:
        async with runtime.sessions() as db:
            tenant, new_key = await ensure_default_tenant(db, settings.api_key)
            await db.commit()
        _print_key_info(settings, tenant.id, new_key)
        config = uvicorn.Config(
            create_app(settings, runtime),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            lifespan="on",
        )
        base = f"http://{settings.host}:{settings.port}"
        print(f"Nectar API on {base}/api/v1 (Ctrl-C stops)", flush=True)
        print(f"OpsBee LLM API on {base}/opsbee-llm/organizations/{tenant.id} (`me` works too)", flush=True)
        await uvicorn.Server(config).serve()
    finally:
        await runtime.close()


def _print_key_info(settings: Settings, tenant_id: str, new_key: str | None) -> None:
    key_file = api_key_file(settings)
    if new_key is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(new_key + "\n")
        key_file.chmod(0o600)
    print(f"Organization (tenant) id: {tenant_id}", flush=True)
    if settings.api_key:
        print("API key: the one in NECTAR_API_KEY", flush=True)
    elif key_file.exists():
        print(f"API key: in {key_file}", flush=True)
    else:
        print("API key: create one with `nectar apikey create`", flush=True)


async def _worker(settings: Settings) -> None:
    from service.runtime import build_runtime
    from workers.main import run_worker
    from workers.reconnect import DatabaseUnreachable

    runtime = await build_runtime(settings, worker=False)
    try:
        await run_worker(runtime)
    except DatabaseUnreachable as exc:  # one line and exit status 1, for the supervisor to start a fresh worker
        raise SystemExit(f"nectar worker: {exc}") from exc
    finally:
        await runtime.close()


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One management command's session on the migrated database (started first when embedded), committed
    when the command is done. A domain error (unknown tenant, ambiguous hint) is the message, exit status 1."""
    from service.errors import DomainError
    from service.runtime import build_runtime

    runtime = await build_runtime(settings, worker=False, warm=False)
    try:
        async with runtime.sessions() as db:
            yield db
            await db.commit()
    except DomainError as exc:
        raise SystemExit(f"nectar: {exc.message}") from None
    finally:
        await runtime.close()


async def _tenant_create(settings: Settings, args: argparse.Namespace) -> None:
    from service.domain.tenants import create_tenant

    async with _database(settings) as db:
        tenant = await create_tenant(db, args.name)
    print(f"Tenant {tenant.name!r} created; its id (OpsBee's organization_id) below.")
    print(f"Give it a key with `nectar apikey create --tenant {tenant.id}`.")
    print(tenant.id)


async def _tenant_list(settings: Settings, args: argparse.Namespace) -> None:
    from service.domain.tenants import list_tenants

    async with _database(settings) as db:
        tenants = await list_tenants(db)
    print("id\tkeys\tcreated_at\tname")
    for tenant in tenants:
        print(f"{tenant.id}\t{tenant.keys}\t{tenant.created_at.isoformat(timespec='seconds')}\t{tenant.name}")


async def _apikey_create(settings: Settings, args: argparse.Namespace) -> None:
    """A key for the tenant named, or for the default one (made on an empty database)."""
    from service.domain.tenants import add_api_key, ensure_default_tenant, get_tenant

    async with _database(settings) as db:
        tenant = await get_tenant(db, args.tenant) if args.tenant else (await ensure_default_tenant(db, None))[0]
        key = await add_api_key(db, tenant.id)
    print(f"Organization (tenant) id: {tenant.id} (OpsBee's organization_id; `me` works too)")
    print(key)


async def _apikey_list(settings: Settings, args: argparse.Namespace) -> None:
    from service.domain.tenants import list_api_keys

    async with _database(settings) as db:
        keys = await list_api_keys(db, args.tenant)
    print("hint\ttenant_id\tcreated_at")
    for key in keys:
        print(f"{key.hint}…\t{key.tenant_id}\t{key.created_at.isoformat(timespec='seconds')}")


async def _apikey_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from service.domain.tenants import CACHE_SECONDS, revoke_api_key

    async with _database(settings) as db:
        key = await revoke_api_key(db, args.key)
    print(f"Revoked the key {key.hint}… of tenant {key.tenant_id}.")
    print(f"Running servers stop accepting it within {CACHE_SECONDS:g} s.")


Management = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, None]]
MANAGEMENT: dict[tuple[str, str], Management] = {
    ("tenant", "create"): _tenant_create,
    ("tenant", "list"): _tenant_list,
    ("apikey", "create"): _apikey_create,
    ("apikey", "list"): _apikey_list,
    ("apikey", "revoke"): _apikey_revoke,
}


async def _migrate(settings: Settings) -> None:
    from service.runtime import build_runtime

    runtime = await build_runtime(settings, worker=False, warm=False)
    await runtime.close()
    print("database is at the latest schema")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="nectar", description="Self-hosted async RAG service")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API (and one in-process ingestion worker)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-worker", action="store_true", help="do not run an in-process worker")
    commands.add_parser("worker", help="run a standalone ingestion worker")
    commands.add_parser("migrate", help="bring the database schema up to date")
    _management_parsers(commands)
    client_commands.add_parsers(commands)
    eval_command.add_parser(commands)
    return root


def _management_parsers(commands: Any) -> None:
    """`tenant create|list` and `apikey create|list|revoke` (each is an entry of MANAGEMENT)."""
    tenant = commands.add_parser("tenant", help="manage tenants (OpsBee organizations)")
    tenant_actions = tenant.add_subparsers(dest="action", required=True)
    tenant_actions.add_parser("create", help="add a tenant and print its id").add_argument("name")
    tenant_actions.add_parser("list", help="every tenant with its number of keys")
    apikey = commands.add_parser("apikey", help="manage API keys")
    apikey_actions = apikey.add_subparsers(dest="action", required=True)
    create = apikey_actions.add_parser("create", help="print a new key (of the default tenant unless --tenant)")
    create.add_argument("--tenant", metavar="ID", help="the tenant the key belongs to")
    listed = apikey_actions.add_parser("list", help="the keys' hints (never the keys) and tenants")
    listed.add_argument("--tenant", metavar="ID", help="only this tenant's keys")
    revoke = apikey_actions.add_parser("revoke", help="delete a key")
    revoke.add_argument("key", help="the key, or its hint as `nectar apikey list` shows it")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:  # a configuration mistake: say which variable, no traceback
        sys.exit(f"nectar: {exc}")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command in client_commands.COMMANDS:  # their own exit codes (client/commands.py)
        sys.exit(client_commands.run(args, settings))
    if args.command == eval_command.COMMAND:  # `nectar eval`: its own exit codes (client/evaluation.py)
        sys.exit(eval_command.run(args, settings))
    if args.command == "serve":
        settings = replace(
            settings,
            host=args.host or settings.host,
            port=args.port or settings.port,
            inline_worker=settings.inline_worker and not args.no_worker,
        )
        run = _serve(settings)
    elif args.command in ("tenant", "apikey"):
        run = MANAGEMENT[args.command, args.action](settings, args)
    else:
        run = {"worker": _worker, "migrate": _migrate}[args.command](settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run)
    sys.exit(0)
