"""The OpenAI-compatible family.

- RAGFlow's face, one assistant per base URL: `POST /api/v1/chats_openai/{chat_id}/chat/completions` and
  `POST /api/v1/openai/{chat_id}/chat/completions`.
- A RAGFlow agent per base URL: `POST /api/v1/agents_openai/{agent_id}/chat/completions` (see `agents`).
- A generic OpenAI surface at `/v1` (base URL + key is all a client needs): `GET /v1/models` (one model per
  assistant), `GET /v1/models/{id}`, `POST /v1/chat/completions` (`model` = assistant id or name),
  `POST /v1/embeddings`.

Errors use real HTTP statuses with OpenAI's body plus RAGFlow's `code` (see `errors`).
"""

from __future__ import annotations

from litestar import Router

from service.api.openai.agents import agent_chat_completions
from service.api.openai.chat import chat_completions, ragflow_chat_completions
from service.api.openai.embeddings import create_embeddings
from service.api.openai.errors import EXCEPTION_HANDLERS, is_openai_path
from service.api.openai.errors import http_error as http_error
from service.api.openai.models import list_models, retrieve_model

router = Router(
    path="/",
    route_handlers=[
        ragflow_chat_completions,
        agent_chat_completions,
        chat_completions,
        list_models,
        retrieve_model,
        create_embeddings,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)

__all__ = ["http_error", "is_openai_path", "router"]
