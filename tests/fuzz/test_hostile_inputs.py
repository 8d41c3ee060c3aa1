"""Hostile input on every route of every family: nothing answers a 5xx, RAGFlow's code 100, or internals.

Each route is called with its path filled with objects the caller owns (so requests get past the lookups),
then with structurally hostile bodies (deep nesting, NaN, NUL, lone surrogates, wrong JSON types), with
every commonly used field set to odd values (null, huge and negative numbers, 1e999, NUL, over-long text,
wrong types), and with hostile query strings. Destructive methods run last.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from litestar.routes import HTTPRoute

from service.app import create_app
from service.settings import Settings
from tests.api.opsbee.helpers import history_body, new_tag, org_path
from tests.api.ragflow.agent_helpers import new_agent
from tests.api.ragflow.chat_helpers import new_chat, new_session, parsed_dataset
from tests.api.ragflow.helpers import call
from tests.conftest import Caller
from tests.domain.agents.dsls import kb_qa

FIELDS = (
    "name", "description", "avatar", "permission", "chunk_method", "parser_config", "embedding_model", "pagerank",
    "ids", "delete_all", "document_ids", "dataset_ids", "question", "messages", "content", "important_keywords",
    "questions", "tag_kwd", "available", "page", "page_size", "top_k", "similarity_threshold",
    "vector_similarity_weight", "keyword", "highlight", "metadata_condition", "meta_fields", "llm", "prompt",
    "llm_id", "temperature", "max_tokens", "stream", "session_id", "chat_id", "user_id", "model", "input",
    "input_text", "output_text", "tag_ids", "metadata", "color", "type", "tags", "from_tag", "to_tag", "selector",
    "updates", "deletes", "query", "offset", "limit", "key", "value", "config", "enabled", "fields",
    "deployment_id", "metrics", "concurrency", "dsl", "title", "thumbup", "feedback", "inputs", "outputs",
)  # fmt: skip
ODD_VALUES: tuple[Any, ...] = (
    None, 10**20, -1, 3.5, True, "", "a\u0000b", "\ud800", "x" * 70_000, [], {}, [None], {"": None},
)  # fmt: skip
RAW_BODIES = (
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000,
    b'{"name": NaN, "page": Infinity, "page_size": -Infinity}',
    b'{"name": 1e999, "page": 1e999}',
    b'{"name": "a\\u0000b", "question": "\\u0000"}',
    b'{"name": "\\ud800", "question": "x\\udfffy"}',
    b'{"\\ud800": 1, "a\\u0000": 2}',
    b"null",
    b"[]",
    b'"text"',
    b"12",
    b"not json",
    b"\xff\xfe\x00",
    b"{}",
)
HOSTILE_QUERIES = (
    "page=100000000000000000000&page_size=100000000000000000000",
    "page=-1&page_size=-1&offset=-1&limit=-1",
    "page=1e20&page_size=NaN&offset=1e999&limit=inf",
    "id=%00&name=%00&keywords=%00&orderby=%00&desc=%00&dataset_ids=%00",
    "id=%ED%A0%80&name=%ED%A0%80&keywords=%ED%A0%80&orderby=%ED%A0%80&q=%ED%A0%80",
    "create_time_from=abc&create_time_to=1e999&run=%00&suffix=%00&desc=maybe",
    "metadata_condition=%7B%22a%22%3A&tag_kwd=%00&document_ids=%00&question=%00",
    "start_time=abc&end_time=-1e999&tag_ids=%00&sort_by=%00&query=%5B",
)
# What a reply must never show: our own unexpected-error text, a traceback, SQL or driver internals.
LEAKS = re.compile(r"Internal error|Traceback|asyncpg|sqlalchemy|psycopg|SELECT |INSERT INTO|UPDATE \w+ SET", re.I)
DESTRUCTIVE = {"DELETE"}


@dataclass
class Objects:
    """Ids of one caller's objects, by path parameter name; `opsbee` overrides them on that face's paths (its
    `dataset_id` is an evaluation dataset)."""

    ids: dict[str, str]
    opsbee: dict[str, str] = dataclasses.field(default_factory=dict)

    def fill(self, path: str) -> str:
        ids = {**self.ids, **self.opsbee} if path.startswith("/opsbee-llm") else self.ids

        def value(match: re.Match[str]) -> str:
            return ids.get(match.group(1), "0" * 32)

        return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def evaluation_objects(client: httpx.AsyncClient, caller: Caller, deployment_id: str) -> dict[str, str]:
    """An evaluation dataset with an item, and a run of it through the deployment."""
    datasets = org_path(caller, "/datasets")
    dataset = (await client.post(datasets, json={"name": "fuzz", "type": "qa"}, headers=caller.headers)).json()
    item_body = {"inputs": [{"input_text": "bees?"}], "outputs": [{"output_text": "yes"}], "tags": [], "metadata": []}
    item = await client.post(f"{datasets}/{dataset['id']}/items", json=item_body, headers=caller.headers)
    run_body = {"deployment_id": deployment_id, "name": "fuzz"}
    run = await client.post(f"{datasets}/{dataset['id']}/runs", json=run_body, headers=caller.headers)
    assert run.status_code < 300, run.text
    return {"dataset_id": dataset["id"], "item_id": item.json()["id"], "run_id": run.json()["id"]}


async def owned_objects(client: httpx.AsyncClient, caller: Caller) -> Objects:
    dataset_id = await parsed_dataset(client, caller)
    docs = await call(client, caller, "GET", f"/datasets/{dataset_id}/documents")
    document_id = docs["data"]["docs"][0]["id"]
    chunks = await call(client, caller, "GET", f"/datasets/{dataset_id}/documents/{document_id}/chunks")
    chat = await new_chat(client, caller, "fuzz-chat", dataset_ids=[dataset_id])
    session = await new_session(client, caller, chat["id"], name="fuzz")
    body = {"chat_id": chat["id"], "session_id": session["id"], "messages": [{"role": "user", "content": "bees"}]}
    answer = await call(client, caller, "POST", "/chat/completions", json={**body, "stream": False})
    tag = await new_tag(client, caller, "fuzz")
    history_path = org_path(caller, f"/deployments/{chat['id']}/histories")
    history = (await client.post(history_path, json=history_body("q", "a"), headers=caller.headers)).json()
    agent = await new_agent(client, caller, kb_qa([dataset_id]))
    return Objects(
        {
            "agent_id": agent["id"],
            "dataset_id": dataset_id,
            "document_id": document_id,
            "chunk_id": chunks["data"]["chunks"][0]["id"],
            "chat_id": chat["id"],
            "app_id": chat["id"],
            "deployment_id": chat["id"],
            "session_id": session["id"],
            "thread_id": session["id"],
            "message_id": answer["data"]["id"],
            "history_id": history.get("id", "0" * 32),
            "organization_id": caller.tenant_id,
            "tag_id": tag["id"],
            "path": "anything",
        },
        await evaluation_objects(client, caller, chat["id"]),
    )


def routes() -> list[tuple[str, str]]:
    """(method, path template) of every route, destructive ones last."""
    app = create_app(Settings(database_url="postgresql+asyncpg://unused/unused"))  # only its routes are read
    pairs = [
        (method, route.path)
        for route in app.routes
        # The 404 fallback and the published OpenAPI document read no input.
        if isinstance(route, HTTPRoute) and "{unserved" not in route.path and not route.path.startswith("/schema")
        for method in sorted(route.methods - {"OPTIONS", "HEAD"})
    ]
    return sorted(pairs, key=lambda pair: (pair[0] in DESTRUCTIVE, pair[1], pair[0]))


def bodies() -> Iterator[bytes]:
    yield from RAW_BODIES
    for value in ODD_VALUES:
        yield json.dumps({field: value for field in FIELDS}).encode()
    for field in FIELDS:
        for value in (None, "a\u0000b", {"x": [1]}):
            yield json.dumps({field: value}).encode()


def problem(response: httpx.Response) -> str | None:
    """What is wrong with a reply to hostile input, if anything."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    text = response.text
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if isinstance(body, dict) and body.get("code") == 100:
        return f"code 100: {text[:200]}"
    if is_refusal(response.status_code, body) and LEAKS.search(text):
        return f"leaks internals: {text[:200]}"
    return None


