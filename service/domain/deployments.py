"""OpsBee deployments: an assistant seen as a deployment of type `chat` or `qa` (its `kind`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant
from service.domain import assistants
from service.domain.names import description
from service.domain.pages import Page
from service.errors import Invalid, NotFound

KINDS = ("chat", "qa")


def deployment_kind(value: Any) -> str:
    if value not in KINDS:
        raise Invalid(f"`type` must be one of {', '.join(KINDS)}")
    return str(value)


async def create_deployment(db: AsyncSession, tenant_id: str, body: dict[str, Any], llm_id: str) -> Assistant:
    """An assistant with no datasets, published at birth with the default LLM."""
    kind = deployment_kind(body.get("type"))
    config = assistants.AssistantConfig(llm_id=llm_id)
    text = description(body.get("description"))
    return await assistants.create_assistant(db, tenant_id, body.get("name") or "", config, kind=kind, description=text)


async def get_deployment(db: AsyncSession, tenant_id: str, deployment_id: str) -> Assistant:
    assistant = await db.scalar(
        select(Assistant).where(Assistant.id == deployment_id, Assistant.tenant_id == tenant_id)
    )
    if assistant is None:
        raise NotFound(f"deployment {deployment_id} not found")
    return assistant


async def require_kind(db: AsyncSession, tenant_id: str, deployment_id: str, kind: str) -> Assistant:
    """The deployment, which must be of `kind` (chat histories live in chat deployments, QA in QA ones)."""
    assistant = await get_deployment(db, tenant_id, deployment_id)
    if assistant.kind != kind:
        raise Invalid(f"deployment {deployment_id} is of type {assistant.kind!r}; this call needs {kind!r}")
    return assistant


async def list_deployments(
    db: AsyncSession, tenant_id: str, page: Page
) -> tuple[list[Assistant], dict[str, int], bool]:
    """A page of deployments, their history counts, and whether more follow (one row past the page tells,
    so this list needs no count)."""
    query = (
        select(Assistant)
        .where(Assistant.tenant_id == tenant_id)
        .order_by(Assistant.created_at.desc(), Assistant.id.desc())
        .offset(page.offset)
        .limit(page.limit + 1)
    )
    rows = list(await db.scalars(query))
    shown = rows[: page.limit]
    return shown, await assistants.message_counts(db, [row.id for row in shown]), len(rows) > page.limit


async def history_count(db: AsyncSession, assistant: Assistant) -> int:
    return (await assistants.message_counts(db, [assistant.id])).get(assistant.id, 0)


async def update_deployment(db: AsyncSession, assistant: Assistant, body: dict[str, Any]) -> Assistant:
    """PATCH {name, description}; a missing or null field is unchanged (`type` cannot change)."""
    info: dict[str, Any] = {}
    if body.get("name") is not None:
        info["name"] = body["name"]
    if body.get("description") is not None:
        info["description"] = description(body["description"])
    return await assistants.update_info(db, assistant, info)


async def delete_deployment(db: AsyncSession, assistant: Assistant) -> None:
    """Threads, histories, their tags and metadata go with it."""
    await assistants.delete_assistants(db, assistant.tenant_id, [assistant.id], delete_all=False)
