"""The apps family (the imooc LLMOps console's app module), mounted at /apps. An app is an assistant.

Seed endpoints: `GET /apps/{id}`, `POST /apps/{id}/config`, `GET|POST /apps/{id}/long-term-memory`,
`POST /apps/{id}/debug` (blocking or SSE), `GET /apps/{id}/messages`, `POST /apps/{id}/messages/{mid}/delete`.
Also: `POST /apps` (a new app has a draft only), `POST /apps/{id}/publish`, `POST /apps/{id}/cancel-publish`,
`GET /apps/{id}/published-config-histories`; the course's later names `/draft-app-config`, `/summary` and
`/publish-histories` are aliases. Envelope `{"code", "data", "message"}` (see `envelope`), Bearer API key.
"""

from __future__ import annotations

from litestar import Router

from service.api.apps.analysis import AnalysisController
from service.api.apps.apps import AppController
from service.api.apps.debug import DebugController
from service.api.apps.envelope import EXCEPTION_HANDLERS, PREFIX, is_apps_path
from service.api.apps.envelope import http_error as http_error

router = Router(
    path=PREFIX,
    route_handlers=[AppController, DebugController, AnalysisController],
    exception_handlers=EXCEPTION_HANDLERS,
)

__all__ = ["http_error", "is_apps_path", "router"]
