"""The one history controller behind both kinds: each subclass serves every inherited handler, and the objects a
path names are looked up once per request however many dependencies ask for them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from service.api.opsbee import histories
from service.app import create_app
from service.domain import threads
from service.domain.deployments import require_kind
from service.settings import Settings
from tests.api.opsbee.helpers import Client, call, history_body, new_chat_history, new_deployment, new_thread
from tests.conftest import Caller

SHARED = {
    ("/", "POST"),
    ("/{history_id:str}", "GET"),
    ("/{history_id:str}", "PATCH"),
    ("/{history_id:str}", "DELETE"),
    ("/{history_id:str}/metadata", "POST"),
    ("/{history_id:str}/metadata/{metadata_id:str}", "PATCH"),
    ("/{history_id:str}/metadata/{metadata_id:str}", "DELETE"),
}


def routes_under(prefix: str) -> set[tuple[str, str]]:
    app = create_app(Settings())  # routes only: its lifespan never runs
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if route.path.startswith(prefix):
            rest = route.path[len(prefix) :] or "/"
            found.update((rest, method) for method in getattr(route, "methods", ()) if method != "OPTIONS")
    return found


@pytest.mark.parametrize(
    ("controller", "own"),
    [(histories.ChatHistoryController, set()), (histories.QaHistoryController, {("/", "GET")})],
)
def test_each_kind_serves_the_shared_handlers(
    controller: type[histories.HistoryController], own: set[tuple[str, str]]
) -> None:
    prefix = "/opsbee-llm" + controller.path
    shared_paths = {path for path, _ in SHARED}
    assert {row for row in routes_under(prefix) if row[0] in shared_paths} == SHARED | own


async def test_a_chat_history_path_is_looked_up_once(
    client: Client, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = await new_deployment(client, caller, "chat")
    thread = await new_thread(client, caller, deployment["id"])
    created = await new_chat_history(client, caller, deployment["id"], thread["id"], "q", "a")
    calls: Counter[str] = Counter()

    def counted(name: str, function: Any) -> Any:
        async def wrapper(*args: Any) -> Any:
            calls[name] += 1
            return await function(*args)

        return wrapper

    monkeypatch.setattr("service.api.opsbee.histories.require_kind", counted("deployment", require_kind))
    monkeypatch.setattr(threads, "get_thread", counted("thread", threads.get_thread))
    path = f"/deployments/{deployment['id']}/threads/{thread['id']}/histories/{created['id']}"
    await call(client, caller, "PATCH", path, json=history_body("q2", "a2"))
    assert calls == {"deployment": 1, "thread": 1}
