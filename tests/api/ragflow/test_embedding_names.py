"""A dataset's embedding model is stored in its canonical spelling, whatever case the client gave the provider."""

from __future__ import annotations

from tests.api.ragflow.helpers import Client, call, new_dataset
from tests.conftest import Caller

CANONICAL = "all-MiniLM-L6-v2@Builtin"


async def test_any_case_of_the_provider_is_stored_canonically(client: Client, caller: Caller) -> None:
    created = await new_dataset(client, caller, "lower", embedding_model="all-MiniLM-L6-v2@builtin")
    assert created["embedding_model"] == CANONICAL
    changed = await call(
        client, caller, "PUT", f"/datasets/{created['id']}", json={"embedding_model": "all-MiniLM-L6-v2@BUILTIN"}
    )
    assert changed["code"] == 0 and changed["data"]["embedding_model"] == CANONICAL


async def test_unknown_models_are_still_refused(client: Client, caller: Caller) -> None:
    refused = await call(client, caller, "POST", "/datasets", json={"name": "x", "embedding_model": "bge@builtin"})
    assert refused == {"code": 102, "message": "Model bge@builtin not found for model embedding"}
