"""Paths under /api/v1 that no Nectar route serves.

RAGFlow checks the key before anything else on every route it has, so a RAGFlow client calling one of its routes
that Nectar does not serve (knowledge graphs, memories, search apps, …) gets 401 without a valid key, and only
then 404. A path outside RAGFlow's resource families is a plain 404 without a key, as RAGFlow's router answers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, route
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.envelope import not_found
from service.domain.tenants import authenticate, parse_authorization

# The first path segment of RAGFlow v0.27's key-protected routes (api/apps/sdk and api/apps/restful_apis).
RAGFLOW_RESOURCES = frozenset(
    {
        "agents",
        "agents_openai",
        "chat",
        "chats",
        "chats_openai",
        "connectors",
        "dataset",
        "datasets",
        "dify",
        "documents",
        "file",
        "files",
        "langfuse",
        "mcp",
        "memories",
        "messages",
        "models",
        "plugin",
        "providers",
        "retrieval",
        "searches",
        "sequence2txt",
        "sessions",
        "system",
        "tasks",
        "tenants",
        "tts",
    }
)


def belongs_to_ragflow(path: str) -> bool:
    return path.strip("/").split("/", 1)[0] in RAGFLOW_RESOURCES


# Litestar's router does not backtrack: once a path enters a branch with parameters (`/datasets/{id}/…`) a miss there
# is final, so each such branch carries its own catch-all.
UNSERVED_PATHS = [
    "/{unserved:path}",
    "/datasets/{dataset_id:str}/{unserved:path}",
    "/datasets/{dataset_id:str}/documents/{document_id:str}/{unserved:path}",
    "/chats/{chat_id:str}/{unserved:path}",
    "/chats/{chat_id:str}/sessions/{session_id:str}/{unserved:path}",
    "/documents/{document_id:str}/{unserved:path}",
    "/dataset/{dataset_id:str}/{unserved:path}",  # the v0.13 draft's singular paths
    "/dataset/{dataset_id:str}/document/{document_id:str}/{unserved:path}",
    "/chat/{chat_id:str}/{unserved:path}",
    "/chat/{chat_id:str}/session/{session_id:str}/{unserved:path}",
]


@route(
    UNSERVED_PATHS,
    http_method=["GET", "POST", "PUT", "PATCH", "DELETE"],
    status_code=404,
    include_in_schema=False,
)
async def unserved_route(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    if belongs_to_ragflow(request.url.path.removeprefix("/api/v1")):
        await authenticate(db, parse_authorization(request.headers.get("authorization")))
    return not_found(request)
