"""The apps face's envelope: `{"code", "data", "message"}`, HTTP 200 for every business outcome.

Codes: success | fail | not_found | unauthorized | forbidden | validate_error. As in the course's API (its UI
branches on `code`, not on the HTTP status), failures answer HTTP 200, except: `unauthorized` is HTTP 401, an
unknown route is HTTP 404 (`not_found`), a wrong method 405 (`fail`) and an unexpected error 500 (`fail`).
`validate_error` carries `data: {<field>: [<message>]}` when the failing field is known.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException

from service.domain.apps import InvalidField
from service.errors import DomainError, Forbidden, Invalid, NotFound, TooLarge, Unauthenticated, Unsupported

log = logging.getLogger(__name__)
PREFIX = "/apps"

SUCCESS, FAIL, NOT_FOUND, UNAUTHORIZED, FORBIDDEN, VALIDATE_ERROR = (
    "success",
    "fail",
    "not_found",
    "unauthorized",
    "forbidden",
    "validate_error",
)
# Most specific first; anything else (Conflict, UpstreamError, …) is `fail`.
_CODES: list[tuple[type[DomainError], str]] = [
    (NotFound, NOT_FOUND),
    (Forbidden, FORBIDDEN),
    (Invalid, VALIDATE_ERROR),
    (Unsupported, VALIDATE_ERROR),
    (TooLarge, VALIDATE_ERROR),
]


def envelope(code: str, data: Any, message: str, status: int = 200) -> Response[Any]:
    return Response({"code": code, "data": data, "message": message}, status_code=status)


def ok(data: Any = None, message: str = "") -> Response[Any]:
    return envelope(SUCCESS, {} if data is None else data, message)


def unauthorized(message: str) -> Response[Any]:
    return envelope(UNAUTHORIZED, {}, message, 401)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        return unauthorized(exc.message)
    code = next((code for kind, code in _CODES if isinstance(exc, kind)), FAIL)
    data = {exc.field: [exc.message]} if isinstance(exc, InvalidField) else {}
    return envelope(code, data, exc.message)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (unknown route, wrong method, unreadable request) in this envelope."""
    if isinstance(exc, NotFoundException):
        return envelope(NOT_FOUND, {}, f"{request.method} {request.url.path} is not a known endpoint", 404)
    if exc.status_code == 401:
        return unauthorized(str(exc.detail))
    if exc.status_code == 405:
        return envelope(FAIL, {}, "Method Not Allowed", 405)
    return envelope(VALIDATE_ERROR if exc.status_code < 500 else FAIL, {}, str(exc.detail))


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return envelope(FAIL, {}, f"Internal error ({type(exc).__name__}); see the server log", 500)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: unexpected,
}


def is_apps_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
