"""One PostgreSQL per test session (embedded, or $TEST_DATABASE_URL), migrated once; a fresh tenant per test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest

from service.app import create_app
from service.db.embedded import EmbeddedPostgres
from service.db.engine import asyncpg_dsn
from service.domain.tenants import add_api_key, create_tenant
from service.runtime import Runtime, build_runtime
from service.settings import LLMProvider, Settings
from tests.support.upstream import UpstreamProcess

# The ASGI app type httpx.ASGITransport declares (plain mappings for scope and messages). Litestar's __call__ is the
# same ASGI 3 callable but typed with its own scope/event TypedDict unions, which mypy will not accept in its place.
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


# One ONNX export (~10 s) per test session, shared by the in-process runtime and every server a test starts.
os.environ.setdefault("NECTAR_MODEL_DIR", tempfile.mkdtemp(prefix="nectar-models-"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The server every test database lives on."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given.replace("postgresql://", "postgresql+asyncpg://", 1)
        return
    folder = Path(tempfile.mkdtemp(prefix="nectar-test-"))
    folder.chmod(0o755)
    embedded = EmbeddedPostgres(folder)
    url = embedded.start()
    yield url
    embedded.stop()


async def create_database(server_url: str) -> str:
    """A new empty database on the test server; returns its SQLAlchemy URL."""
    name = f"nectar_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    head, _, query = server_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> str:
    return await create_database(server_url)


@pytest.fixture(scope="session")
def upstream() -> Iterator[UpstreamProcess]:
    """The fake OpenAI-compatible LLM server (tests/support/upstream.py), one process per test session."""
    with UpstreamProcess() as process:
        yield process


ECHO_PROVIDER = "echo"  # assistants in tests reach the echo upstream as `<model>@echo`, e.g. `echo@echo`


@pytest.fixture(scope="session")
async def runtime(database_url: str, upstream: UpstreamProcess) -> AsyncIterator[Runtime]:
    settings = Settings(
        database_url=database_url,
        data_dir=Path(tempfile.mkdtemp()),
        model_dir=Path(os.environ["NECTAR_MODEL_DIR"]),
        max_upload_bytes=2_000_000,
        llm_providers={ECHO_PROVIDER: LLMProvider(upstream.base_url)},
        llm_timeout=5,
    )
    runtime = await build_runtime(settings, worker=True)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the real Litestar app, in the test's own event loop (the runtime's engine lives there)."""
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(runtime=runtime)))
    async with httpx.AsyncClient(transport=transport, base_url="http://nectar.test", timeout=60) as test_client:
        yield test_client


@dataclass
class Caller:
    tenant_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def new_caller(runtime: Runtime) -> Caller:
    async with runtime.sessions() as db:
        tenant = await create_tenant(db, "test")
        key = await add_api_key(db, tenant.id)
        await db.commit()
    return Caller(tenant.id, key)


@pytest.fixture
async def caller(runtime: Runtime) -> Caller:
    return await new_caller(runtime)


@pytest.fixture
async def other_caller(runtime: Runtime) -> Caller:
    return await new_caller(runtime)
