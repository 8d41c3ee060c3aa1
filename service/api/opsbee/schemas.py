"""Request bodies and query strings of the OpsBee face, read the way abeja-sdk sends them.

The SDK repeats query keys (`?offset=0&limit=10&offset=0&limit=10`) and formats `search_query` into the URL
unencoded, so `+`, `:` and `*` arrive raw: `search_query` is read from the raw query string with
`urllib.parse.unquote` (form decoding would turn a date's `+09:00` into a space); see `decode_search_query`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, unquote_plus

from litestar import Request

from service.api.body import BodyMessages
from service.domain.history_search import HistoryQuery
from service.domain.pages import Page
from service.errors import Invalid

MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000
# Read with `json_object(request, BODY, required=False)`: an empty body is `{}` on this face (the SDK sends
# none on some calls whose fields are all optional), so `empty` is never shown.
BODY = BodyMessages(
    empty="the request body is empty",
    malformed="the request body is not valid JSON",
    not_object="the request body must be a JSON object",
)


def _last(request: Request[Any, Any, Any], key: str) -> str | None:
    """A repeated key counts once: the SDK sends the same value twice."""
    values = request.query_params.getall(key, [])
    return values[-1] if values else None


def _integer(request: Request[Any, Any, Any], key: str, default: int, low: int, high: int) -> int:
    text = _last(request, key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Invalid(f"`{key}` must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise Invalid(f"`{key}` must be between {low} and {high}, got {value}")
    return value


def page_of(request: Request[Any, Any, Any]) -> Page:
    """`offset` from 0, `limit` 1..1000 (default 1000, as the SDK sends)."""
    offset = _integer(request, "offset", 0, 0, 2**31 - 1)
    return Page(offset, _integer(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT))


def decode_search_query(raw: str) -> str:
    """abeja-sdk escapes spaces as `%20` and leaves `+` raw (a date's `+09:00`): `unquote`. A form-encoding
    client (`requests`/`httpx` `params=`) writes spaces as `+` and a plus as `%2B`: `unquote_plus`. A raw
    `+` with no `%20` beside it is read the form way; the compiler reads a date's ` 09:00` as `+09:00`."""
    return unquote(raw) if "%20" in raw or "+" not in raw else unquote_plus(raw)


def raw_search_query(request: Request[Any, Any, Any]) -> str | None:
    query_string = request.scope.get("query_string", b"").decode("utf-8", "replace")
    found = None
    for part in query_string.split("&"):
        key, _, value = part.partition("=")
        if unquote_plus(key) == "search_query":
            found = decode_search_query(value)
    return found or None


def history_query(request: Request[Any, Any, Any]) -> HistoryQuery:
    sort_by = _last(request, "sort_by") or "updated_at"
    sort_order = (_last(request, "sort_order") or "desc").lower()
    return HistoryQuery(raw_search_query(request), page_of(request), sort_by, sort_order)
