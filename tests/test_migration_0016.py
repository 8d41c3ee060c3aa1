"""Migration 0016: messages written before it are rolled up once (visible ones with an assistant only), its
triggers keep the rollups after it, and it downgrades cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
from alembic import command

from service.db.engine import alembic_config, asyncpg_dsn, upgrade
from tests.conftest import create_database

# Three visible turns of a1 in the 10:00 hour (two in thread s1, one stateless), one at 11:00 soft-deleted, one
# of no assistant (chat-less), and one of a2.
SEED = """
INSERT INTO tenants (id, name) VALUES ('t1', 'org');
INSERT INTO assistants (id, tenant_id, name, description, icon, kind)
    VALUES ('a1', 't1', 'one', '', '', 'chat'), ('a2', 't1', 'two', '', '', 'chat');
INSERT INTO chat_sessions (id, tenant_id, assistant_id, name, user_id, summary, description)
    VALUES ('s1', 't1', 'a1', 's', 'u', '', '');
INSERT INTO messages (id, tenant_id, assistant_id, session_id, channel, input, output, reference, model,
                      prompt_tokens, completion_tokens, latency_ms, status, error, feedback, thumbup, deleted_at,
                      created_at)
VALUES ('m1', 't1', 'a1', 's1', 'ragflow', 'q', 'a', '{}', '', 3, 4, 100, 'ok', '', '', true, NULL,
        '2026-01-01 10:05+00'),
       ('m2', 't1', 'a1', 's1', 'ragflow', 'q', 'a', '{}', '', 1, 1, 2000, 'error', '', '', false, NULL,
        '2026-01-01 10:55+00'),
       ('m3', 't1', 'a1', NULL, 'openai', 'q', 'a', '{}', '', 2, 2, 100, 'ok', '', '', NULL, NULL,
        '2026-01-01 10:30+00'),
       ('m4', 't1', 'a1', NULL, 'openai', 'q', 'a', '{}', '', 9, 9, 9, 'ok', '', '', NULL, '2026-01-02 00:00+00',
        '2026-01-01 11:00+00'),
       ('m5', 't1', NULL, NULL, 'ragflow', 'q', 'a', '{}', '', 9, 9, 9, 'ok', '', '', NULL, NULL,
        '2026-01-01 10:00+00'),
       ('m6', 't1', 'a2', NULL, 'opsbee', 'q', 'a', '{}', '', 5, 5, 0, 'ok', '', '', NULL, NULL,
        '2026-01-01 12:00+00');
"""
TEN, TWELVE = datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 12, tzinfo=UTC)


async def test_0016_rolls_up_existing_messages_and_keeps_counting(server_url: str) -> None:
    url = await create_database(server_url)
    await upgrade(url, "0015")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(SEED)
        await upgrade(url)
        hours = await connection.fetch(
            "SELECT assistant_id, hour, session_id, turns, errors, prompt_tokens, completion_tokens, latency_ms,"
            " likes, dislikes FROM usage_hours ORDER BY 1, 2, 3"
        )
        assert [tuple(row) for row in hours] == [
            ("a1", TEN, "", 1, 0, 2, 2, 100.0, 0, 0),
            ("a1", TEN, "s1", 2, 1, 4, 5, 2100.0, 1, 1),
            ("a2", TWELVE, "", 1, 0, 5, 5, 0.0, 0, 0),
        ]
        bins = await connection.fetch("SELECT assistant_id, hour, bin, turns FROM usage_latency_bins ORDER BY 1, 3")
        assert [tuple(row) for row in bins] == [("a1", TEN, 95, 2), ("a2", TWELVE, 0, 1)]  # ln(101) / ln(1.05) = 94.6

        await connection.execute("UPDATE messages SET deleted_at = now() WHERE id = 'm3'")  # the triggers take over
        assert await connection.fetchval("SELECT count(*) FROM usage_hours WHERE session_id = ''") == 1
        assert await connection.fetchval("SELECT turns FROM usage_latency_bins WHERE assistant_id = 'a1'") == 1

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0015")  # type: ignore[arg-type]
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_class WHERE relname IN ('usage_hours', 'usage_latency_bins')"
        )
        assert left == 0
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_messages_assistant_created_usage'"
            )
            == 1
        )
        await connection.execute("DELETE FROM messages WHERE id = 'm1'")  # no trigger is left behind
    finally:
        await connection.close()
