"""`/api/v1/chats/{chat_id}/sessions`: a chat's conversations, their messages and feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, put, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.chat_views import session_json
from service.api.ragflow.deps import CHAT
from service.api.ragflow.envelope import Rejected, batch_reply, ok_message
from service.api.ragflow.schemas import json_body, list_of_strings, orderby, page_of, text_arg
from service.domain import conversations, feedback
from service.errors import Invalid

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession

DEFAULT_NAME = "New session"


def session_name(value: Any) -> str:
    """RAGFlow answers a blank name with 102, not 101."""
    try:
        return conversations.session_name(value)
    except Invalid as exc:
        raise Rejected(exc.message) from None


def check_name_only(body: dict[str, Any]) -> None:
    if {"messages", "message", "reference"} & body.keys():
        raise Rejected("`messages` cannot be changed")


def session_query(request: Request[Any, Any, Any]) -> conversations.SessionQuery:
    """`page_size=0` (or a bad size) means the default 30, as RAGFlow's validate_rest_api_page_size has it."""
    order, desc = orderby(request, ("create_time", "update_time", "name"))
    args = {key: text_arg(value) for key, value in request.query_params.items()}
    return conversations.SessionQuery(
        page_of(request), order, desc, args.get("id"), args.get("name"), args.get("user_id")
    )


def delete_ids(body: dict[str, Any]) -> tuple[list[str], bool]:
    ids = list_of_strings(body, "ids")  # repeats kept: the domain reports them as RAGFlow does
    return ids, not ids and body.get("delete_all") is True


async def render(db: AsyncSession, assistant: Assistant, sessions: list[ChatSession]) -> list[dict[str, Any]]:
    grouped = await conversations.turns(db, [session.id for session in sessions])
    return [session_json(session, assistant, grouped[session.id]) for session in sessions]


class SessionController(Controller):
    """Every route is under one of the caller's chats (`assistant`, looked up before the body is read)."""

    path = "/chats/{chat_id:str}/sessions"
    dependencies = CHAT

    @post("/", status_code=200)
    async def create_session(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        body = await json_body(request, required=False)
        user_id = body["user_id"] if isinstance(body.get("user_id"), str) else tenant
        session = await conversations.create_session(
            db, assistant, session_name(body.get("name", DEFAULT_NAME)), user_id
        )
        return ok_message((await render(db, assistant, [session]))[0])

    @get("/")
    async def list_sessions(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        rows, _ = await conversations.list_sessions(db, assistant, session_query(request))
        return ok_message(await render(db, assistant, rows))

    @get("/{session_id:str}")
    async def get_session(
        self, session_id: FromPath[str], db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        session = await conversations.get_session(db, assistant, session_id)
        return ok_message({**(await render(db, assistant, [session]))[0], "avatar": assistant.icon})

    @route("/{session_id:str}", http_method=["PATCH", "PUT"], status_code=200)  # PUT: deprecated alias
    async def update_session(
        self,
        session_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        body = await json_body(request, required=False)
        session = await conversations.get_session(db, assistant, session_id)
        check_name_only(body)
        if body.get("name") is not None:
            session = await conversations.rename_session(db, session, session_name(body["name"]))
        return ok_message((await render(db, assistant, [session]))[0])

    @delete("/", status_code=200)
    async def delete_sessions(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        ids, delete_all = delete_ids(await json_body(request, required=False))
        if not ids and not delete_all:
            return ok_message({})  # RAGFlow: nothing asked, nothing done
        batch = await conversations.delete_sessions(db, assistant, ids, delete_all)
        return batch_reply(batch, "sessions", True)

    @delete("/{session_id:str}/messages/{message_id:str}", status_code=200)
    async def delete_message(
        self,
        session_id: FromPath[str],
        message_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        """Hides the question and its answer (one recorded turn); the LLMOps history keeps it."""
        session = await conversations.get_session(db, assistant, session_id)
        await conversations.delete_message(db, session, message_id)
        return ok_message((await render(db, assistant, [session]))[0])

    @put("/{session_id:str}/messages/{message_id:str}/feedback", status_code=200)
    async def set_feedback(
        self,
        session_id: FromPath[str],
        message_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        assistant: NamedDependency[Assistant],
    ) -> Response[Any]:
        body = await json_body(request)
        session = await conversations.get_session(db, assistant, session_id)
        await feedback.set_session_feedback(db, session, message_id, body.get("thumbup"), body.get("feedback"))
        return ok_message((await render(db, assistant, [session]))[0])
