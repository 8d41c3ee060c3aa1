"""`GET /api/v1/system/healthz`: the health report, 200 when every part is ok, 500 otherwise."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from service.deps import HealthCheck


@get(["/api/v1/system/healthz", "/v1/system/healthz"])
async def healthz(health: NamedDependency[HealthCheck]) -> Response[dict[str, str]]:
    report = await health()
    return Response(report, status_code=200 if report["status"] == "ok" else 500)
