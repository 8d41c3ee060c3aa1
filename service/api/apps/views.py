"""JSON of the apps face: apps, their configs, publish history, debug messages, pages. Times are unix seconds."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.api.apps.schemas import PageRequest
from service.domain.apps import config_id
from service.domain.assistants import AssistantConfig

if TYPE_CHECKING:
    from service.db.models import Assistant, Message, PublishedConfig

DRAFTED, PUBLISHED = "drafted", "published"  # the seed's field description (its example says `draft`)


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def config_fields(stored: dict[str, Any]) -> dict[str, Any]:
    config = AssistantConfig.load(stored)
    return {
        "model_config": {"dialog_round": config.dialog_round, "llm_id": config.llm_id},
        "memory_mode": config.memory_mode,
    }


def drafted_json(app: Assistant) -> dict[str, Any] | None:
    if app.draft_config is None:
        return None
    created, updated = seconds(app.created_at), seconds(app.updated_at)
    fields = config_fields(app.draft_config)
    return {"id": config_id(app, "draft"), **fields, "status": DRAFTED, "updated_at": updated, "created_at": created}


def published_json(app: Assistant, latest: PublishedConfig | None) -> dict[str, Any] | None:
    """The live config; its id is the history entry that published it (a stable stand-in for one published
    by another face, which keeps no history)."""
    if app.published_config is None:
        return None
    entry_id = latest.id if latest else config_id(app, "published")
    created = seconds(latest.created_at if latest else app.created_at)
    fields = config_fields(app.published_config)
    updated = seconds(app.updated_at)
    return {"id": entry_id, **fields, "status": PUBLISHED, "updated_at": updated, "created_at": created}


def app_json(app: Assistant, latest: PublishedConfig | None) -> dict[str, Any]:
    drafted, published = drafted_json(app), published_json(app, latest)
    return {
        "id": app.id,
        "name": app.name,
        "icon": app.icon,
        "description": app.description,
        "status": PUBLISHED if published else "draft",
        "published_app_config_id": published["id"] if published else None,
        "drafted_app_config_id": drafted["id"] if drafted else None,
        "debug_conversation_id": app.debug_session_id,
        "published_app_config": published,
        "drafted_app_config": drafted,
        "updated_at": seconds(app.updated_at),
        "created_at": seconds(app.created_at),
    }


def history_json(entry: PublishedConfig) -> dict[str, Any]:
    config = config_fields(entry.config)
    return {"id": entry.id, "version": entry.version, **config, "created_at": seconds(entry.created_at)}


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.session_id,
        "query": message.input,
        "answer": message.output,
        "answer_tokens": message.completion_tokens,
        "response_latency": round(message.latency_ms, 1),
        "status": message.status,
        "updated_at": seconds(message.updated_at),
        "created_at": seconds(message.created_at),
    }


def paginated(items: list[dict[str, Any]], total: int, page: PageRequest) -> dict[str, Any]:
    paginator = {
        "current_page": page.number,
        "page_size": page.size,
        "total_page": math.ceil(total / page.size),
        "total_record": total,
    }
    return {"list": items, "paginator": paginator}
