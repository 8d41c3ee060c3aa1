"""The RAGFlow-compatible family, mounted at /api/v1."""

from __future__ import annotations

from litestar import Router

from service.api.ragflow.chats import ChatController
from service.api.ragflow.chunks import ChunkController
from service.api.ragflow.completions import chat_completions, chat_completions_alias
from service.api.ragflow.datasets import DatasetController
from service.api.ragflow.documents import DocumentController, LegacyParsingController
from service.api.ragflow.envelope import EXCEPTION_HANDLERS
from service.api.ragflow.retrieval import retrieve
from service.api.ragflow.sessions import SessionController
from service.api.ragflow.system import ping, system_status, system_version

router = Router(
    path="/api/v1",
    route_handlers=[
        DatasetController,
        DocumentController,
        LegacyParsingController,
        ChunkController,
        retrieve,
        ChatController,
        SessionController,
        chat_completions,
        chat_completions_alias,
        ping,
        system_version,
        system_status,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)
