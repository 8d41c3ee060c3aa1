"""`/api/v1/agents`: RAGFlow agents (a canvas DSL each) and their sessions.

Refusals use RAGFlow 0.27's codes and words: another tenant's agent is `canvas not found.` (102) to read,
and code 103 to change, delete or talk to; a session of another agent is 103 too.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.agent_views import agent_json, session_json
from service.api.ragflow.envelope import batch_reply, domain_error, fail, ok, ok_message
from service.api.ragflow.schemas import json_body, list_of_strings, page_of, text_arg
from service.domain import conversations
from service.domain.agents import store
from service.errors import DomainError, Forbidden, Invalid, NotFound
from service.settings import Settings

OPERATING = 103
NO_ACCESS = "Make sure you have permission to access the agent."
NOT_OWNER = "Only the owner of the agent is authorized for this operation."
INFO_KEYS = {"description": "description", "avatar": "icon", "canvas_type": "canvas_type"}


def agent_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """`Forbidden` is RAGFlow's OPERATING_ERROR (103); the rest as the whole family answers them."""
    if isinstance(exc, Forbidden):
        return fail(OPERATING, exc.message, data=False)
    return domain_error(request, exc)


AGENT_ERRORS: dict[Any, Any] = {DomainError: agent_error}


async def owned_agent(db: AsyncSession, tenant: str, agent_id: str, refusal: DomainError) -> store.AgentRow:
    try:
        return await store.get_agent(db, tenant, agent_id)
    except NotFound:
        raise refusal from None


async def agent_to_use(db: AsyncSession, tenant: str, agent_id: str) -> store.AgentRow:
    """The caller's agent for the session and completion routes (103 otherwise).

    Looked up in the handler, not as a Litestar dependency: a dependency that raises under a controller-level
    exception handler leaves the request's database connection unreturned (seen with Litestar 2 here)."""
    return await owned_agent(db, tenant, agent_id, Forbidden(NO_ACCESS))


def info_of(body: dict[str, Any]) -> dict[str, str]:
    """description, avatar, canvas_type: strings, null meaning "not given" (as RAGFlow drops None values)."""
    info = {}
    for key, field in INFO_KEYS.items():
        if body.get(key) is not None:
            if not isinstance(body[key], str):
                raise Invalid(f"`{key}` should be a string.")
            info[field] = body[key]
    return info


def agent_query(request: Request[Any, Any, Any]) -> store.AgentQuery:
    args = {key: text_arg(value) for key, value in request.query_params.items()}
    orderby = args.get("orderby") or "create_time"
    if orderby not in ("create_time", "update_time"):
        raise Invalid(f"invalid orderby field: {orderby}")
    desc = args.get("desc", "true").strip().lower() != "false"
    title = args.get("title") or args.get("name")
    return store.AgentQuery(page_of(request), orderby, desc, args.get("id"), title, args.get("keywords"))


class AgentController(Controller):
    path = "/agents"
    exception_handlers = AGENT_ERRORS

    @get("/")
    async def list_agents(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        rows, total = await store.list_agents(db, tenant, agent_query(request))
        return ok_message({"canvas": [agent_json(row) for row in rows], "total": total})

    @post("/", status_code=200)
    async def create_agent(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        body = await json_body(request)
        info = info_of(body)
        agent = await store.create_agent(db, tenant, body.get("title"), body.get("dsl"), settings.default_llm, **info)
        return ok_message(agent_json(agent))

    @get("/{agent_id:str}")
    async def get_agent(
        self, agent_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        return ok_message(agent_json(await owned_agent(db, tenant, agent_id, NotFound("canvas not found."))))

    @put("/{agent_id:str}", status_code=200)
    async def update_agent(
        self,
        agent_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        agent = await owned_agent(db, tenant, agent_id, Forbidden(NO_ACCESS))
        body = await json_body(request, required=False)
        title, dsl = body.get("title"), body.get("dsl")
        await store.update_agent(db, agent, settings.default_llm, title, dsl, **info_of(body))
        return ok_message(True)

    @delete("/{agent_id:str}", status_code=200)
    async def delete_agent(
        self, agent_id: FromPath[str], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        await store.delete_agent(db, await owned_agent(db, tenant, agent_id, Forbidden(NOT_OWNER)))
        return ok_message(True)


def session_query(request: Request[Any, Any, Any]) -> conversations.SessionQuery:
    args = {key: text_arg(value) for key, value in request.query_params.items()}
    orderby = args.get("orderby") or "update_time"
    if orderby not in ("create_time", "update_time"):
        raise Invalid(f"invalid orderby field: {orderby}")
    desc = args.get("desc") not in ("False", "false")
    return conversations.SessionQuery(page_of(request), orderby, desc, args.get("id"), None, args.get("user_id"))


async def render(db: AsyncSession, agent: store.AgentRow, sessions: list[Any], dsl: bool = True) -> list[Any]:
    grouped = await conversations.turns(db, [session.id for session in sessions])
    return [session_json(agent, session, grouped[session.id], dsl) for session in sessions]


class AgentSessionController(Controller):
    """Every route is under one of the caller's agents, looked up before the body is read."""

    path = "/agents/{agent_id:str}/sessions"
    exception_handlers = AGENT_ERRORS

    @post("/", status_code=200)
    async def create_session(
        self,
        agent_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        agent = await agent_to_use(db, tenant, agent_id)
        body = await json_body(request, required=False)
        user_id = body.get("user_id") or request.query_params.get("user_id") or tenant
        name = body.get("name") or "New session"
        if not isinstance(user_id, str) or not isinstance(name, str):
            raise Invalid("`user_id` and `name` should be strings.")
        session = await store.create_session(db, agent, conversations.session_name(name), text_arg(user_id))
        return ok((await render(db, agent, [session]))[0])

    @get("/")
    async def list_sessions(
        self,
        agent_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        agent = await agent_to_use(db, tenant, agent_id)
        rows, total = await conversations.list_sessions(db, agent.assistant, session_query(request))
        with_dsl = request.query_params.get("dsl") not in ("False", "false")
        data = await render(db, agent, rows, with_dsl)
        return Response({"code": 0, "message": "success", "data": data, "total": total})

    @get("/{session_id:str}")
    async def get_session(
        self,
        agent_id: FromPath[str],
        session_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        agent = await agent_to_use(db, tenant, agent_id)
        session = await store.session_of(db, agent, session_id)
        return ok_message((await render(db, agent, [session]))[0])

    @delete("/{session_id:str}", status_code=200)
    async def delete_session(
        self,
        agent_id: FromPath[str],
        session_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        agent = await agent_to_use(db, tenant, agent_id)
        session = await store.session_of(db, agent, session_id)
        batch = await store.delete_sessions(db, agent, [session.id], delete_all=False)
        return ok_message(batch.done == 1)

    @delete("/", status_code=200)
    async def delete_sessions(
        self,
        agent_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
    ) -> Response[Any]:
        agent = await agent_to_use(db, tenant, agent_id)
        body = await json_body(request, required=False)
        ids = list_of_strings(body, "ids")
        if not ids and body.get("delete_all") is not True:
            return ok()  # RAGFlow: nothing asked, nothing done
        batch = await store.delete_sessions(db, agent, ids, delete_all=not ids)
        return batch_reply(batch, "sessions", None) if batch.errors else ok()
