"""`nectar eval`: the run started over HTTP by names, followed to its end, its summary printed, exit codes."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
from rich.console import Console

from service.app import create_app
from service.client.evaluation import EvalRequest, Refused, evaluate
from service.client.results import EXIT_FAILED, EXIT_OK
from service.runtime import Runtime
from tests.api.opsbee.run_helpers import eval_dataset
from tests.api.ragflow.chat_helpers import new_chat
from tests.conftest import ASGIApp, Caller


@pytest.fixture
async def opsbee(runtime: Runtime, caller: Caller) -> AsyncIterator[httpx.AsyncClient]:
    """What `nectar eval` talks to: the caller's organization, with its key."""
    transport = httpx.ASGITransport(app=cast(ASGIApp, create_app(runtime=runtime)))
    base = "http://nectar.test/opsbee-llm/organizations/me"
    async with httpx.AsyncClient(transport=transport, base_url=base, headers=caller.headers, timeout=60) as http:
        yield http


def consoles() -> tuple[Console, io.StringIO]:
    text = io.StringIO()
    return Console(file=text, width=100), text


async def test_eval_runs_a_dataset_by_name_and_prints_the_summary(
    client: httpx.AsyncClient, caller: Caller, opsbee: httpx.AsyncClient
) -> None:
    items = [([{"input_text": "hi"}], [{"output_text": "echo: hi"}]), ([{"input_text": "yo"}], [{"output_text": "no"}])]
    await eval_dataset(client, caller, items, name="cli-set")
    await new_chat(client, caller, "cli-echo", llm_id="echo@echo")
    out, text = consoles()
    err, _ = consoles()
    request = EvalRequest("cli-set", "cli-echo", ["exact_match", "f1"], name="from the cli", poll_seconds=0.05)
    assert await evaluate(opsbee, request, out, err) == EXIT_OK
    shown = text.getvalue()
    assert "run from the cli: done" in shown and "exact_match" in shown and "0.5" in shown
    assert "2 answered, 0 failed, 0 not run" in shown


async def test_eval_exit_codes_say_what_went_wrong(
    client: httpx.AsyncClient, caller: Caller, opsbee: httpx.AsyncClient
) -> None:
    await eval_dataset(client, caller, [([{"thread_name": "nothing asked"}], [{"output_text": "x"}])], name="broken")
    await new_chat(client, caller, "cli-echo", llm_id="echo@echo")
    out, text = consoles()
    err, _ = consoles()
    assert await evaluate(opsbee, EvalRequest("broken", "cli-echo", poll_seconds=0.05), out, err) == EXIT_FAILED
    assert "no input text" in text.getvalue()
    with pytest.raises(Refused, match="no dataset is called"):
        await evaluate(opsbee, EvalRequest("missing", "cli-echo"), out, err)
    with pytest.raises(Refused, match="unknown metric"):
        await evaluate(opsbee, EvalRequest("broken", "cli-echo", ["bleu"]), out, err)
