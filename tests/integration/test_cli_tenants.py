"""`nectar tenant create|list` and `nectar apikey create --tenant|list|revoke`: the real CLI, in its own process,
against the session's test database; what it makes is then used through HTTP (the app on the same database)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from service.domain.tenants import add_api_key, create_tenant
from service.runtime import Runtime
from tests.conftest import Caller

ROOT = Path(__file__).resolve().parents[2]


async def nectar(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`nectar <args>`, run the way an operator runs it (settings from the environment only)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NECTAR_")}
    env |= {"DATABASE_URL": database_url, "NECTAR_DATA_DIR": tempfile.mkdtemp(), "NECTAR_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "service", *args]
    return await asyncio.to_thread(subprocess.run, command, env=env, cwd=ROOT, capture_output=True, text=True)


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout.strip().splitlines()[-1]


async def organization_status(client: httpx.AsyncClient, tenant_id: str, key: str) -> int:
    """What the key may see of that organization: 200 its own, 404 another's, 401 no such key."""
    headers = {"Authorization": f"Bearer {key}"}
    return (await client.get(f"/opsbee-llm/organizations/{tenant_id}/deployments", headers=headers)).status_code


async def test_a_second_tenant_with_its_own_keys(client: httpx.AsyncClient, database_url: str, caller: Caller) -> None:
    tenant_id = last_line(await nectar(database_url, "tenant", "create", "Acme Bees"))
    first, second = await asyncio.gather(
        nectar(database_url, "apikey", "create", "--tenant", tenant_id),
        nectar(database_url, "apikey", "create", "--tenant", tenant_id),
    )
    assert first.stdout.startswith(f"Organization (tenant) id: {tenant_id} ")
    kept, revoked = last_line(first), last_line(second)
    assert await organization_status(client, tenant_id, kept) == 200
    assert await organization_status(client, caller.tenant_id, kept) == 404  # another tenant's organization
    assert await organization_status(client, tenant_id, caller.key) == 404

    done = await nectar(database_url, "apikey", "revoke", revoked[:12] + "…")  # the hint, as listed
    assert last_line(done) == "Running servers stop accepting it within 30 s."
    assert done.stdout.startswith(f"Revoked the key {revoked[:12]}… of tenant {tenant_id}.")
    assert await organization_status(client, tenant_id, revoked) == 401
    assert await organization_status(client, tenant_id, kept) == 200

    tenants, keys = await asyncio.gather(
        nectar(database_url, "tenant", "list"), nectar(database_url, "apikey", "list", "--tenant", tenant_id)
    )
    rows = [line.split("\t") for line in tenants.stdout.splitlines()]
    assert rows[0] == ["id", "keys", "created_at", "name"]
    [acme] = [row for row in rows if row[0] == tenant_id]
    assert (acme[1], acme[3]) == ("1", "Acme Bees")
    assert [line.split("\t")[:2] for line in keys.stdout.splitlines()[1:]] == [[f"{kept[:12]}…", tenant_id]]
    assert kept not in keys.stdout + tenants.stdout  # hints only: a key is shown once, when made


async def test_mistakes_exit_non_zero_with_a_message(database_url: str, runtime: Runtime) -> None:
    async with runtime.sessions() as db:  # two keys sharing a hint (given keys, as NECTAR_API_KEY seeds them)
        tenant = await create_tenant(db, "twins")
        for key in ("shared-hint-one", "shared-hint-two"):
            await add_api_key(db, tenant.id, key)
        await db.commit()
    unknown_tenant, unknown_key, ambiguous, no_name = await asyncio.gather(
        nectar(database_url, "apikey", "create", "--tenant", "0" * 32),
        nectar(database_url, "apikey", "revoke", "nectar-nope"),
        nectar(database_url, "apikey", "revoke", "shared-hint-"),
        nectar(database_url, "tenant", "create", " "),
    )
    expected = [
        (unknown_tenant, f"nectar: tenant {'0' * 32} not found (`nectar tenant list` shows them)"),
        (unknown_key, "nectar: no API key is that key or has that hint (`nectar apikey list` shows the hints)"),
        (ambiguous, f"nectar: 2 keys have the hint 'shared-hint-' (tenants {tenant.id}): give the whole key"),
        (no_name, "nectar: `name` is required and must be a non-empty string"),
    ]
    for done, message in expected:
        assert (done.returncode, done.stderr.strip(), done.stdout) == (1, message, "")
    assert last_line(await nectar(database_url, "apikey", "revoke", "shared-hint-two")).startswith("Running servers")
