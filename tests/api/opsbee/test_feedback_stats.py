"""Feedback becomes searchable tags (RAGFlow's and OpsBee's routes), and a deployment's usage statistics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from service.db.models import Message
from service.runtime import Runtime
from tests.api.opsbee.helpers import Client, call, error, new_deployment, new_qa_history
from tests.api.ragflow import helpers as ragflow
from tests.api.ragflow.chat_helpers import new_chat, new_session
from tests.conftest import Caller


async def searched(client: Client, caller: Caller, deployment_id: str, query: str) -> list[str]:
    found = await call(client, caller, "GET", f"/deployments/{deployment_id}/histories", params={"search_query": query})
    return [history["id"] for history in found["histories"]]


async def ask(client: Client, caller: Caller, chat_id: str, session_id: str, question: str) -> str:
    body = {"question": question, "session_id": session_id, "stream": False}
    answer = await ragflow.call(client, caller, "POST", f"/chats/{chat_id}/completions", json=body)
    assert answer["code"] == 0, answer
    return str(answer["data"]["id"])


async def test_ragflow_thumbs_become_feedback_tags_that_search_and_export_see(client: Client, caller: Caller) -> None:
    chat = await new_chat(client, caller, "rated", llm_id="echo@echo")
    session = await new_session(client, caller, chat["id"], name="s")
    liked, disliked = [await ask(client, caller, chat["id"], session["id"], q) for q in ("good one", "bad one")]
    path = f"/chats/{chat['id']}/sessions/{session['id']}/messages"
    await ragflow.call(client, caller, "PUT", f"{path}/{liked}/feedback", json={"thumbup": True})
    await ragflow.call(
        client, caller, "PUT", f"{path}/{disliked}/feedback", json={"thumbup": False, "feedback": "too short"}
    )
    assert await searched(client, caller, chat["id"], 'tag_name:"feedback:dislike"') == [disliked]
    assert await searched(client, caller, chat["id"], 'tag_name:"feedback:like"') == [liked]
    assert await searched(client, caller, chat["id"], 'metadata_value:"too short"') == [disliked]

    # changing one's mind moves the tag; the comment goes with the rating it came with
    await ragflow.call(client, caller, "PUT", f"{path}/{disliked}/feedback", json={"thumbup": True})
    assert await searched(client, caller, chat["id"], 'tag_name:"feedback:dislike"') == []
    assert set(await searched(client, caller, chat["id"], 'tag_name:"feedback:like"')) == {liked, disliked}
    assert await searched(client, caller, chat["id"], "metadata_key:feedback") == []
    bad = await ragflow.call(client, caller, "PUT", f"{path}/{liked}/feedback", json={"thumbup": "yes"})
    assert bad["code"] == 101 and "thumbup" in bad["message"]

    export = await client.get(
        f"/opsbee-llm/organizations/me/deployments/{chat['id']}/histories/export?format=jsonl", headers=caller.headers
    )
    rows = [json.loads(line) for line in export.text.splitlines()]
    assert [(row["feedback"], row["tags"]) for row in rows] == [("like", ["feedback:like"])] * 2


async def test_opsbee_feedback_rates_and_clears_a_history(client: Client, caller: Caller, other_caller: Caller) -> None:
    deployment = await new_deployment(client, caller, "qa")
    history = await new_qa_history(client, caller, deployment["id"], "q", "a")
    path = f"/deployments/{deployment['id']}/histories/{history['id']}/feedback"
    rated = await call(client, caller, "PUT", path, json={"thumbup": False, "feedback": "wrong"})
    assert [tag["name"] for tag in rated["tags"]] == ["feedback:dislike"]
    assert [(m["key"], m["value"]) for m in rated["metadata"]] == [("feedback", "wrong")]
    cleared = await call(client, caller, "PUT", path, json={"thumbup": None})
    assert cleared["tags"] == [] and cleared["metadata"] == []
    for body, says in [({}, "thumbup"), ({"thumbup": 1}, "thumbup"), ({"thumbup": True, "feedback": 3}, "feedback")]:
        assert says in await error(client, caller, "PUT", path, 400, json=body)
    assert await error(client, other_caller, "PUT", path, 404, json={"thumbup": True})
    missing = f"/deployments/{deployment['id']}/histories/{'0' * 32}/feedback"
    assert await error(client, caller, "PUT", missing, 404, json={"thumbup": True})


async def stats(client: Client, caller: Caller, deployment_id: str, **params: str) -> dict[str, Any]:
    return await call(client, caller, "GET", f"/deployments/{deployment_id}/stats", params=params)  # type: ignore[no-any-return]


async def test_usage_stats_count_each_interval_and_the_whole_range(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    chat = await new_chat(client, caller, "used", llm_id="echo@echo")
    first = await new_session(client, caller, chat["id"], name="a", user_id="alice")
    second = await new_session(client, caller, chat["id"], name="b", user_id="bob")
    third = await new_session(client, caller, chat["id"], name="c", user_id="alice")
    ids = [
        await ask(client, caller, chat["id"], session["id"], f"q{i}")
        for i, session in enumerate((first, first, second, third))
    ]
    path = f"/chats/{chat['id']}/sessions/{first['id']}/messages"
    await ragflow.call(client, caller, "PUT", f"{path}/{ids[0]}/feedback", json={"thumbup": False})
    yesterday = datetime.now(UTC) - timedelta(days=1)
    async with runtime.sessions() as db:  # one turn a day earlier, failed
        await db.execute(update(Message).where(Message.id == ids[3]).values(created_at=yesterday, status="error"))
        await db.commit()

    found = await stats(client, caller, chat["id"], interval="day")
    assert found["interval"] == "day" and len(found["intervals"]) == 8  # 7 days back, the partial first included
    assert found["total"]["messages"] == 4 and found["total"]["threads"] == 3 and found["total"]["active_users"] == 2
    assert found["total"]["errors"] == 1 and found["total"]["error_rate"] == 0.25 and found["total"]["dislikes"] == 1
    assert found["total"]["input_tokens"] > 0 and found["total"]["latency_p50_ms"] > 0
    today, before = found["intervals"][-1], found["intervals"][-2]
    assert (today["messages"], today["threads"], today["active_users"]) == (3, 2, 2)
    assert (before["messages"], before["errors"], before["latency_p50_ms"]) == (1, 1, None)
    assert found["intervals"][0]["messages"] == 0

    hourly = await stats(
        client, caller, chat["id"], interval="hour", **{"from": (datetime.now(UTC) - timedelta(hours=2)).isoformat()}
    )
    assert sum(bucket["messages"] for bucket in hourly["intervals"]) == 3 and len(hourly["intervals"]) == 3


async def test_bad_stats_requests_are_refused(client: Client, caller: Caller, other_caller: Caller) -> None:
    deployment = await new_deployment(client, caller)
    path = f"/deployments/{deployment['id']}/stats"
    for query, says in [
        ("interval=week", "interval"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "before"),
        ("interval=hour&from=2000-01-01&to=2026-01-01", "at most"),
    ]:
        assert says in await error(client, caller, "GET", f"{path}?{query}", 400)
    offset = await call(client, caller, "GET", f"{path}?from=2026-01-01T00:00:00+09:00&to=2026-01-02T00:00:00%2B09:00")
    assert offset["from"] == "2026-01-01T00:00:00+09:00" and offset["total"]["messages"] == 0
    assert await error(client, other_caller, "GET", path, 404)
