"""The RAGFlow-compatible family, mounted at /api/v1."""

from __future__ import annotations

from litestar import Router

from service.api.ragflow.chunks import ChunkController
from service.api.ragflow.datasets import DatasetController
from service.api.ragflow.documents import DocumentController, LegacyParsingController
from service.api.ragflow.envelope import EXCEPTION_HANDLERS
from service.api.ragflow.retrieval import retrieve

router = Router(
    path="/api/v1",
    route_handlers=[
        DatasetController,
        DocumentController,
        LegacyParsingController,
        ChunkController,
        retrieve,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)
