"""Settings: the only module that reads the environment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2@Builtin"
DEFAULT_LLM = "nectar-extractive@Builtin"


@dataclass(frozen=True)
class LLMProvider:
    """An OpenAI-compatible upstream; its models are addressed as `<model>@<provider name>`."""

    base_url: str
    api_key: str = ""
    models: tuple[str, ...] = ()


def _providers(raw: str) -> dict[str, LLMProvider]:
    """NECTAR_LLM_PROVIDERS: `{"vllm": {"base_url": "http://gpu:8000/v1", "api_key": "...", "models": [...]}}`."""
    try:
        entries = json.loads(raw)
        return {
            name: LLMProvider(str(e["base_url"]), str(e.get("api_key", "")), tuple(e.get("models", ())))
            for name, e in entries.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"NECTAR_LLM_PROVIDERS is not a JSON object of {{name: {{base_url, api_key}}}}: {exc}"
        ) from exc


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


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
    max_upload_bytes: int = 128 * 1024 * 1024
    inline_worker: bool = True
    worker_concurrency: int = 8
    log_level: str = "INFO"
    llm_providers: dict[str, LLMProvider] = field(default_factory=dict)
    default_llm: str = DEFAULT_LLM
    llm_timeout: float = 60.0

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=Path(_env("NECTAR_DATA_DIR", ".nectar")).resolve(),
            host=_env("NECTAR_HOST", "127.0.0.1"),
            port=int(_env("NECTAR_PORT", "9380")),
            api_key=os.environ.get("NECTAR_API_KEY") or None,
            default_embedding_model=_env("NECTAR_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL),
            embed_batch_size=int(_env("NECTAR_EMBED_BATCH_SIZE", "64")),
            embed_parallel=int(_env("NECTAR_EMBED_PARALLEL", str(len(os.sched_getaffinity(0))))),
            max_upload_bytes=int(_env("NECTAR_MAX_UPLOAD_BYTES", str(128 * 1024 * 1024))),
            inline_worker=_env("NECTAR_INLINE_WORKER", "1") not in ("0", "false", "no"),
            worker_concurrency=int(_env("NECTAR_WORKER_CONCURRENCY", "8")),
            log_level=_env("NECTAR_LOG_LEVEL", "INFO"),
            llm_providers=_providers(_env("NECTAR_LLM_PROVIDERS", "") or "{}"),
            default_llm=_env("NECTAR_DEFAULT_LLM", DEFAULT_LLM),
            llm_timeout=float(_env("NECTAR_LLM_TIMEOUT", "60")),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
