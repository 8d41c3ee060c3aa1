"""Sampling settings out of range are refused where they are given, not sent upstream (issue #13 point 4)."""

from __future__ import annotations

import pytest

from tests.api.ragflow.chat_helpers import new_chat
from tests.api.ragflow.helpers import Client, call
from tests.conftest import Caller

OUT_OF_RANGE = [
    ("temperature", 1e100, "`temperature` must be a number between 0 and 2."),
    ("temperature", -1, "`temperature` must be a number between 0 and 2."),
    ("top_p", 1.5, "`top_p` must be a number between 0 and 1."),
    ("presence_penalty", "high", "`presence_penalty` must be a number between -2 and 2."),
    ("max_tokens", 0, "`max_tokens` must be a positive integer."),
    ("max_tokens", 2.5, "`max_tokens` must be a positive integer."),
]


@pytest.mark.parametrize(("key", "value", "message"), OUT_OF_RANGE)
async def test_a_chat_refuses_them(client: Client, caller: Caller, key: str, value: object, message: str) -> None:
    created = await call(client, caller, "POST", "/chats", json={"name": "c", "llm": {key: value}})
    assert (created["code"], created["message"]) == (101, message)
    chat = await new_chat(client, caller, "fine")
    updated = await call(client, caller, "PUT", f"/chats/{chat['id']}", json={"llm": {key: value}})
    assert (updated["code"], updated["message"]) == (101, message)


@pytest.mark.parametrize(("key", "value", "message"), OUT_OF_RANGE)
async def test_a_completion_refuses_them(client: Client, caller: Caller, key: str, value: object, message: str) -> None:
    chat = await new_chat(client, caller, "asked")
    body = {"chat_id": chat["id"], "messages": [{"role": "user", "content": "hi"}], "stream": False, key: value}
    assert await call(client, caller, "POST", "/chat/completions", json=body) == {"code": 101, "message": message}
    sessions = await call(client, caller, "GET", f"/chats/{chat['id']}/sessions")
    assert sessions["data"] == []  # refused before a session was made


async def test_values_in_range_are_kept(client: Client, caller: Caller) -> None:
    llm = {"temperature": 2, "top_p": 0, "presence_penalty": -2, "frequency_penalty": 2, "max_tokens": 1}
    chat = await new_chat(client, caller, "edges", llm=llm)
    assert {key: chat["llm_setting"][key] for key in llm} == llm
