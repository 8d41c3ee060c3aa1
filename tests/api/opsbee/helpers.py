"""Helpers of the OpsBee face's tests: calls under the caller's organization, and objects made through them."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.conftest import Caller

Client = httpx.AsyncClient


def org_path(caller: Caller, path: str, org: str | None = None) -> str:
    return f"/opsbee-llm/organizations/{org or caller.tenant_id}{path}"


def basic(caller: Caller, user: str = "user-1234567890123") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{caller.key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def call(
    client: Client, caller: Caller, method: str, path: str, status: int = 200, org: str | None = None, **kwargs: Any
) -> Any:
    """The JSON body of a call that must answer `status` (every answer of this face is JSON)."""
    kwargs.setdefault("headers", caller.headers)
    response = await client.request(method, org_path(caller, path, org), **kwargs)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


async def error(client: Client, caller: Caller, method: str, path: str, status: int, **kwargs: Any) -> str:
    """The `error_description` of a call that must fail with `status`."""
    body = await call(client, caller, method, path, status, **kwargs)
    assert set(body) == {"error", "error_description"}, body
    assert isinstance(body["error"], str) and body["error"], body
    return str(body["error_description"])


async def new_deployment(client: Client, caller: Caller, kind: str = "chat", name: str | None = None) -> dict[str, Any]:
    body = {"name": name or f"{kind}-deployment", "type": kind, "description": ""}
    return await call(client, caller, "POST", "/deployments", json=body)  # type: ignore[no-any-return]


async def new_thread(client: Client, caller: Caller, deployment_id: str, name: str = "thread") -> dict[str, Any]:
    body = {"name": name, "description": f"{name} description"}
    return await call(client, caller, "POST", f"/deployments/{deployment_id}/threads", json=body)  # type: ignore[no-any-return]


async def new_tag(client: Client, caller: Caller, name: str, color: str = "grey") -> dict[str, Any]:
    body = {"name": name, "description": f"{name} tag", "color": color}
    return await call(client, caller, "POST", "/tags", json=body)  # type: ignore[no-any-return]


def history_body(question: str, answer: str, **fields: Any) -> dict[str, Any]:
    """What the SDK sends: counts 0, empty tag_ids and metadata unless given."""
    body = {"input_text": question, "output_text": answer, "input_token_count": 0, "output_token_count": 0}
    return {**body, "tag_ids": [], "metadata": [], **fields}


async def new_chat_history(
    client: Client, caller: Caller, deployment_id: str, thread_id: str, question: str, answer: str, **fields: Any
) -> dict[str, Any]:
    path = f"/deployments/{deployment_id}/threads/{thread_id}/histories"
    return await call(client, caller, "POST", path, json=history_body(question, answer, **fields))  # type: ignore[no-any-return]


async def new_qa_history(
    client: Client, caller: Caller, deployment_id: str, question: str, answer: str, **fields: Any
) -> dict[str, Any]:
    path = f"/deployments/{deployment_id}/qa_histories"
    return await call(client, caller, "POST", path, json=history_body(question, answer, **fields))  # type: ignore[no-any-return]
