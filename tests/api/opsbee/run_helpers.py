"""Helpers of the evaluation-run tests: datasets with items, runs, waiting for a run to end."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from service.db.models import EvalItem, new_id, utcnow
from service.domain import evaluation
from service.runtime import Runtime
from tests.api.opsbee.helpers import Client, call
from tests.conftest import Caller

FINAL = ("done", "cancelled", "failed")


async def eval_dataset(
    client: Client, caller: Caller, items: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]], name: str = "eval"
) -> str:
    """A dataset holding `(inputs, outputs)` items, in that order."""
    dataset = await call(client, caller, "POST", "/datasets", json={"name": name, "type": "qa"})
    for inputs, outputs in items:
        body = {"inputs": inputs, "outputs": outputs, "tags": [], "metadata": []}
        await call(client, caller, "POST", f"/datasets/{dataset['id']}/items", json=body)
    return str(dataset["id"])


async def many_items(runtime: Runtime, caller: Caller, count: int, name: str = "many") -> str:
    """A dataset of `count` items (written through the domain: an HTTP call each would be slow)."""
    start = utcnow()
    async with runtime.sessions() as db:
        dataset = await evaluation.create_dataset(db, caller.tenant_id, name, "qa", "")
        rows = [
            {
                "id": new_id(),
                "tenant_id": caller.tenant_id,
                "dataset_id": dataset.id,
                "inputs": [{"input_text": f"question {i}"}],
                "outputs": [{"output_text": f"echo: question {i}"}],
                "tags": [],
                "metadata_": [],
                "created_at": start + timedelta(microseconds=i),  # item order is creation order
            }
            for i in range(count)
        ]
        await db.execute(insert(EvalItem), rows)
        await db.commit()
        return dataset.id


async def start_run(client: Client, caller: Caller, dataset_id: str, deployment_id: str, **body: Any) -> dict[str, Any]:
    run: dict[str, Any] = await call(
        client, caller, "POST", f"/datasets/{dataset_id}/runs", json={"deployment_id": deployment_id, **body}
    )
    return run


async def wait_run(client: Client, caller: Caller, dataset_id: str, run_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = await call(client, caller, "GET", f"/datasets/{dataset_id}/runs/{run_id}")
        if run["status"] in FINAL:
            return run
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)
