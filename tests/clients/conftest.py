"""A real `nectar serve` process on a loopback port, against a fresh database of the test server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.upstream import UpstreamProcess

ROOT = Path(__file__).resolve().parents[2]
CLIENT_VENVS = ROOT / ".venv-clients"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nectar serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/api/v1/system/healthz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("nectar serve did not become healthy")


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full_env = {**os.environ, **env, "NECTAR_PORT": str(port), "NECTAR_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_healthy(base_url, process)
    return process, base_url


def stop_server(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


@pytest.fixture(scope="session")
def live_server(database_url: str, upstream: UpstreamProcess) -> Iterator[tuple[str, str]]:
    """(base_url, api_key) of a server process sharing the session's test database; LLMs `<model>@echo`."""
    key = "nectar-client-tests-key"
    process, base_url = start_server(
        {
            "DATABASE_URL": database_url,
            "NECTAR_API_KEY": key,
            "NECTAR_DATA_DIR": tempfile.mkdtemp(),
            "NECTAR_LLM_PROVIDERS": json.dumps({"echo": {"base_url": upstream.base_url}}),
            "NECTAR_LLM_TIMEOUT": "5",
        }
    )
    yield base_url, key
    stop_server(process)


def client_python(name: str) -> Path:
    python = CLIENT_VENVS / name / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"{python} is missing: run `make clients` (make test does it)")
    return python
