"""One turn of an agent: the canvas run, recorded as one message of the agent's session.

Whatever happens (an answer, a component failing, the client going away) exactly one message row is
written, with the agent as its assistant, so history search, usage and the apps message list see agent turns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import new_id
from service.domain import conversations
from service.domain.agents import store
from service.domain.agents.base import Run, Services, Turn
from service.domain.agents.dsl import Canvas, load
from service.domain.agents.engine import Event, execute
from service.domain.agents.store import AgentRow
from service.domain.answering import Answerer
from service.errors import DomainError

HISTORY_TURNS = 20  # earlier turns a run can see; each LLM takes its own `message_history_window_size` of them


@dataclass
class AgentTurn:
    """What was asked of which agent, from which face."""

    tenant_id: str
    agent_id: str
    dsl: dict[str, Any]
    query: str
    channel: str
    session_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # {key: value} or RAGFlow's {key: {type, value}}
    user_id: str = ""
    history: list[tuple[str, str]] | None = None  # the client's own; None: the session's recorded turns
    message_id: str = field(default_factory=new_id)


@dataclass
class Finished:
    """The end of a turn: what it said and retrieved, and what it cost."""

    message_id: str
    session_id: str | None
    text: str
    reference: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int


def input_values(inputs: dict[str, Any]) -> dict[str, Any]:
    """RAGFlow sends `{key: {"type", "value"}}`; a bare `{key: value}` is taken as it is."""
    return {key: value.get("value") if isinstance(value, dict) else value for key, value in inputs.items()}


class AgentRunner:
    def __init__(self, services: Services) -> None:
        self.services = services

    @classmethod
    def of(cls, answerer: Answerer, default_llm: str) -> AgentRunner:
        """The same database, embedders and models every answer uses."""
        return cls(
            Services(answerer.sessions, answerer.embedder_for, answerer.models, answerer.count_tokens, default_llm)
        )

    async def start(self, turn: AgentTurn) -> PreparedRun:
        """Checks the DSL and the inputs and reads the session's history: a refusal comes before any event."""
        canvas = load(turn.dsl)
        values = canvas.begin.values(input_values(turn.inputs))
        history = turn.history
        if history is None:
            history = []
            if turn.session_id:
                async with self.services.sessions() as db:
                    history = await conversations.recent_turns(db, turn.session_id, HISTORY_TURNS)
        run = Run(self.services, Turn(turn.tenant_id, turn.query, turn.user_id, values, history))
        run.names = canvas.names
        return PreparedRun(self.services, canvas, run, turn)

    async def complete(self, turn: AgentTurn) -> tuple[list[Event], Finished]:
        """The whole turn, for a client that does not stream."""
        return await (await self.start(turn)).collect()


class PreparedRun:
    def __init__(self, services: Services, canvas: Canvas, run: Run, turn: AgentTurn) -> None:
        self.services, self.canvas, self.run, self.turn = services, canvas, run, turn

    async def events(self) -> AsyncIterator[Event | Finished]:
        started = time.perf_counter()
        entry = conversations.Record(
            self.turn.tenant_id, self.turn.agent_id, self.turn.session_id, self.turn.channel, self.turn.query
        )
        entry.id = self.turn.message_id
        try:
            async for event in execute(self.canvas, self.run):
                if event.name == "message":
                    entry.output += event.data["content"]
                yield event
        except DomainError as exc:
            entry.status, entry.error = "error", exc.message
            await self._record(entry, started)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            entry.status, entry.error = "cancelled", "the client went away before the answer was complete"
            await self._record(entry, started)
            raise
        await self._record(entry, started)
        run = self.run
        yield Finished(
            entry.id, entry.session_id, entry.output, entry.reference, run.prompt_tokens, run.completion_tokens
        )

    async def collect(self) -> tuple[list[Event], Finished]:
        events: list[Event] = []
        async for event in self.events():
            if isinstance(event, Finished):
                return events, event
            events.append(event)
        raise RuntimeError("an agent run ends with Finished")

    async def _record(self, entry: conversations.Record, started: float) -> None:
        """Written even while the caller is being cancelled: a shielded scope lets the insert finish."""
        run = self.run
        entry.reference = run.reference()
        entry.model = ", ".join(dict.fromkeys(run.llm_ids))[:255]
        entry.prompt_tokens, entry.completion_tokens = run.prompt_tokens, run.completion_tokens
        if run.first_token_at is not None:
            entry.first_token_ms = (run.first_token_at - started) * 1000
        entry.latency_ms = (time.perf_counter() - started) * 1000
        with anyio.CancelScope(shield=True):
            async with self.services.sessions() as db:
                await conversations.record(db, entry)
                await db.commit()


@dataclass
class Asking:
    """A face's request for one turn of an agent."""

    query: str
    channel: str
    session_id: str | None = None  # continue this session (the agent's own, else refused)
    new_session: bool = True  # no session_id: record the turn in a new session (else in none)
    inputs: dict[str, Any] = field(default_factory=dict)
    user_id: str = ""
    history: list[tuple[str, str]] | None = None  # the client's earlier turns; None: the session's


async def begin_turn(db: AsyncSession, runner: AgentRunner, agent: AgentRow, asking: Asking) -> PreparedRun:
    """The turn ready to run: its session found or made (flushed in `db`, which the caller commits before
    running: the turn is recorded in a transaction of its own), the DSL and inputs checked."""
    session = None
    history = asking.history
    if asking.session_id:
        session = await store.session_of(db, agent, asking.session_id)
    elif asking.new_session:
        session = await store.create_session(db, agent, "New session", asking.user_id or agent.assistant.tenant_id)
    if session is None or not asking.session_id:
        history = history or []  # a new session (or none) has no recorded turns
    turn = AgentTurn(
        agent.assistant.tenant_id,
        agent.id,
        agent.canvas.dsl,
        asking.query,
        asking.channel,
        session.id if session else None,
        asking.inputs,
        session.user_id if session else asking.user_id,
        history,
    )
    return await runner.start(turn)
