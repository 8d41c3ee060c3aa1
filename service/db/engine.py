"""The async engine, sessions, migrations and the startup self-test."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


class PgvectorBroken(RuntimeError):
    pass


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The same database as a plain asyncpg DSN (what pgqueuer and raw connections take)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)  # type: ignore[arg-type]


async def upgrade(url: str, revision: str = "head") -> None:
    """Alembic's env runs its own event loop, so it gets a thread of its own."""
    await asyncio.to_thread(upgrade_sync, url, revision)


async def check_pgvector(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await connection.execute(text("SELECT '[1]'::vector <=> '[1]'::vector"))
            await connection.commit()
    except Exception as exc:
        raise PgvectorBroken(
            f"pgvector does not work on this database ({exc}); install the extension or unset DATABASE_URL "
            "to use the embedded PostgreSQL"
        ) from exc
