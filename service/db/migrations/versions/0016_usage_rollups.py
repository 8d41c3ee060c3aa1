"""Usage rollups: a deployment's visible messages summed per hour and thread, kept by the database itself

- `usage_hours` (per assistant, UTC hour and thread; '' for stateless turns): turns, failed turns, tokens in and
  out, the latencies' sum, likes and dislikes. Distinct threads and users of any range are counted over its rows.
- `usage_latency_bins` (per assistant, hour and latency bin): answered turns by latency, in bins 5% wide
  (`usage_latency_bin`), so percentiles of any range are read off the summed histogram.

The usage statistics (domain/usage_stats.py) read these instead of every message of the range: 100k histories
had to be sorted per request three ways (distinct threads, distinct users, latencies), ~150 ms; the rollups hold
a row per thread-hour and per occupied bin-hour.

Every write to `messages` (insert, update, soft or hard delete, cascades, truncate) is counted by the statement
triggers below, in the writer's transaction: the statement's visible rows before (subtracted) and after (added),
summed per key and applied as increments in key order, so concurrent writers queue on a shared row instead of
losing an update, and two statements lock shared rows in the same order. A message's recording transaction is
short (domain/answering.py), so the lock is held for a moment. Rows that fall to zero turns are removed: a deleted
deployment leaves nothing behind. No foreign keys: a cascade deleting an assistant's messages empties its rows
through the same triggers.

The covering index of migration 0013 (`ix_messages_assistant_created_usage`) served the old full scan; the edges
of a range that does not start or end on an hour are read through `ix_messages_assistant_created`, so it goes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bin b holds the latencies x with round(ln(1 + x) / ln(1.05)) = b; the service reads it back as 1.05^b - 1, so a
# percentile is off by at most a factor 1.05^(1/2) (2.5%) on 1 + x.
FUNCTIONS = [
    """
