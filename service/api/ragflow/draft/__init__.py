"""RAGFlow's draft v0.13 HTTP API (singular paths: `/dataset`, `/chat`, ...), served beside v0.27's.

Thin aliases: every route reads the draft's request into what the v0.27 route of the same job validates, calls the
same domain function, and maps the v0.27 view to the key set the draft document shows (`shapes.py`).
"""

from __future__ import annotations

from service.api.ragflow.draft.chats import DraftChatController, DraftSessionController
from service.api.ragflow.draft.datasets import DraftDatasetController
from service.api.ragflow.draft.documents import DraftChunkController, DraftDocumentController

DRAFT_ROUTES = [
    DraftDatasetController,
    DraftDocumentController,
    DraftChunkController,
    DraftChatController,
    DraftSessionController,
]
