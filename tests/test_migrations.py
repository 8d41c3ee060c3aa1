"""`alembic upgrade head` on an empty database, and no drift between the models and the migrations."""

from __future__ import annotations

import hashlib

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from service.db.engine import asyncpg_dsn, make_engine, upgrade
from service.db.migrations.env_filters import include_object
from service.db.models import Base
from tests.conftest import create_database


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


async def test_0007_copies_each_tag_and_metadata_row_its_messages_deployment(server_url: str) -> None:
    """Rows written before 0007 get the deployment of their message, and the md5 digests of key and value."""
    url = await create_database(server_url)
    await upgrade(url, "0006")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("""
            INSERT INTO tenants (id, name) VALUES ('t1', 'org');
            INSERT INTO assistants (id, tenant_id, name, description, icon, kind)
                VALUES ('a1', 't1', 'one', '', '', 'chat'), ('a2', 't1', 'two', '', '', 'chat');
            INSERT INTO messages (id, tenant_id, assistant_id, channel, input, output, reference, model,
                                  prompt_tokens, completion_tokens, latency_ms, status, error, feedback)
                SELECT 'm' || a, 't1', 'a' || a, 'opsbee', 'q', 'a', '{}', '', 1, 1, 0, 'ok', '', ''
                FROM generate_series(1, 2) AS a;
            INSERT INTO tags (id, tenant_id, name, description, color) VALUES ('g1', 't1', 'urgent', '', 'red');
            INSERT INTO message_tags (message_id, tag_id, tenant_id) VALUES ('m1', 'g1', 't1'), ('m2', 'g1', 't1');
            INSERT INTO message_metadata (id, tenant_id, message_id, key, value)
                VALUES ('d1', 't1', 'm1', 'source', 'wéb'), ('d2', 't1', 'm2', 'source', 'mail');
        """)
        await upgrade(url)
        tagged = await connection.fetch("SELECT message_id, assistant_id FROM message_tags ORDER BY message_id")
        assert [tuple(row) for row in tagged] == [("m1", "a1"), ("m2", "a2")]
        described = await connection.fetch("SELECT assistant_id, key_md5, value_md5 FROM message_metadata ORDER BY id")
        digest = {text: hashlib.md5(text.encode()).hexdigest() for text in ("source", "wéb", "mail")}
        assert [tuple(row) for row in described] == [
            ("a1", digest["source"], digest["wéb"]),
            ("a2", digest["source"], digest["mail"]),
        ]
    finally:
        await connection.close()


async def test_0008_brings_embedding_names_to_the_canonical_spelling(server_url: str) -> None:
    """Rows stored as typed (`…@builtin`) before 0008 are renamed, so the HNSW index covers their chunks."""
    url = await create_database(server_url)
    await upgrade(url, "0007")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("""
            INSERT INTO tenants (id, name) VALUES ('t1', 'org');
            INSERT INTO datasets (id, tenant_id, name, avatar, description, embedding_model, permission, chunk_method,
                                  parser_config, pagerank, language, similarity_threshold, vector_similarity_weight)
                VALUES ('d1', 't1', 'typed', '', '', 'all-MiniLM-L6-v2@builtin', 'me', 'naive', '{}', 0, 'English',
                        0.2, 0.3),
                       ('d2', 't1', 'other', '', '', 'bge-m3@Elsewhere', 'me', 'naive', '{}', 0, 'English', 0.2, 0.3);
        """)
        await upgrade(url)
        names = await connection.fetch("SELECT id, embedding_model FROM datasets ORDER BY id")
        assert [tuple(row) for row in names] == [("d1", "all-MiniLM-L6-v2@Builtin"), ("d2", "bge-m3@Elsewhere")]
    finally:
        await connection.close()
