"""ragflow-sdk, unchanged, against a live Nectar: the current release and the newest one for Python 3.11."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import client_python

SCENARIO = Path(__file__).with_name("ragflow_scenario.py")


@pytest.mark.parametrize("sdk", ["ragflow-sdk-0.27.3", "ragflow-sdk-0.22.1"])
def test_ragflow_sdk_end_to_end(sdk: str, live_server: tuple[str, str]) -> None:
    base_url, key = live_server
    result = subprocess.run(
        [str(client_python(sdk)), str(SCENARIO), base_url, key], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["chunks_seen"] >= 1 and report["chat_answers"] == 2
