"""Request bodies and query strings of the apps face, validated into domain values (bad ones name their field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from service.api.body import BodyMessages
from service.domain import apps
from service.domain.apps import ConfigChanges, InvalidField
from service.domain.assistants import AssistantConfig
from service.domain.pages import Page

DEFAULT_PAGE_SIZE = 20
MAX_MESSAGES_PAGE = 20  # the seed: one page holds at most 20 debug messages; a larger page_size is clamped
MAX_HISTORY_PAGE = 50
INFO_LIMITS = {"name": 255, "icon": 65535, "description": 65535}


@dataclass
class NewApp:
    name: str
    info: dict[str, str]
    config: AssistantConfig


# Every body of this face is required: read with `json_object(request, BODY)`.
BODY = BodyMessages(
    empty="A JSON object body is required",
    malformed="The body is not valid JSON",
    not_object="The body must be a JSON object, not {kind}",
)


@dataclass(frozen=True)
class PageRequest:
    """The console's `current_page` (from 1) and `page_size`, which its paginator echoes."""

    number: int
    size: int

    @property
    def page(self) -> Page:
        return Page.numbered(self.number, self.size)


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(key, f"`{key}` must be an object")
    return value


def _llm_id(value: Any) -> str | None:
    if value is None:
        return None
    return apps.check_text("model_config.llm_id", value, 255)


def config_changes(body: dict[str, Any]) -> ConfigChanges:
    """`{"model_config": {"dialog_round": int ≥ 0, "llm_id"?: str}, "memory_mode": "long_term_memory"|"none"}`,
    every key optional; other keys are ignored (the course's later config keys)."""
    model = _object(body, "model_config")
    changes = ConfigChanges(llm_id=_llm_id(model.get("llm_id")))
    if "dialog_round" in model:
        changes.dialog_round = apps.check_dialog_round(model["dialog_round"])
    if "memory_mode" in body:
        changes.memory_mode = apps.check_memory_mode(body["memory_mode"])
    return changes


def new_app(body: dict[str, Any], default_llm: str) -> NewApp:
    name = apps.check_text("name", body.get("name"), INFO_LIMITS["name"]).strip()
    info: dict[str, str] = {}
    for key in ("icon", "description"):
        value = body.get(key, "")
        if not isinstance(value, str) or len(value) > INFO_LIMITS[key]:
            raise InvalidField(key, f"`{key}` must be a string of at most {INFO_LIMITS[key]} characters")
        info[key] = value
    changes = config_changes(body)
    config = AssistantConfig(llm_id=changes.llm_id or default_llm).merged(changes.as_dict())
    return NewApp(name, info, config)


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise InvalidField(key, f"`{key}` must be a boolean")
    return value


def _positive(request: Request[Any, Any, Any], key: str, default: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidField(key, f"`{key}` must be an integer") from None
    if value < 1:
        raise InvalidField(key, f"`{key}` must be at least 1")
    return value


def page_of(request: Request[Any, Any, Any], max_size: int) -> PageRequest:
    """`current_page` ≥ 1 (past the end: an empty page), `page_size` ≥ 1 (default 20, clamped to `max_size`)."""
    number = _positive(request, "current_page", 1)
    size = _positive(request, "page_size", DEFAULT_PAGE_SIZE)
    return PageRequest(number, min(size, max_size))
