"""A parsed dataset about bees, agents made from DSLs, and runs collected as events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.db.models import Message
from service.domain.agents import store
from service.domain.agents.engine import Event
from service.domain.agents.runs import AgentRunner, AgentTurn, Finished
from service.runtime import Runtime
from tests.api.ragflow.agent_helpers import bees_dataset
from tests.conftest import Caller

OFFLINE = "nectar-extractive@Builtin"


@pytest.fixture
async def bees(client: httpx.AsyncClient, caller: Caller) -> str:
    return await bees_dataset(client, caller)


async def new_agent(runtime: Runtime, caller: Caller, dsl: dict[str, Any], title: str = "bees agent") -> str:
    async with runtime.sessions() as db:
        agent = await store.create_agent(db, caller.tenant_id, title, dsl, OFFLINE)
        await db.commit()
    return agent.id


@dataclass
class Outcome:
    events: list[Event]
    finished: Finished

    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def text(self) -> str:
        return "".join(event.data["content"] for event in self.events if event.name == "message")


def runner(runtime: Runtime) -> AgentRunner:
    return AgentRunner.of(runtime.answerer(), OFFLINE)


def turn(caller: Caller, agent_id: str, dsl: dict[str, Any], query: str, **fields: Any) -> AgentTurn:
    return AgentTurn(caller.tenant_id, agent_id, dsl, query, "test", **fields)


async def run(agent_runner: AgentRunner, agent_turn: AgentTurn) -> Outcome:
    events, finished = await agent_runner.complete(agent_turn)
    return Outcome(events, finished)


async def rows(runtime: Runtime, agent_id: str) -> list[Message]:
    async with runtime.sessions() as db:
        return list(await db.scalars(select(Message).where(Message.assistant_id == agent_id)))
