"""The agent routes' operations in the published OpenAPI document (composed into openapi.py's RAGFLOW)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.api.openapi import Op, Param
from service.api.ragflow.agent_completions import agent_completions, agent_completions_alias
from service.api.ragflow.agents import AgentController, AgentSessionController
from service.api.ragflow.openapi_queries import DESC, PAGE, order
from service.api.ragflow.openapi_shapes import Done, Ok, Times


class AgentBody(BaseModel):
    """Create (`title` and `dsl` required) or update (only what is given changes)."""

    title: str | None = None
    dsl: dict[str, Any] | None = Field(default=None, description="the canvas: components, globals, graph")
    description: str | None = None
    avatar: str | None = None
    canvas_type: str | None = None


class Agent(Times):
    id: str
    title: str
    avatar: str | None
    description: str | None
    canvas_type: str | None
    canvas_category: str
    dsl: dict[str, Any]
    user_id: str


class AgentPage(BaseModel):
    canvas: list[Agent]
    total: int


class AgentSessionBody(BaseModel):
    name: str | None = None
    user_id: str | None = None


class AgentSession(Times):
    id: str
    agent_id: str
    name: str
    user_id: str
    message: list[dict[str, Any]]
    source: str
    dsl: dict[str, Any] | None = None


class SessionIds(BaseModel):
    ids: list[str] | None = None
    delete_all: bool = False


class AgentCompletionBody(BaseModel):
    """Standard mode: `query` (+ `inputs` for Begin's variables); `"openai-compatible": true`: `messages`."""

    agent_id: str | None = Field(default=None, description="required on /agents/chat/completions")
    query: str | None = None
    question: str | None = None
    messages: list[dict[str, Any]] | None = None
    stream: bool = True
    session_id: str | None = None
    inputs: dict[str, Any] | None = None
    user_id: str | None = None
    return_trace: bool = False
    openai_compatible: bool = Field(default=False, alias="openai-compatible")


class AgentAnswer(BaseModel):
    event: str
    message_id: str
    session_id: str
    task_id: str
    data: dict[str, Any] = Field(description="content, reference, and trace with return_trace")


AGENT_LIST = (*PAGE, order("create_time", "update_time"), DESC, Param("id", str), Param("title", str))
AGENT_SESSION_LIST = (*PAGE, order("update_time", "create_time"), DESC, Param("id", str), Param("user_id", str))
COMPLETION = Op(Ok[AgentAnswer] | Ok[str] | dict[str, Any], AgentCompletionBody, stream=True)

AGENT_OPERATIONS = {
    AgentController.list_agents: Op(Ok[AgentPage], query=AGENT_LIST),
    AgentController.create_agent: Op(Ok[Agent], AgentBody),
    AgentController.get_agent: Op(Ok[Agent]),
    AgentController.update_agent: Op(Ok[bool], AgentBody, body_required=False),
    AgentController.delete_agent: Op(Ok[bool]),
    AgentSessionController.create_session: Op(Ok[AgentSession], AgentSessionBody, body_required=False),
    AgentSessionController.list_sessions: Op(Ok[list[AgentSession]], query=AGENT_SESSION_LIST),
    AgentSessionController.get_session: Op(Ok[AgentSession]),
    AgentSessionController.delete_session: Op(Ok[bool]),
    AgentSessionController.delete_sessions: Op(Done | Ok[Any], SessionIds, body_required=False),
    agent_completions: COMPLETION,
    agent_completions_alias: COMPLETION,
}
