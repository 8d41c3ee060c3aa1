"""Errors on the OpsBee face: real HTTP statuses, body `{"error": <short code>, "error_description": <text>}`.

abeja-sdk raises BadRequest, Unauthorized, Forbidden, NotFound, Conflict by status and reads both fields.
Bad input is 400, never 422 (no named exception in the SDK); it retries 5xx (POST included), so nothing a
client sends may end in a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException

from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unauthenticated,
    Unsupported,
    UpstreamError,
)

log = logging.getLogger(__name__)
PREFIX = "/opsbee-llm"

# Most specific class first: (domain error, HTTP status, short code).
_DOMAIN: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Invalid, 400, "bad_request"),
    (Unsupported, 400, "unsupported"),
    (TooLarge, 400, "request_too_large"),
    (UpstreamError, 502, "upstream_error"),
]
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 405: "method_not_allowed"}


def error_response(status: int, code: str, description: str) -> Response[Any]:
    headers = {"WWW-Authenticate": 'Bearer, Basic realm="opsbee-llm"'} if status == 401 else {}
    return Response({"error": code, "error_description": description}, status_code=status, headers=headers)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    for kind, status, code in _DOMAIN:
        if isinstance(exc, kind):
            return error_response(status, code, exc.message)
    return error_response(400, "bad_request", exc.message)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (unknown route, wrong method, unreadable request) in this face's shape."""
    if isinstance(exc, NotFoundException):
        return error_response(404, "not_found", f"{request.method} {request.url.path} is not a known endpoint")
    status = exc.status_code if exc.status_code < 500 else 500
    if status == 422:
        status = 400
    return error_response(status, _HTTP_CODES.get(status, "error"), str(exc.detail))


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_server_error", f"Internal error ({type(exc).__name__}); see the server log")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: unexpected,
}


def is_opsbee_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
