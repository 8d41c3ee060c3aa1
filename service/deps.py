"""Litestar dependencies shared by every API family: what a handler may ask for by name.

`db` (the request's transaction), `tenant` (the caller), and the services built once per process:
`settings`, `models` (the chat-model registry), `embedder` (model name → embedder), `answerer`,
`sessions` (a unit of work outside the request's transaction, e.g. after a stream), `health` and `status`.
Handlers name what they use; none of them sees the `Runtime` that builds these.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.answering import Answerer
from service.domain.tenants import authenticate, parse_authorization
from service.health import check_health, system_status
from service.providers.base import EmbedderFor
from service.providers.llm import ModelRegistry
from service.runtime import Runtime
from service.settings import Settings

HealthCheck = Callable[[], Awaitable[dict[str, str]]]
StatusCheck = Callable[[], Awaitable[dict[str, Any]]]


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    async with _runtime(state).sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def provide_tenant(request: Request[object, object, State], db: NamedDependency[AsyncSession]) -> str:
    return await authenticate(db, parse_authorization(request.headers.get("authorization")))


def provide_settings(state: State) -> Settings:
    return _runtime(state).settings


def provide_models(state: State) -> ModelRegistry:
    return _runtime(state).models


def provide_embedder(state: State) -> EmbedderFor:
    return _runtime(state).embedder


def provide_answerer(state: State) -> Answerer:
    return _runtime(state).answerer()


def provide_sessions(state: State) -> async_sessionmaker[AsyncSession]:
    return _runtime(state).sessions


def provide_health(state: State) -> HealthCheck:
    runtime = _runtime(state)
    return lambda: check_health(runtime)


def provide_status(state: State) -> StatusCheck:
    runtime = _runtime(state)
    return lambda: system_status(runtime)


def _sync(provider: Callable[..., Any]) -> Provide:
    return Provide(provider, sync_to_thread=False)


DEPENDENCIES = {
    "db": Provide(provide_db),
    "tenant": Provide(provide_tenant),
    "settings": _sync(provide_settings),
    "models": _sync(provide_models),
    "embedder": _sync(provide_embedder),
    "answerer": _sync(provide_answerer),
    "sessions": _sync(provide_sessions),
    "health": _sync(provide_health),
    "status": _sync(provide_status),
}
