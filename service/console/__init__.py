"""The web console: one HTML page served at `/`, its CSS and ES modules under `/console/`.

The console has no backend of its own. Its scripts call the public APIs (RAGFlow `/api/v1`, OpsBee
`/opsbee-llm`) with the API key the user typed in, exactly as any other client does; nothing here reads the
database or the key. Every response carries a Content-Security-Policy that lets the page run its own
same-origin scripts and nothing else, so a chunk or an answer that contains markup cannot execute.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, Router, get
from litestar.datastructures import ResponseHeader
from litestar.response import File
from litestar.static_files import create_static_files_router

PAGE = Path(__file__).parent / "index.html"  # outside STATIC: the page is served only at `/`, with its headers
STATIC = Path(__file__).parent / "static"
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CSP),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    # The page itself may change with every release; the browser asks again (a 304 when unchanged).
    ResponseHeader(name="Cache-Control", value="no-cache"),
]


@get("/", include_in_schema=False, sync_to_thread=False, response_headers=HEADERS)
def console_index() -> File:
    return File(PAGE, content_disposition_type="inline", media_type="text/html")


async def with_headers(response: Response[object]) -> Response[object]:
    """The static files router takes no `response_headers`; its files get the page's headers here."""
    for header in HEADERS:
        response.headers[header.name] = str(header.value)
    return response


def console_router() -> Router:
    """`/` (the page) and `/console/...` (its scripts and styles), left out of the OpenAPI document."""
    assets = create_static_files_router(
        "/console", [STATIC], name="console", include_in_schema=False, after_request=with_headers
    )
    return Router(path="/", route_handlers=[console_index, assets], include_in_schema=False)
