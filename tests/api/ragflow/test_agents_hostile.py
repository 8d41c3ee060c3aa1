"""Hostile input on every agent route, with an agent and a session the caller owns (so requests get past the
lookups, which the general fuzz test cannot do for agents): never a 5xx, a code 100, or internals."""

from __future__ import annotations

import httpx

from tests.api.ragflow.agent_helpers import new_agent
from tests.api.ragflow.helpers import call
from tests.conftest import Caller
from tests.domain.agents.dsls import kb_qa
from tests.fuzz.test_hostile_inputs import HOSTILE_QUERIES, Objects, bodies, probe, routes


async def test_no_hostile_input_breaks_an_agent_route(client: httpx.AsyncClient, caller: Caller) -> None:
    agent = await new_agent(client, caller, kb_qa([]))
    session = (await call(client, caller, "POST", f"/agents/{agent['id']}/sessions"))["data"]
    objects = Objects({"agent_id": agent["id"], "session_id": session["id"]})
    found: list[str] = []
    for method, template in routes():
        if not template.startswith(("/api/v1/agents", "/api/v1/agents_openai")):
            continue
        url = objects.fill(template)
        for query in HOSTILE_QUERIES:
            if issue := await probe(client, caller, method, f"{url}?{query}"):
                found.append(issue)
        if method == "GET":
            continue
        for raw in bodies():
            headers = {"Content-Type": "application/json"}
            if issue := await probe(client, caller, method, url, content=raw, headers=headers):
                found.append(f"{issue} [body {raw[:60]!r}]")
    assert not found, f"{len(found)} unhandled:\n" + "\n".join(sorted(set(found))[:80])
