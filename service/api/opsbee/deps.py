"""The OpsBee face's caller: Bearer or Basic credentials, and the organization named in the path."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.tenants import authenticate, parse_credentials
from service.errors import NotFound

ME = "me"


async def provide_tenant(request: Request[object, object, State], db: NamedDependency[AsyncSession]) -> str:
    return await authenticate(db, parse_credentials(request.headers.get("authorization")))


def provide_org(organization_id: FromPath[str], tenant: NamedDependency[str]) -> str:
    """The caller's tenant id, when the path names it (or `me`); any other organization does not exist."""
    if organization_id not in (tenant, ME):
        raise NotFound(f"organization {organization_id} not found")
    return tenant


DEPENDENCIES = {
    "tenant": Provide(provide_tenant),
    "org": Provide(provide_org, sync_to_thread=False),
}
