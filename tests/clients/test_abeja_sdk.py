"""abeja-sdk 2.3.6 (`abeja.opsbeellm`), unchanged, against a live Nectar: deployments, threads, histories,
metadata and tags through the SDK's own clients, configured the way users do (ABEJA_API_URL, PLATFORM_AUTH_TOKEN)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import asyncpg

from service.db.engine import asyncpg_dsn
from service.domain.tenants import hash_key
from tests.clients.conftest import client_python

SCENARIO = Path(__file__).with_name("abeja_scenario.py")
SDK = "abeja-sdk-2.3.6"


async def tenant_of(database_url: str, key: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return str(await connection.fetchval("SELECT tenant_id FROM api_keys WHERE key_hash = $1", hash_key(key)))
    finally:
        await connection.close()


async def test_abeja_sdk_end_to_end(live_server: tuple[str, str], database_url: str) -> None:
    base_url, key = live_server
    env = {**os.environ, "ABEJA_API_URL": base_url, "PLATFORM_AUTH_TOKEN": key}
    for name in ("ABEJA_PLATFORM_USER_ID", "ABEJA_PLATFORM_PERSONAL_ACCESS_TOKEN", "ABEJA_SDK_CONNECTION_TIMEOUT"):
        env.pop(name, None)
    result = subprocess.run(
        [str(client_python(SDK)), str(SCENARIO)], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["sdk"] == "2.3.6"
    assert report["organization_id"] == await tenant_of(database_url, key)
    assert (report["chat_histories"], report["qa_histories"], report["history_counts"]) == (1, 0, [1, 0])
