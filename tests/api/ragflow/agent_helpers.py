"""Agents over HTTP: make one from a DSL, read a native event stream."""

from __future__ import annotations

import json
from typing import Any

from tests.api.ragflow.helpers import Client, call, new_dataset, parse, upload
from tests.conftest import Caller

BEES = (
    "Honeybees keep their hive at about 35 degrees Celsius. They fan their wings to cool it in summer.\n\n"
    "Nectar is turned into honey by evaporation and enzymes."
)


async def bees_dataset(client: Client, caller: Caller) -> str:
    """A dataset holding one parsed document about bees."""
    dataset = await new_dataset(client, caller, "bees")
    [doc] = await upload(client, caller, dataset["id"], ("bees.txt", BEES.encode()))
    await parse(client, caller, dataset["id"], doc["id"])
    return str(dataset["id"])


async def new_agent(client: Client, caller: Caller, dsl: dict[str, Any], title: str = "bees agent") -> dict[str, Any]:
    body = await call(client, caller, "POST", "/agents", json={"title": title, "dsl": dsl})
    assert body["code"] == 0, body
    return body["data"]  # type: ignore[no-any-return]


def events_of(text: str) -> list[Any]:
    """Each `data:` frame of a stream, parsed; `[DONE]` kept as the string."""
    frames = [block.removeprefix("data:") for block in text.split("\n\n") if block.strip()]
    return [frame if frame == "[DONE]" else json.loads(frame) for frame in frames]
