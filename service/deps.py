"""Litestar dependencies shared by every API family."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.tenants import authenticate, parse_authorization
from service.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    runtime: Runtime = state.runtime
    async with runtime.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def provide_tenant(request: Request[object, object, State], db: NamedDependency[AsyncSession]) -> str:
    return await authenticate(db, parse_authorization(request.headers.get("authorization")))


DEPENDENCIES = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "db": Provide(provide_db),
    "tenant": Provide(provide_tenant),
}
