"""RAGFlow's wire envelope: HTTP 200 with an application code, except 401 for auth and 404 for routes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException

from service.errors import DomainError, Invalid, Unauthenticated

if TYPE_CHECKING:
    from service.domain.batches import Batch

log = logging.getLogger(__name__)

SUCCESS, EXCEPTION, ARGUMENT, DATA, AUTH = 0, 100, 101, 102, 109


def ok(data: Any = None, **extra: Any) -> Response[Any]:
    """`get_result`: `{"code": 0, "data": ...}` (datasets, documents, chunks, retrieval)."""
    body: dict[str, Any] = {"code": SUCCESS}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return Response(body, status_code=200)


def ok_message(data: Any) -> Response[Any]:
    """`get_json_result`: `{"code": 0, "message": "success", "data": ...}` (chats, sessions)."""
    return Response({"code": SUCCESS, "message": "success", "data": data}, status_code=200)


def fail(code: int, message: str, **extra: Any) -> Response[Any]:
    return Response({"code": code, "message": message, **extra}, status_code=200)


def batch_reply(batch: Batch, things: str, data: Any) -> Response[Any]:
    """A chat or session batch delete as RAGFlow answers it: all done → `data`; some done → code 0,
    `Partially deleted N <things> with M errors`, `success_count` and `errors`; none done → 102, the errors."""
    if not batch.errors:
        return ok_message(data)
    if batch.done:
        message = f"Partially deleted {batch.done} {things} with {len(batch.errors)} errors"
        return Response(
            {"code": SUCCESS, "message": message, "data": {"success_count": batch.done, "errors": batch.errors}}
        )
    return fail(DATA, "; ".join(batch.errors))


class NotOwned(DomainError):
    """A chat (or its sessions) that is not the caller's: RAGFlow 0.27 answers code 109 `no authorization`."""

    def __init__(self) -> None:
        super().__init__("no authorization")


class Rejected(DomainError):
    """A check RAGFlow answers with code 102 although it is about the request (blank chat or session name)."""


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        return unauthorized()
    if isinstance(exc, NotOwned):
        return fail(AUTH, exc.message, data=False)
    return fail(ARGUMENT if isinstance(exc, Invalid) else DATA, exc.message)


def unauthorized() -> Response[Any]:
    return Response({"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}, status_code=401)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        return not_found(request)
    if exc.status_code == 405:
        return Response({"code": 405, "message": "Method Not Allowed", "data": None}, status_code=405)
    if exc.status_code == 401:
        return unauthorized()
    return fail(ARGUMENT, str(exc.detail), data=None)


def not_found(request: Request[Any, Any, Any]) -> Response[Any]:
    body = {"code": 404, "message": f"Not Found: {request.url.path}", "data": None, "error": "Not Found"}
    return Response(body, status_code=404)


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """RAGFlow answers code 100 with repr(e); we log the detail and keep internals out of the reply."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return fail(EXCEPTION, f"Internal error ({type(exc).__name__}); see the server log", data=None)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: unexpected,
}
