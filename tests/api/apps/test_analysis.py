"""The apps face's `/analysis` (the imooc course's shape, from the usage query) and message feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from service.db.models import Message
from service.runtime import Runtime
from tests.api.apps.helpers import Client, call, debug, echo_app, success
from tests.conftest import Caller

FIGURES = ("total_messages", "active_accounts", "avg_of_conversation_messages", "token_output_rate", "cost_consumption")
TRENDS = ("total_messages", "active_accounts", "avg_of_conversation_messages", "cost_consumption")


async def test_analysis_compares_the_last_seven_days_with_the_seven_before(
    client: Client, caller: Caller, runtime: Runtime
) -> None:
    app = await echo_app(client, caller)
    ids = [(await debug(client, caller, app["id"], f"question {i}"))["id"] for i in range(3)]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    async with runtime.sessions() as db:  # two turns yesterday, one ten days ago (today's are not counted yet)
        for message_id, moment in zip(
            ids, (today - timedelta(hours=12), today - timedelta(hours=11), today - timedelta(days=10)), strict=True
        ):
            await db.execute(update(Message).where(Message.id == message_id).values(created_at=moment))
        await db.commit()

    found = await success(client, caller, "GET", f"/{app['id']}/analysis")
    assert set(found) == {*FIGURES, *(f"{name}_trend" for name in TRENDS)}
    assert found["total_messages"] == {"data": 2, "pop": 1.0}  # 2 against 1: +100%
    assert found["active_accounts"]["data"] == 1 and found["avg_of_conversation_messages"]["data"] == 2.0
    assert found["token_output_rate"]["data"] > 0 and found["cost_consumption"] == {"data": 0.0, "pop": 0}
    trend = found["total_messages_trend"]
    assert trend["x_axis"][-1] == int((today - timedelta(days=1)).timestamp()) and len(trend["x_axis"]) == 7
    assert trend["y_axis"] == [0, 0, 0, 0, 0, 0, 2]


async def test_app_message_feedback_tags_the_history(client: Client, caller: Caller, other_caller: Caller) -> None:
    app = await echo_app(client, caller)
    message = await debug(client, caller, app["id"], "rate me")
    path = f"/{app['id']}/messages/{message['id']}/feedback"
    rated = await success(client, caller, "POST", path, json={"rating": "dislike", "content": "meh"})
    assert rated["rating"] == "dislike" and rated["content"] == "meh" and rated["id"] == message["id"]
    found = await client.get(
        f"/opsbee-llm/organizations/me/deployments/{app['id']}/histories",
        params={"search_query": 'tag_name:"feedback:dislike"'},
        headers=caller.headers,
    )
    assert [history["id"] for history in found.json()["histories"]] == [message["id"]]
    cleared = await success(client, caller, "POST", path, json={"rating": None})
    assert cleared["rating"] is None and cleared["content"] == ""

    for body in ({}, {"rating": "love"}, {"rating": "like", "content": 5}):
        assert (await call(client, caller, "POST", path, json=body))["code"] == "validate_error"
    assert (await call(client, caller, "POST", f"/{app['id']}/messages/{'0' * 32}/feedback", json={"rating": "like"}))[
        "code"
    ] == "not_found"
    assert (await call(client, other_caller, "POST", path, json={"rating": "like"}))["code"] == "not_found"
    assert (await call(client, other_caller, "GET", f"/{app['id']}/analysis"))["code"] == "not_found"
