"""The debug chat: `POST /apps/{id}/debug`, `GET /apps/{id}/messages`, `POST /apps/{id}/messages/{mid}/delete`.

`POST /apps/{id}/debug {"query", "stream"?: bool}` answers with the draft config (the published one when there
is no draft) in the app's debug conversation. Blocking (default): the message record in the envelope.
`"stream": true`: server-sent events, one `data:{json}` frame each —

- `{"event": "agent_message", "id", "conversation_id", "answer": <delta>}` per piece of the answer
  (concatenate the `answer`s of one `id`);
- then `{"event": "message_end", <the message record, as the blocking reply's data>}`;
- or, when answering fails, `{"event": "error", "id", "conversation_id", "message"}` instead of `message_end`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.apps.deps import APP
from service.api.apps.envelope import ok
from service.api.apps.schemas import BODY, MAX_MESSAGES_PAGE, flag, page_of
from service.api.apps.views import message_json, paginated
from service.api.body import json_object
from service.api.sse import as_asgi, data_event, event_stream
from service.domain import apps
from service.domain.answering import Answerer, Delta, Question
from service.errors import DomainError

if TYPE_CHECKING:
    from service.db.models import Assistant

log = logging.getLogger(__name__)
Sessions = async_sessionmaker[AsyncSession]


async def record_of(sessions: Sessions, message_id: str) -> dict[str, Any]:
    """The recorded message, read in a unit of work of its own: the request's transaction ended before answering."""
    async with sessions() as db:
        return message_json(await apps.recorded(db, message_id))


async def debug_events(answerer: Answerer, sessions: Sessions, question: Question) -> AsyncIterator[bytes]:
    ids = {"id": question.message_id, "conversation_id": question.session_id}
    try:
        async for event in answerer.ask(question):
            if isinstance(event, Delta):
                yield data_event({"event": "agent_message", **ids, "answer": event.text})
            else:
                yield data_event({"event": "message_end", **await record_of(sessions, event.message_id)})
    except DomainError as exc:
        yield data_event({"event": "error", **ids, "message": exc.message})
    except Exception as exc:
        log.exception("debug answer stream failed")
        yield data_event({"event": "error", **ids, "message": f"Internal error ({type(exc).__name__})"})


class DebugController(Controller):
    path = "/{app_id:str}"
    dependencies = APP

    @post("/debug", status_code=200)
    async def debug(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
        answerer: NamedDependency[Answerer],
        sessions: NamedDependency[Sessions],
    ) -> ASGIApp:
        body = await json_object(request, BODY)
        stream = flag(body, "stream")
        question = await apps.debug_question(db, app, body.get("query"))
        await db.commit()  # the answer is recorded in its own transaction, and may take a while
        if stream:
            return event_stream(debug_events(answerer, sessions, question))
        answer = await answerer.complete(question)
        return as_asgi(request, ok(await record_of(sessions, answer.message_id)))

    @get("/messages")
    async def list_messages(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
    ) -> Response[Any]:
        page = page_of(request, MAX_MESSAGES_PAGE)
        rows, total = await apps.list_messages(db, app, page.page)
        return ok(paginated([message_json(row) for row in rows], total, page))

    @post("/messages/{message_id:str}/delete", status_code=200)
    async def delete_message(
        self,
        message_id: FromPath[str],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
    ) -> Response[Any]:
        await apps.delete_message(db, app, message_id)
        return ok(message="删除调试信息成功")
