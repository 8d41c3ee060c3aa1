"""The `nectar` command: serve | worker | migrate | apikey create."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from dataclasses import replace

from service.settings import Settings, SettingsError, get_settings

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
    key_file = settings.data_dir / "api_key"
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

    runtime = await build_runtime(settings, worker=False)
    try:
        await run_worker(runtime)
    finally:
        await runtime.close()


async def _apikey_create(settings: Settings) -> None:
    from service.domain.tenants import add_api_key, ensure_default_tenant
    from service.runtime import build_runtime

    runtime = await build_runtime(settings, worker=False, warm=False)
    try:
        async with runtime.sessions() as db:
            tenant, _ = await ensure_default_tenant(db, None)
            key = await add_api_key(db, tenant.id)
            await db.commit()
        print(f"Organization (tenant) id: {tenant.id} (OpsBee's organization_id; `me` works too)")
        print(key)
    finally:
        await runtime.close()


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
    apikey = commands.add_parser("apikey", help="manage API keys")
    apikey.add_argument("action", choices=["create"])
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:  # a configuration mistake: say which variable, no traceback
        sys.exit(f"nectar: {exc}")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        settings = replace(
            settings,
            host=args.host or settings.host,
            port=args.port or settings.port,
            inline_worker=settings.inline_worker and not args.no_worker,
        )
        run = _serve(settings)
    else:
        run = {"worker": _worker, "migrate": _migrate, "apikey": _apikey_create}[args.command](settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run)
    sys.exit(0)