def is_refusal(status: int, body: Any) -> bool:
    """An error reply in any family's shape (RAGFlow and apps refuse with HTTP 200 and a code)."""
    if status >= 400:
        return True
    return isinstance(body, dict) and ("error" in body or body.get("code") not in (0, None, "success"))


async def probe(client: httpx.AsyncClient, caller: Caller, method: str, url: str, **kwargs: Any) -> str | None:
    headers = {**caller.headers, **kwargs.pop("headers", {})}
    try:
        response = await client.request(method, url, headers=headers, **kwargs)
    except Exception as exc:  # the app raised out of the ASGI call: the worst kind of 500
        return f"raised {type(exc).__name__}: {exc}"[:300]
    found = problem(response)
    return f"{method} {url[:120]} -> {found}" if found else None


async def test_no_hostile_input_reaches_an_unhandled_error(client: httpx.AsyncClient, caller: Caller) -> None:
    objects = await owned_objects(client, caller)
    found: list[str] = []
    for method, template in routes():
        url = objects.fill(template)
        for query in HOSTILE_QUERIES:
            if issue := await probe(client, caller, method, f"{url}?{query}"):
                found.append(issue)
        if method in ("GET", "HEAD"):
            continue
        for raw in bodies():
            headers = {"Content-Type": "application/json"}
            if issue := await probe(client, caller, method, url, content=raw, headers=headers):
                found.append(f"{issue} [body {raw[:60]!r}]")
    assert not found, f"{len(found)} unhandled:\n" + "\n".join(sorted(set(found))[:80])
