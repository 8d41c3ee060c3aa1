"""The health report's operation in the published OpenAPI document (see service/api/openapi.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.api.openapi import Family, Op
from service.api.system import healthz


class Health(BaseModel):
    """Each part `ok` or `nok: <why>`; `status` is ok only when every part is (HTTP 200, else 500)."""

    status: str = Field(description="ok | nok")
    db: str
    pgvector: str
    queue: str
    embedder: str


SYSTEM = Family(
    name="system",
    operations={healthz: Op(Health, public=True, description="No API key needed: for load balancers and probes.")},
    error=Health,
    error_statuses={500: "Some part is not ok (the same report)"},
)
