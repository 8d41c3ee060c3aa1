"""Migration 0015: chunks written before it get their BM25 columns and are counted in the statistics once;
the triggers it adds keep counting after it; and it downgrades cleanly."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from service.db.engine import alembic_config, asyncpg_dsn, upgrade
from tests.conftest import create_database

SEED = """
INSERT INTO tenants (id, name) VALUES ('t1', 'org');
INSERT INTO datasets (id, tenant_id, name, avatar, description, embedding_model, permission, chunk_method,
                      parser_config, pagerank, language, similarity_threshold, vector_similarity_weight)
    SELECT 'd' || n, 't1', 'kb' || n, '', '', 'm', 'me', 'naive', '{}', 0, 'English', 0.2, 0.3
    FROM generate_series(1, 2) AS n;
INSERT INTO documents (id, tenant_id, dataset_id, name, suffix, doc_type, size, content_sha256, chunk_method,
                       parser_config, meta_fields, enabled, run, progress, progress_msg, process_duration,
                       chunk_count, token_count, created_by)
    SELECT 'doc' || n, 't1', 'd' || n, 'a.txt', 'txt', 'doc', 1, '', 'naive', '{}', '{}', true, 'DONE', 1, '', 0,
           0, 0, 't1'
    FROM generate_series(1, 2) AS n;
INSERT INTO chunks (id, tenant_id, dataset_id, document_id, ordinal, content, important_keywords, questions,
                    available, positions, token_count, embedding_model, embedding, tsv)
    SELECT 'c' || n, 't1', CASE WHEN n < 3 THEN 'd1' ELSE 'd2' END, CASE WHEN n < 3 THEN 'doc1' ELSE 'doc2' END,
           n, t, '{}', '{}', true, '[]', 1, 'm', '[1]', to_tsvector('english', t)
    FROM (VALUES (1, 'bees bees honey'), (2, 'honey tea'), (3, 'rust iron iron iron')) AS v(n, t);
"""


async def test_0015_backfills_existing_chunks_and_keeps_counting(server_url: str) -> None:
    url = await create_database(server_url)
    await upgrade(url, "0014")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(SEED)
        await upgrade(url)
        columns = await connection.fetch("SELECT id, keyword_length, keyword_repeats FROM chunks ORDER BY id")
        assert [tuple(row) for row in columns] == [("c1", 3, '{"bee": 2}'), ("c2", 2, "{}"), ("c3", 4, '{"iron": 3}')]
        corpus = await connection.fetch("SELECT dataset_id, chunks, words FROM keyword_corpus ORDER BY 1")
        assert [tuple(row) for row in corpus] == [("d1", 2, 5), ("d2", 1, 4)]
        terms = await connection.fetch("SELECT dataset_id, term, chunks FROM keyword_terms ORDER BY 1, 2")
        assert [tuple(row) for row in terms] == [
            ("d1", "bee", 1), ("d1", "honey", 2), ("d1", "tea", 1), ("d2", "iron", 1), ("d2", "rust", 1),
        ]  # fmt: skip

        await connection.execute("DELETE FROM chunks WHERE id = 'c2'")  # the triggers take over
        corpus = await connection.fetch("SELECT dataset_id, chunks, words FROM keyword_corpus ORDER BY 1")
        assert [tuple(row) for row in corpus] == [("d1", 1, 3), ("d2", 1, 4)]
        assert (
            await connection.fetchval("SELECT chunks FROM keyword_terms WHERE dataset_id = 'd1' AND term = 'honey'")
            == 1
        )
        assert await connection.fetchval("SELECT count(*) FROM keyword_terms WHERE term = 'tea'") == 0

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0014")  # type: ignore[arg-type]
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_class WHERE relname IN ('keyword_corpus', 'keyword_terms', 'keyword_deltas')"
        )
        assert left == 0
        assert await connection.fetchval("SELECT count(*) FROM chunks") == 2
    finally:
        await connection.close()
