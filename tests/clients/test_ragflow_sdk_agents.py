"""ragflow-sdk 0.27.3's Agent API, unchanged, against a live Nectar: RAGFlow's starter template and a KB Q&A DSL."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from tests.clients.conftest import client_python
from tests.domain.agents.dsls import component, kb_qa, starter

SCENARIO = Path(__file__).with_name("ragflow_agent_scenario.py")


def test_ragflow_sdk_agents_end_to_end(live_server: tuple[str, str]) -> None:
    base_url, key = live_server
    unknown = kb_qa([])
    unknown["components"]["Iteration:Each"] = component("Iteration", {}, [], [])
    dsls = {"starter": starter(["__KB__"]), "kb_qa": kb_qa(["__KB__"]), "unknown": unknown}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(dsls, file)
    result = subprocess.run(
        [str(client_python("ragflow-sdk-0.27.3")), str(SCENARIO), base_url, key, file.name],
        capture_output=True,
        text=True,
        timeout=300,
    )
    Path(file.name).unlink()

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["streamed_pieces"] > 3
    assert "[ID:0]" in report["answer"] and "evaporation" in report["kb_qa"]
    assert report["refused"].startswith("Unsupported component type `Iteration` (component `Iteration:Each`)")
