"""The newcomer path: `nectar serve` with no DATABASE_URL starts the embedded PostgreSQL, and Ctrl-C stops it all."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path

import psutil

from tests.clients.conftest import start_server, stop_server


def _get(url: str, key: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        body: dict[str, object] = json.loads(reply.read())
        return body


def _postgres_for(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_embedded_serve_prints_key_location_and_stops_cleanly() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="nectar-serve-"))
    data_dir.chmod(0o755)
    process, base_url = start_server({"DATABASE_URL": "", "NECTAR_DATA_DIR": str(data_dir), "NECTAR_API_KEY": ""})
    try:
        key = (data_dir / "api_key").read_text().strip()
        assert key.startswith("nectar-") and oct((data_dir / "api_key").stat().st_mode)[-3:] == "600"
        assert _get(base_url + "/api/v1/datasets", key)["code"] == 0
        health = _get(base_url + "/api/v1/system/healthz", key)
        assert health == {"db": "ok", "pgvector": "ok", "queue": "ok", "embedder": "ok", "status": "ok"}
        assert _postgres_for(data_dir), "embedded PostgreSQL should run under the data dir"
    finally:
        output = stop_server(process)
    assert process.returncode == 0, output
    assert f"API key: in {data_dir / 'api_key'}" in output and "Organization (tenant) id:" in output
    assert not _postgres_for(data_dir), "Ctrl-C must stop the embedded PostgreSQL too"


def test_seeded_key_is_valid(database_url: str) -> None:
    process, base_url = start_server(
        {"DATABASE_URL": database_url, "NECTAR_API_KEY": "seeded-key-123", "NECTAR_DATA_DIR": tempfile.mkdtemp()}
    )
    try:
        assert _get(base_url + "/api/v1/datasets", "seeded-key-123")["code"] == 0
    finally:
        output = stop_server(process)
    assert "API key: the one in NECTAR_API_KEY" in output
