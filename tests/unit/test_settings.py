"""A bad NECTAR_* value stops the process with a message that names the variable and the value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]

BAD_VALUES = [
    ("NECTAR_PORT", "x"),
    ("NECTAR_PORT", "70000"),
    ("NECTAR_EMBED_BATCH_SIZE", "1.5"),
    ("NECTAR_EMBED_BATCH_SIZE", "0"),
    ("NECTAR_EMBED_PARALLEL", "all"),
    ("NECTAR_MAX_UPLOAD_BYTES", "10MB"),
    ("NECTAR_WORKER_CONCURRENCY", "eight"),
    ("NECTAR_INLINE_WORKER", "maybe"),
    ("NECTAR_LLM_TIMEOUT", "soon"),
    ("NECTAR_LLM_TIMEOUT", "0"),
    ("NECTAR_LOG_LEVEL", "loud"),
    ("NECTAR_LLM_PROVIDERS", "[1]"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_bad_value_is_named_with_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert name in str(raised.value)
    if name != "NECTAR_LLM_PROVIDERS":
        assert repr(value) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("false", False), ("False", False)],
)
def test_yes_no_values(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("NECTAR_INLINE_WORKER", value)
    assert Settings.from_env().inline_worker is expected


def test_good_and_empty_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NECTAR_PORT", " 8080 ")
    monkeypatch.setenv("NECTAR_LLM_TIMEOUT", "2.5")
    monkeypatch.setenv("NECTAR_LOG_LEVEL", "warning")
    monkeypatch.setenv("NECTAR_WORKER_CONCURRENCY", "")  # compose files write `NAME=` for "not set"
    settings = Settings.from_env()
    assert (settings.port, settings.llm_timeout, settings.log_level) == (8080, 2.5, "WARNING")
    assert settings.worker_concurrency == Settings().worker_concurrency


def test_the_cli_reports_a_bad_setting_without_a_traceback() -> None:
    env = {**os.environ, "NECTAR_PORT": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "service", "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "NECTAR_PORT='x'" in done.stderr
    assert "Traceback" not in done.stderr
