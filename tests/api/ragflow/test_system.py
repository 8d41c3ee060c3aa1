"""RAGFlow's /system routes (its restful test_system.py): ping, version, and status behind the key."""

from __future__ import annotations

import httpx

from tests.conftest import Caller


async def test_ping_answers_pong_without_a_key(client: httpx.AsyncClient) -> None:
    reply = await client.get("/api/v1/system/ping")
    assert (reply.status_code, reply.text) == (200, "pong")


async def test_version_names_nectar(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/system/version")).json()
    assert body["code"] == 0 and body["data"].startswith("nectar-")


async def test_status_needs_the_key_and_reports_postgresql(client: httpx.AsyncClient, caller: Caller) -> None:
    refused = await client.get("/api/v1/system/status")
    assert refused.status_code == 401 and refused.json()["code"] == 401
    assert "Unauthorized" in refused.json()["message"]
    data = (await client.get("/api/v1/system/status", headers=caller.headers)).json()["data"]
    assert data["doc_engine"]["type"] == data["database"]["database"] == "postgresql"
    assert all(data[part]["status"] == "green" for part in ("doc_engine", "storage", "database", "queue"))
    assert float(data["database"]["elapsed"]) >= 0
