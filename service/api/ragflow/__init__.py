"""The RAGFlow-compatible family, mounted at /api/v1."""

from __future__ import annotations

from litestar import Router

from service.api.ragflow.agent_completions import agent_completions, agent_completions_alias
from service.api.ragflow.agents import AgentController, AgentSessionController
from service.api.ragflow.chats import ChatController
from service.api.ragflow.chunks import ChunkController
from service.api.ragflow.completions import chat_completions, chat_completions_alias
from service.api.ragflow.dataset_search import DatasetSearchController
from service.api.ragflow.datasets import DatasetController
from service.api.ragflow.documents import DocumentController, LegacyParsingController
from service.api.ragflow.draft import DRAFT_ROUTES
from service.api.ragflow.embedding import EmbeddingController
from service.api.ragflow.envelope import EXCEPTION_HANDLERS
from service.api.ragflow.fallback import unserved_route
from service.api.ragflow.ingestions import IngestionController
from service.api.ragflow.metadata import MetadataController
from service.api.ragflow.questions import chat_recommendation, session_related_questions
from service.api.ragflow.raw_documents import RawDocumentController
from service.api.ragflow.retrieval import retrieve
from service.api.ragflow.sessions import SessionController
from service.api.ragflow.system import ping, system_status, system_version
from service.api.ragflow.tags import TagController

router = Router(
    path="/api/v1",
    route_handlers=[
        DatasetController,
        TagController,
        MetadataController,
        IngestionController,
        EmbeddingController,
        DatasetSearchController,
        RawDocumentController,
        DocumentController,
        LegacyParsingController,
        ChunkController,
        retrieve,
        ChatController,
        SessionController,
        chat_completions,
        chat_completions_alias,
        session_related_questions,
        chat_recommendation,
        AgentController,
        AgentSessionController,
        agent_completions,
        agent_completions_alias,
        ping,
        system_version,
        system_status,
        *DRAFT_ROUTES,  # the v0.13 draft's singular paths, aliases of the routes above
        unserved_route,  # last: only paths no other route serves reach it
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)
