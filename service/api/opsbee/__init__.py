"""The ABEJA OpsBee LLM family, mounted at /opsbee-llm: what abeja-sdk 2.3.6's `abeja.opsbeellm` calls.

Everything lives under `/organizations/{organization_id}` (the caller's tenant id, or `me`). Bare JSON
objects, offset/limit/has_next pagination, errors `{"error", "error_description"}` with real HTTP statuses.
Auth: `Bearer <api key>` or `Basic base64("user-<id>:<api key>")`.
"""

from __future__ import annotations

from litestar import Router

from service.api.opsbee.datasets import AddChatHistories, AddQaHistories, EvalDatasetController, EvalItemController
from service.api.opsbee.deployments import DeploymentController
from service.api.opsbee.deps import DEPENDENCIES
from service.api.opsbee.errors import EXCEPTION_HANDLERS, is_opsbee_path
from service.api.opsbee.errors import http_error as http_error
from service.api.opsbee.histories import ChatHistoryController, QaHistoryController, list_chat_histories
from service.api.opsbee.runs import RunController
from service.api.opsbee.tags import TagController
from service.api.opsbee.threads import ThreadController
from service.api.opsbee.usage import deployment_stats, export_histories, export_items, rate_history

router = Router(
    path="/opsbee-llm",
    route_handlers=[
        DeploymentController,
        ThreadController,
        list_chat_histories,
        ChatHistoryController,
        QaHistoryController,
        TagController,
        EvalDatasetController,
        EvalItemController,
        AddChatHistories,
        AddQaHistories,
        RunController,
        export_histories,
        export_items,
        deployment_stats,
        rate_history,
    ],
    dependencies=DEPENDENCIES,
    exception_handlers=EXCEPTION_HANDLERS,
)

__all__ = ["http_error", "is_opsbee_path", "router"]
