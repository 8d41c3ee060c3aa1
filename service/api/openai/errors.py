"""Errors on the OpenAI-compatible face: real HTTP statuses, OpenAI's body, plus RAGFlow's `code`/`message`.

Body: `{"error": {"message", "type", "param", "code"}, "code": <RAGFlow code>, "message": <same message>}`.
OpenAI SDKs read `error` and raise by status (400 → BadRequestError, 401 → AuthenticationError, ...);
RAGFlow-minded callers read the top-level `code` (101 argument, 102 data, 109 auth, 100 exception).
Never a 500 for bad input: every domain error has its status below.
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

EXCEPTION, ARGUMENT, DATA, AUTH = 100, 101, 102, 109
INVALID_REQUEST = "invalid_request_error"


class ApiError(Exception):
    """An error this face reports with an explicit status, OpenAI `param`/`code` and RAGFlow code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        ragflow_code: int = DATA,
        kind: str = INVALID_REQUEST,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.ragflow_code, self.kind = ragflow_code, kind


def invalid(message: str, param: str | None = None, ragflow_code: int = DATA, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code, ragflow_code=ragflow_code)


def error_body(error: ApiError) -> dict[str, Any]:
    """The body of an error reply, and the data of an error event mid-stream (the SDKs raise on its `error`)."""
    return {
        "error": {"message": error.message, "type": error.kind, "param": error.param, "code": error.code},
        "code": error.ragflow_code,
        "message": error.message,
    }


def internal_error(exc: Exception) -> ApiError:
    """What a client is told of a bug: the class name only; the traceback goes to the server log."""
    message = f"Internal error ({type(exc).__name__}); see the server log"
    return ApiError(500, message, ragflow_code=EXCEPTION, kind="server_error")


def error_response(error: ApiError) -> Response[Any]:
    body = error_body(error)
    headers = {}
    if error.status >= 500:
        # The OpenAI SDKs retry 5xx by default; a failed upstream answer is recorded once, not three times.
        headers["x-should-retry"] = "false"
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(body, status_code=error.status, headers=headers)


# (status, OpenAI type, OpenAI code, RAGFlow code), most specific class first.
_DOMAIN: list[tuple[type[DomainError], int, str, str | None, int]] = [
    (Unauthenticated, 401, INVALID_REQUEST, "invalid_api_key", AUTH),
    (NotFound, 404, INVALID_REQUEST, "not_found", DATA),
    (Forbidden, 403, "permission_error", "forbidden", DATA),
    (TooLarge, 413, INVALID_REQUEST, "request_too_large", DATA),
    (UpstreamError, 502, "api_error", "upstream_error", EXCEPTION),
    (Invalid, 400, INVALID_REQUEST, None, ARGUMENT),
    (Unsupported, 400, INVALID_REQUEST, "unsupported", DATA),
    (Conflict, 400, INVALID_REQUEST, "conflict", DATA),
]


def as_api_error(exc: DomainError) -> ApiError:
    for kind, status, openai_type, code, ragflow_code in _DOMAIN:
        if isinstance(exc, kind):
            return ApiError(status, exc.message, code=code, ragflow_code=ragflow_code, kind=openai_type)
    return ApiError(400, exc.message, ragflow_code=DATA)


def api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return error_response(exc)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return error_response(as_api_error(exc))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (unknown route, wrong method, body too large) in this face's shape."""
    if isinstance(exc, NotFoundException):
        message = f"Invalid URL ({request.method} {request.url.path})"
        return error_response(ApiError(404, message, code="unknown_url", ragflow_code=404))
    if exc.status_code == 401:
        return error_response(ApiError(401, str(exc.detail), code="invalid_api_key", ragflow_code=AUTH))
    status = exc.status_code
    kind = INVALID_REQUEST if status < 500 else "server_error"
    return error_response(
        ApiError(status, str(exc.detail), ragflow_code=status if status >= 500 else ARGUMENT, kind=kind)
    )


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(internal_error(exc))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: api_error,
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: unexpected,
}


def is_openai_path(path: str) -> bool:
    """Paths whose pre-routing errors (unknown URL, wrong method) the app answers in this face's shape."""
    return path == "/v1" or path.startswith(
        ("/v1/", "/api/v1/openai/", "/api/v1/chats_openai/", "/api/v1/agents_openai/")
    )
