"""Agents and their sessions. An agent is an Assistant (what sessions and messages point at)
with an `AgentCanvas` holding its DSL; a session is a ChatSession of that assistant."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgentCanvas, Assistant, ChatSession, Dataset, utcnow
from service.domain import conversations
from service.domain.agents.agent_tools import Agent
from service.domain.agents.components import Retrieval
from service.domain.agents.dsl import Canvas, load
from service.domain.agents.refs import REFERENCE
from service.domain.assistants import DEFAULT_PROMPT_CONFIG, AssistantConfig
from service.domain.batches import Batch
from service.domain.matching import contains
from service.domain.pages import Page, paged
from service.errors import Conflict, Forbidden, Invalid, NotFound

# An agent is a chat deployment to the other faces (OpsBee lists and searches its turns as chat histories);
# what makes it an agent is its AgentCanvas row.
KIND = "chat"


@dataclass
class AgentRow:
    assistant: Assistant
    canvas: AgentCanvas

    @property
    def id(self) -> str:
        return self.assistant.id


@dataclass
class AgentQuery:
    page: Page = field(default_factory=Page)
    orderby: str = "create_time"
    desc: bool = True
    id: str | None = None
    title: str | None = None
    keywords: str | None = None


def dataset_ids(canvas: Canvas) -> list[str]:
    """The datasets a canvas names outright (a `kb_ids` entry that is a reference is only known at run time)."""
    found: list[str] = []
    for component in canvas.components.values():
        if isinstance(component, Retrieval):
            found += component.params["kb_ids"]
        elif isinstance(component, Agent):
            found += [kb_id for params in component.tools().values() for kb_id in params["kb_ids"]]
    return [kb_id for kb_id in dict.fromkeys(found) if not REFERENCE.search(kb_id)]


async def checked_canvas(db: AsyncSession, tenant_id: str, dsl: Any) -> Canvas:
    """The DSL's canvas, once every dataset it names is one of the tenant's."""
    canvas = load(dsl)
    wanted = dataset_ids(canvas)
    if wanted:
        owned = set(await db.scalars(select(Dataset.id).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(wanted))))
        for dataset_id in wanted:
            if dataset_id not in owned:
                raise NotFound(f"You don't own the dataset {dataset_id}")
    return canvas


def shown_config(canvas: Canvas, default_llm: str) -> dict[str, Any]:
    """What the other faces (OpsBee deployments, apps) read of an agent: its prologue and datasets."""
    prompt = copy.deepcopy(DEFAULT_PROMPT_CONFIG) | {"prologue": canvas.begin.params.get("prologue") or ""}
    return AssistantConfig(llm_id=default_llm, dataset_ids=dataset_ids(canvas), prompt_config=prompt).dump()


def checked_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise Invalid("No title in request." if title is None else "`title` should be a non-empty string.")
    stripped: str = title.strip()
    if len(stripped.encode()) > 255:
        raise Invalid(f"Agent title length is {len(stripped.encode())} which is larger than 255.")
    return stripped


async def check_unique(db: AsyncSession, tenant_id: str, title: str, exclude_id: str | None = None) -> None:
    query = select(Assistant.id).join(AgentCanvas, AgentCanvas.assistant_id == Assistant.id)
    query = query.where(Assistant.tenant_id == tenant_id, Assistant.name == title)
    if exclude_id:
        query = query.where(Assistant.id != exclude_id)
    if await db.scalar(query.limit(1)):
        raise Conflict(f"{title} already exists.")


async def create_agent(
    db: AsyncSession, tenant_id: str, title: Any, dsl: Any, default_llm: str, **info: str
) -> AgentRow:
    """`info`: description, icon (RAGFlow's avatar), canvas_type."""
    if dsl is None:
        raise Invalid("No DSL data in request.")
    title = checked_title(title)
    canvas = await checked_canvas(db, tenant_id, dsl)
    await check_unique(db, tenant_id, title)
    assistant = Assistant(
        tenant_id=tenant_id,
        name=title,
        kind=KIND,
        description=info.get("description", ""),
        icon=info.get("icon", ""),
        published_config=shown_config(canvas, default_llm),
    )
    db.add(assistant)
    await db.flush()
    row = AgentCanvas(assistant_id=assistant.id, tenant_id=tenant_id, dsl=dsl, canvas_type=info.get("canvas_type", ""))
    db.add(row)
    await db.flush()
    await db.refresh(assistant)
    await db.refresh(row)
    return AgentRow(assistant, row)


async def get_agent(db: AsyncSession, tenant_id: str, agent_id: str) -> AgentRow:
    found = (
        await db.execute(
            select(Assistant, AgentCanvas)
            .join(AgentCanvas, AgentCanvas.assistant_id == Assistant.id)
            .where(Assistant.id == agent_id, Assistant.tenant_id == tenant_id)
        )
    ).first()
    if found is None:
        raise NotFound(f"You don't own the agent {agent_id}")
    return AgentRow(found[0], found[1])


async def list_agents(db: AsyncSession, tenant_id: str, spec: AgentQuery) -> tuple[list[AgentRow], int]:
    column = Assistant.updated_at if spec.orderby == "update_time" else Assistant.created_at
    query = select(Assistant).join(AgentCanvas, AgentCanvas.assistant_id == Assistant.id)
    query = query.where(Assistant.tenant_id == tenant_id)
    for wanted, matched in ((spec.id, Assistant.id), (spec.title, Assistant.name)):
        if wanted:
            query = query.where(matched == wanted)
    if spec.keywords:
        query = query.where(contains(Assistant.name, spec.keywords))
    rows, total = await paged(db, query.order_by(column.desc() if spec.desc else column.asc(), Assistant.id), spec.page)
    canvases = {
        row.assistant_id: row
        for row in await db.scalars(select(AgentCanvas).where(AgentCanvas.assistant_id.in_([a.id for a in rows])))
    }
    return [AgentRow(assistant, canvases[assistant.id]) for assistant in rows], total


async def update_agent(
    db: AsyncSession, agent: AgentRow, default_llm: str, title: Any = None, dsl: Any = None, **info: str
) -> AgentRow:
    """Only what is given changes (RAGFlow: None means "keep")."""
    assistant = agent.assistant
    if title is not None:
        assistant.name = checked_title(title)
        await check_unique(db, assistant.tenant_id, assistant.name, exclude_id=assistant.id)
    if dsl is not None:
        canvas = await checked_canvas(db, assistant.tenant_id, dsl)
        agent.canvas.dsl = dsl
        assistant.published_config = shown_config(canvas, default_llm)
    if "canvas_type" in info:
        agent.canvas.canvas_type = info.pop("canvas_type")
    for key, value in info.items():
        setattr(assistant, key, value)
    assistant.updated_at = utcnow()
    await db.flush()
    await db.refresh(assistant)
    await db.refresh(agent.canvas)
    return agent


async def delete_agent(db: AsyncSession, agent: AgentRow) -> None:
    """Its canvas, sessions and recorded turns go with it (foreign keys cascade)."""
    await db.execute(delete(Assistant).where(Assistant.id == agent.id))


async def create_session(db: AsyncSession, agent: AgentRow, name: str, user_id: str) -> ChatSession:
    return await conversations.create_session(db, agent.assistant, name, user_id)


async def session_of(db: AsyncSession, agent: AgentRow, session_id: str) -> ChatSession:
    """The agent's session; another agent's is refused as RAGFlow does (not found for another tenant's)."""
    session = await db.scalar(
        select(ChatSession).where(ChatSession.id == session_id, ChatSession.tenant_id == agent.assistant.tenant_id)
    )
    if session is None:
        raise NotFound("Session not found!")
    if session.assistant_id != agent.id:
        raise Forbidden("Session does not belong to the requested agent.")
    return session


async def delete_sessions(db: AsyncSession, agent: AgentRow, ids: list[str], delete_all: bool) -> Batch:
    """As a chat's, in the agent's words: `The agent doesn't own the session <id>`."""
    batch = await conversations.delete_sessions(db, agent.assistant, ids, delete_all)
    refusals = [f"The agent doesn't own the session {session_id}" for session_id in batch.missing]
    return Batch(batch.done, batch.missing, refusals + batch.errors[len(batch.missing) :])
