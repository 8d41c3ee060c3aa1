"""A parsed dataset and an assistant over it, shared by this package's tests; the fake upstream, emptied."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from service.runtime import Runtime
from tests.api.openai.helpers import Kb, make_assistant
from tests.api.ragflow.helpers import new_dataset, parse, upload
from tests.conftest import ECHO_PROVIDER, new_caller
from tests.support.upstream import UpstreamProcess

BEES = (
    b"Honey bees collect nectar from flowers in spring. The honey harvest happens in late summer, "
    b"when the combs are capped. Beekeepers wear white suits to stay calm around the hive."
)
RIVERS = b"The Danube flows through ten countries. It ends in the Black Sea after a long journey east."


@pytest.fixture(scope="module")
async def kb(client: httpx.AsyncClient, runtime: Runtime) -> Kb:
    caller = await new_caller(runtime)
    dataset = await new_dataset(client, caller, "openai-face")
    docs = await upload(client, caller, dataset["id"], ("bees.txt", BEES), ("rivers.txt", RIVERS))
    parsed = await parse(client, caller, dataset["id"], *[doc["id"] for doc in docs])
    assert all(doc["run"] == "DONE" and doc["chunk_count"] > 0 for doc in parsed), parsed
    assistant = await make_assistant(runtime, caller.tenant_id, "Bee helper", [dataset["id"]])
    return Kb(caller, dataset["id"], {doc["name"]: doc["id"] for doc in docs}, assistant.id, assistant.name)


@pytest.fixture
def provider(upstream: UpstreamProcess) -> Iterator[str]:
    """The provider name of the fake upstream (`echo@<it>`, `fail-500@<it>`), its request log emptied."""
    upstream.clear()
    yield ECHO_PROVIDER
