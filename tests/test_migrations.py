"""`alembic upgrade head` on an empty database, and no drift between the models and the migrations."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from service.db.engine import make_engine, upgrade
from service.db.migrations.env_filters import include_object
from service.db.models import Base
from tests.conftest import create_database
from workers.queue import asyncpg_dsn


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_object": include_object, "compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_head_on_empty_database_matches_models(server_url: str) -> None:
    url = await create_database(server_url)
    await upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname='public'")))
            assert {
                "tenants",
                "api_keys",
                "datasets",
                "documents",
                "chunks",
                "assistants",
                "messages",
                "pgqueuer",
            } <= tables
            extensions = set(await connection.scalars(text("SELECT extname FROM pg_extension")))
            assert {"vector", "pg_trgm"} <= extensions
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
    await upgrade(url)  # a second run is a no-op, not an error


async def test_hnsw_index_serves_vector_search(server_url: str) -> None:
    url = await create_database(server_url)
    await upgrade(url)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("SET enable_seqscan = off")
        rows = await connection.fetch(
            "EXPLAIN SELECT id FROM chunks WHERE embedding_model = 'all-MiniLM-L6-v2@Builtin' "
            "ORDER BY embedding::vector(384) <=> CAST($1 AS vector(384)) LIMIT 10",
            "[" + ",".join(["0.1"] * 384) + "]",
        )
        plan = "\n".join(row[0] for row in rows)
        assert "ix_chunks_embedding_minilm" in plan, plan
    finally:
        await connection.close()
