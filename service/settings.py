"""Settings: the only module that reads the environment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2@Builtin"
DEFAULT_LLM = "nectar-extractive@Builtin"
# What runs the embedding model's forward pass: torch, or its ONNX Runtime graph (fp32 / int8), exported on first use.
EMBED_BACKENDS = ("torch", "onnx", "onnx-int8")
# int8, one text per forward pass, runs 2.9x torch's chunks/s at the same NFCorpus nDCG@10 (bench/RESULTS.md,
# embedding backends); its graph is exported once, on first start, into the model folder.
DEFAULT_EMBED_BACKEND = "onnx-int8"


@dataclass(frozen=True)
class LLMProvider:
    """An OpenAI-compatible upstream; its models are addressed as `<model>@<provider name>`."""

    base_url: str
    api_key: str = ""
    models: tuple[str, ...] = ()


class SettingsError(ValueError):
    """A variable's value cannot be used; the message names the variable and the value."""


def _providers(raw: str) -> dict[str, LLMProvider]:
    """NECTAR_LLM_PROVIDERS: `{"vllm": {"base_url": "http://gpu:8000/v1", "api_key": "...", "models": [...]}}`."""
    try:
        entries = json.loads(raw)
        return {
            name: LLMProvider(str(e["base_url"]), str(e.get("api_key", "")), tuple(e.get("models", ())))
            for name, e in entries.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SettingsError(
            f"NECTAR_LLM_PROVIDERS is not a JSON object of {{name: {{base_url, api_key}}}}: {exc}"
        ) from exc


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _given(name: str) -> str | None:
    """The variable's value, or None when unset or empty (compose files write `NAME=` for "not set")."""
    return os.environ.get(name, "").strip() or None


def _int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _given(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise SettingsError(f"{name}={raw!r} is out of range: it must be {bounds}")
    return value


def _float(name: str, default: float, minimum: float | None = None) -> float:
    raw = _given(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if minimum is not None and not value > minimum:  # `not >` also refuses nan
        raise SettingsError(f"{name}={raw!r} is out of range: it must be more than {minimum:g}")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _bool(name: str, default: bool) -> bool:
    raw = _given(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE + _FALSE:
        return raw.lower() in _TRUE
    raise SettingsError(f"{name}={raw!r} is not a yes/no value: use one of {', '.join(_TRUE + _FALSE)}")


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # the ones both logging and uvicorn know


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _given(name) or default
    if raw.lower() not in choices:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw.lower()


def _log_level(name: str, default: str) -> str:
    raw = _given(name) or default
    if raw.upper() not in _LOG_LEVELS:
        raise SettingsError(f"{name}={raw!r} is not a log level: use one of {', '.join(_LOG_LEVELS)}")
    return raw.upper()


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once from NECTAR_* variables (and DATABASE_URL)."""

    database_url: str | None = None
    data_dir: Path = Path(".nectar")
    host: str = "127.0.0.1"
    port: int = 9380
    api_key: str | None = None
    default_embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embed_batch_size: int = 64
    embed_parallel: int = 1
    embed_backend: str = DEFAULT_EMBED_BACKEND
    model_dir: Path | None = None  # where ONNX graphs are exported and kept; None: `<data_dir>/models`
    max_upload_bytes: int = 128 * 1024 * 1024
    # What one document may cost the worker (service/text/limits.py); over any of them the document FAILs.
    parse_max_expanded_bytes: int = 128 * 1024 * 1024  # office files: uncompressed size of their contents
    parse_max_paragraphs: int = 100_000
    parse_max_rows: int = 100_000  # table rows (CSV, spreadsheets, tables in .docx)
    parse_max_columns: int = 1_000  # cells in one row
    max_chunks_per_document: int = 20_000
    parse_timeout: float = 300.0  # seconds to parse and chunk one document
    inline_worker: bool = True
    worker_concurrency: int = 8
    worker_heartbeat_timeout: float = 10.0  # seconds without a heartbeat before a job goes to another worker
    worker_reconnect_timeout: float = 60.0  # seconds `nectar worker` waits for a lost database, then exits 1
    log_level: str = "INFO"
    llm_providers: dict[str, LLMProvider] = field(default_factory=dict)
    default_llm: str = DEFAULT_LLM
    llm_timeout: float = 60.0  # seconds for a whole LLM call, request to last word
    llm_first_token_timeout: float = 30.0  # seconds until the first piece of the answer (capped by llm_timeout)
    eval_judge_llm: str | None = None  # `<model>@<provider>` scoring the `llm_judge` metric of evaluation runs
    console: bool = True  # the web console at `/` (service/console)

    @property
    def models_folder(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=Path(_env("NECTAR_DATA_DIR", ".nectar")).resolve(),
            host=_env("NECTAR_HOST", "127.0.0.1"),
            port=_int("NECTAR_PORT", 9380, minimum=0, maximum=65535),
            api_key=os.environ.get("NECTAR_API_KEY") or None,
            default_embedding_model=_env("NECTAR_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL),
            embed_batch_size=_int("NECTAR_EMBED_BATCH_SIZE", 64, minimum=1),
            embed_parallel=_int("NECTAR_EMBED_PARALLEL", len(os.sched_getaffinity(0)), minimum=1),
            embed_backend=_choice("NECTAR_EMBED_BACKEND", DEFAULT_EMBED_BACKEND, EMBED_BACKENDS),
            model_dir=Path(os.environ["NECTAR_MODEL_DIR"]).resolve() if os.environ.get("NECTAR_MODEL_DIR") else None,
            max_upload_bytes=_int("NECTAR_MAX_UPLOAD_BYTES", 128 * 1024 * 1024, minimum=1),
            parse_max_expanded_bytes=_int("NECTAR_PARSE_MAX_EXPANDED_BYTES", 128 * 1024 * 1024, minimum=1),
            parse_max_paragraphs=_int("NECTAR_PARSE_MAX_PARAGRAPHS", 100_000, minimum=1),
            parse_max_rows=_int("NECTAR_PARSE_MAX_ROWS", 100_000, minimum=1),
            parse_max_columns=_int("NECTAR_PARSE_MAX_COLUMNS", 1_000, minimum=1),
            max_chunks_per_document=_int("NECTAR_MAX_CHUNKS_PER_DOCUMENT", 20_000, minimum=1),
            parse_timeout=_float("NECTAR_PARSE_TIMEOUT", 300.0, minimum=0),
            inline_worker=_bool("NECTAR_INLINE_WORKER", True),
            worker_concurrency=_int("NECTAR_WORKER_CONCURRENCY", 8, minimum=1),
            worker_heartbeat_timeout=_float("NECTAR_WORKER_HEARTBEAT_TIMEOUT", 10.0, minimum=0),
            worker_reconnect_timeout=_float("NECTAR_WORKER_RECONNECT_TIMEOUT", 60.0, minimum=0),
            log_level=_log_level("NECTAR_LOG_LEVEL", "INFO"),
            llm_providers=_providers(_env("NECTAR_LLM_PROVIDERS", "") or "{}"),
            default_llm=_env("NECTAR_DEFAULT_LLM", DEFAULT_LLM),
            llm_timeout=_float("NECTAR_LLM_TIMEOUT", 60.0, minimum=0),
            llm_first_token_timeout=_float("NECTAR_LLM_FIRST_TOKEN_TIMEOUT", 30.0, minimum=0),
            eval_judge_llm=_given("NECTAR_EVAL_JUDGE_LLM"),
            console=_bool("NECTAR_CONSOLE", True),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
