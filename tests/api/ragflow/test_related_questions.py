"""Related search terms: `/sessions/related_questions` (SDK route) and `/chat/recommendation` (RESTful route)."""

from __future__ import annotations

import pytest

from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller
from tests.support.upstream import UpstreamProcess

ROUTES = [("/sessions/related_questions", {}), ("/chat/recommendation", {"message": "success"})]
# The echo upstream repeats the last user message, so numbered lines in the keywords come back as the answer.
KEYWORDS = "honey\n1. bee keeping\n2. hive health\nnot numbered"


@pytest.mark.parametrize(("path", "extra"), ROUTES)
async def test_numbered_lines_of_the_answer_are_the_terms(
    client: Client, caller: Caller, upstream: UpstreamProcess, path: str, extra: dict[str, str]
) -> None:
    body = {"question": KEYWORDS, "industry": "agriculture", "llm_id": "echo@echo"}
    assert await call(client, caller, "POST", path, json=body) == {
        "code": 0,
        **extra,
        "data": ["bee keeping", "hive health"],
    }
    sent = [body for body in upstream.received() if "Keywords: honey" in body["messages"][-1]["content"]]
    system, user = sent[-1]["messages"]
    assert "industry: agriculture" in system["content"]
    assert user["content"].startswith("\nKeywords: honey\n")


async def test_the_sdk_route_needs_a_question(client: Client, caller: Caller) -> None:
    for body in ({}, {"question": ""}, {"question": 3}):
        reply = await call(client, caller, "POST", "/sessions/related_questions", json=body)
        assert reply == {"code": 102, "message": "`question` is required."}


async def test_the_restful_route_needs_a_question(client: Client, caller: Caller) -> None:
    reply = await call(client, caller, "POST", "/chat/recommendation", json={})
    assert reply == {"code": 101, "message": "required argument are missing: question"}


@pytest.mark.parametrize(("path", "extra"), ROUTES)
async def test_the_offline_model_refuses_clearly(client: Client, caller: Caller, path: str, extra: object) -> None:
    reply = await call(client, caller, "POST", path, json={"question": "honey"})
    assert reply["code"] == 102
    assert reply["message"].startswith("Related questions need a generative model, and nectar-extractive@Builtin")


async def test_unknown_models_and_bad_fields(client: Client, caller: Caller) -> None:
    path = "/sessions/related_questions"
    unknown = await call(client, caller, "POST", path, json={"question": "x", "llm_id": "nope@Nowhere"})
    assert unknown == {"code": 102, "message": "`llm_id` nope@Nowhere doesn't exist"}
    bad = await call(client, caller, "POST", path, json={"question": "x", "industry": ["a"]})
    assert bad == {"code": 101, "message": "`industry` should be a string."}


async def test_the_key_is_checked(client: Client) -> None:
    for path, _ in ROUTES:
        assert (await client.post("/api/v1" + path, json={"question": "x"})).status_code == 401