CREATE FUNCTION usage_latency_bin(latency_ms double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN least(32767, round(ln(1 + greatest(coalesce(latency_ms, 0), 0)) / ln(1.05)))::smallint
""",
    """
CREATE FUNCTION usage_hour(moment timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_bin(interval '1 hour', moment, timestamptz '2000-01-01 00:00:00+00')
""",
]


# A message counts where it is visible (not soft-deleted) and belongs to an assistant (chat-less turns do not).
def _visible(row: str) -> str:
    return f"{row}.deleted_at IS NULL AND {row}.assistant_id IS NOT NULL"


_INSERTED = f"(SELECT n.*, 1 AS sign FROM new_messages n WHERE {_visible('n')})"
_DELETED = f"(SELECT o.*, -1 AS sign FROM old_messages o WHERE {_visible('o')})"
# An update counts only where it changed what is summed (an edit of the text or the tags changes nothing here).
_MOVED = """(o.assistant_id, o.session_id, o.created_at, o.status, o.prompt_tokens, o.completion_tokens,
              o.latency_ms, o.thumbup, o.deleted_at) IS DISTINCT FROM
             (n.assistant_id, n.session_id, n.created_at, n.status, n.prompt_tokens, n.completion_tokens,
              n.latency_ms, n.thumbup, n.deleted_at)"""
_UPDATED = f"""(
    SELECT n.*, 1 AS sign FROM new_messages n JOIN old_messages o ON o.id = n.id WHERE {_MOVED} AND {_visible("n")}
    UNION ALL
    SELECT o.*, -1 AS sign FROM new_messages n JOIN old_messages o ON o.id = n.id WHERE {_MOVED} AND {_visible("o")}
)"""

# The change the signed rows `{rows}` make, as increments in key order; then the rows that fell to zero go.
_APPLY = """
WITH changed AS MATERIALIZED (
    SELECT assistant_id, usage_hour(created_at) AS hour, coalesce(session_id, '') AS session_id, sign, status,
           prompt_tokens, completion_tokens, latency_ms, thumbup
    FROM {rows} AS r
),
hours AS (
    INSERT INTO usage_hours AS u (assistant_id, hour, session_id, turns, errors, prompt_tokens, completion_tokens,
                                  latency_ms, likes, dislikes)
    SELECT assistant_id, hour, session_id, sum(sign), coalesce(sum(sign) FILTER (WHERE status = 'error'), 0),
           sum(sign * prompt_tokens), sum(sign * completion_tokens), sum(sign * latency_ms),
           coalesce(sum(sign) FILTER (WHERE thumbup), 0), coalesce(sum(sign) FILTER (WHERE NOT thumbup), 0)
    FROM changed GROUP BY assistant_id, hour, session_id ORDER BY assistant_id, hour, session_id
    ON CONFLICT (assistant_id, hour, session_id) DO UPDATE SET
        turns = u.turns + EXCLUDED.turns, errors = u.errors + EXCLUDED.errors,
        prompt_tokens = u.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = u.completion_tokens + EXCLUDED.completion_tokens,
        latency_ms = u.latency_ms + EXCLUDED.latency_ms, likes = u.likes + EXCLUDED.likes,
        dislikes = u.dislikes + EXCLUDED.dislikes
    RETURNING u.assistant_id, u.hour, u.session_id, u.turns
),
bins AS (
    INSERT INTO usage_latency_bins AS b (assistant_id, hour, bin, turns)
    SELECT assistant_id, hour, usage_latency_bin(latency_ms) AS bin, sum(sign)
    FROM changed WHERE status = 'ok'
    GROUP BY assistant_id, hour, bin HAVING sum(sign) <> 0 ORDER BY assistant_id, hour, bin
    ON CONFLICT (assistant_id, hour, bin) DO UPDATE SET turns = b.turns + EXCLUDED.turns
    RETURNING b.assistant_id, b.hour, b.bin, b.turns
)
SELECT (SELECT array_agg(ROW(assistant_id, hour, session_id)::usage_hour_key) FROM hours WHERE turns <= 0),
       (SELECT array_agg(ROW(assistant_id, hour, bin)::usage_bin_key) FROM bins WHERE turns <= 0)
INTO emptied_hours, emptied_bins;
IF emptied_hours IS NOT NULL THEN
    DELETE FROM usage_hours u USING unnest(emptied_hours) AS e
    WHERE (u.assistant_id, u.hour, u.session_id) = (e.assistant_id, e.hour, e.session_id) AND u.turns <= 0;
END IF;
IF emptied_bins IS NOT NULL THEN
    DELETE FROM usage_latency_bins b USING unnest(emptied_bins) AS e
    WHERE (b.assistant_id, b.hour, b.bin) = (e.assistant_id, e.hour, e.bin) AND b.turns <= 0;
END IF;
"""

COLLECT = f"""
CREATE FUNCTION usage_rollups_collect() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied_hours usage_hour_key[];
    emptied_bins usage_bin_key[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_APPLY.format(rows=_INSERTED)}
    ELSIF TG_OP = 'DELETE' THEN
        {_APPLY.format(rows=_DELETED)}
    ELSE
        {_APPLY.format(rows=_UPDATED)}
    END IF;
    RETURN NULL;
END
$$
"""

CLEAR = """
CREATE FUNCTION usage_rollups_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM usage_hours;
    DELETE FROM usage_latency_bins;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER messages_usage_inserted AFTER INSERT ON messages REFERENCING NEW TABLE AS new_messages"
    " FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_collect()",
    "CREATE TRIGGER messages_usage_updated AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_messages"
    " NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_collect()",
    "CREATE TRIGGER messages_usage_deleted AFTER DELETE ON messages REFERENCING OLD TABLE AS old_messages"
    " FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_collect()",
    "CREATE TRIGGER messages_usage_truncated AFTER TRUNCATE ON messages"
    " FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_clear()",
]

# Existing messages, counted once (the triggers exist only from here on, in this same transaction).
BACKFILL = [
    f"""
INSERT INTO usage_hours (assistant_id, hour, session_id, turns, errors, prompt_tokens, completion_tokens, latency_ms,
                         likes, dislikes)
SELECT assistant_id, usage_hour(created_at), coalesce(session_id, ''), count(*),
       count(*) FILTER (WHERE status = 'error'), sum(prompt_tokens), sum(completion_tokens), sum(latency_ms),
       count(*) FILTER (WHERE thumbup), count(*) FILTER (WHERE NOT thumbup)
FROM messages m WHERE {_visible("m")} GROUP BY 1, 2, 3
""",
    f"""
INSERT INTO usage_latency_bins (assistant_id, hour, bin, turns)
SELECT assistant_id, usage_hour(created_at), usage_latency_bin(latency_ms), count(*)
FROM messages m WHERE {_visible("m")} AND status = 'ok' GROUP BY 1, 2, 3
""",
]

USAGE_COLUMNS = ["session_id", "status", "prompt_tokens", "completion_tokens", "latency_ms", "thumbup"]


def _tables() -> None:
    op.create_table(
        "usage_hours",
        sa.Column("assistant_id", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("dislikes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assistant_id", "hour", "session_id", name=op.f("pk_usage_hours")),
    )
    op.create_table(
        "usage_latency_bins",
        sa.Column("assistant_id", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assistant_id", "hour", "bin", name=op.f("pk_usage_latency_bins")),
    )
    # The emptied keys a trigger collects, to remove those rows after its increments.
    op.execute("CREATE TYPE usage_hour_key AS (assistant_id varchar(32), hour timestamptz, session_id varchar(32))")
    op.execute("CREATE TYPE usage_bin_key AS (assistant_id varchar(32), hour timestamptz, bin smallint)")


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(function)
    _tables()
    for statement in [*BACKFILL, COLLECT, CLEAR, *TRIGGERS]:
        op.execute(statement)
    op.drop_index("ix_messages_assistant_created_usage", table_name="messages")


def downgrade() -> None:
    op.create_index(
        "ix_messages_assistant_created_usage",
        "messages",
        ["assistant_id", "created_at"],
        postgresql_include=USAGE_COLUMNS,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    for trigger in ("inserted", "updated", "deleted", "truncated"):
        op.execute(f"DROP TRIGGER messages_usage_{trigger} ON messages")
    op.execute("DROP FUNCTION usage_rollups_collect()")
    op.execute("DROP FUNCTION usage_rollups_clear()")
    op.drop_table("usage_latency_bins")
    op.drop_table("usage_hours")
    op.execute("DROP TYPE usage_bin_key")
    op.execute("DROP TYPE usage_hour_key")
    op.execute("DROP FUNCTION usage_hour(timestamptz)")
    op.execute("DROP FUNCTION usage_latency_bin(double precision)")
