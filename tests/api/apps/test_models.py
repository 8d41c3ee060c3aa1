"""An app's `model_config.llm_id` is decided by the domain's one model chooser and stored in its canonical
spelling, on create and on a draft update alike."""

from __future__ import annotations

import pytest

from tests.api.apps.helpers import Client, new_app, success
from tests.conftest import Caller

CANONICAL = "nectar-extractive@Builtin"


@pytest.mark.parametrize("typed", ["nectar-extractive@builtin", "nectar-extractive"])
async def test_the_stored_model_is_the_canonical_name(client: Client, caller: Caller, typed: str) -> None:
    created = await new_app(client, caller, "typed", model_config={"llm_id": typed})
    assert created["drafted_app_config"]["model_config"]["llm_id"] == CANONICAL
    other = await new_app(client, caller, "changed", model_config={"llm_id": "echo@echo"})
    await success(client, caller, "POST", f"/{other['id']}/config", json={"model_config": {"llm_id": typed}})
    shown = await success(client, caller, "GET", f"/{other['id']}")
    assert shown["drafted_app_config"]["model_config"]["llm_id"] == CANONICAL
