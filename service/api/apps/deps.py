"""The app a `/apps/{app_id}/...` path names, looked up once per request as a controller-level dependency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import apps

if TYPE_CHECKING:
    from service.db.models import Assistant


async def provide_app(
    db: NamedDependency[AsyncSession], tenant: NamedDependency[str], app_id: FromPath[str]
) -> Assistant:
    """The caller's app (depends on `tenant`, so a missing key is 401 before an unknown app is not_found)."""
    return await apps.get_app(db, tenant, app_id)


APP = {"app": Provide(provide_app)}
