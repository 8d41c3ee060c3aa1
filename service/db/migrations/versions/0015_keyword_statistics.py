"""BM25 statistics for the keyword side of retrieval, kept per dataset by the database itself

- `chunks.keyword_length`, `chunks.keyword_repeats` (generated from `tsv`): the chunk's number of indexed words
  and the lexemes it holds more than once with their counts (a lexeme it holds once is found by `tsv @@`), so a
  search reads term frequencies and lengths from the row without unnesting its tsvector.
- `keyword_corpus` (per dataset: chunks and indexed words) and `keyword_terms` (per dataset and lexeme: the
  chunks holding it): BM25's chunk count, average length and document frequencies.

Every write to `chunks` (insert, upsert, update of `tsv`, delete, cascades, whichever code path) is counted by
the statement triggers below, in the writer's transaction. They do not touch the statistics at once: they
append the statement's net change to `keyword_deltas` (insert-only, so concurrent writers never wait on each
other) and flag the transaction in `keyword_flushes`. A deferred constraint trigger on that flag applies the
transaction's summed change at COMMIT, as increments in one statement per table, in key order. Increments
under row locks lose no concurrent update (as `documents.chunk_count` is kept, chunk_store.adjust_document_counts);
key order means two committing writers lock shared rows in the same order, so they queue rather than
deadlock; and the locks are taken last, just before commit, so they are held for the flush alone.
Rows that fall to zero are removed, so a deleted dataset leaves no statistics behind.

And `datasets.vector_similarity_weight` becomes nullable, NULL meaning "retrieval's default": a dataset may now
carry its own weight, and every existing one holds 0.3 only because no API could set it, so all become NULL.

The two staging tables are UNLOGGED: their rows never outlive the transaction that wrote them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A stripped tsvector has no positions: each lexeme then counts once.
FUNCTIONS = [
    """
CREATE FUNCTION chunk_keyword_length(tsv tsvector) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(sum(coalesce(nullif(cardinality(positions), 0), 1)), 0)::integer FROM unnest(tsv))
""",
    """
CREATE FUNCTION chunk_keyword_repeats(tsv tsvector) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(jsonb_object_agg(lexeme, cardinality(positions)) FILTER (WHERE cardinality(positions) > 1), '{}')
    FROM unnest(tsv)
)
""",
]

# The change a set of chunk rows `{rows}` (columns tenant_id, dataset_id, tsv, keyword_length, sign) makes:
# one row per dataset for the corpus (term ''), one per dataset and lexeme for the terms.
_DELTAS = """
INSERT INTO keyword_deltas (xact, tenant_id, dataset_id, term, chunks, words)
SELECT xact, tenant_id, dataset_id, term, sum(chunks), sum(words) FROM (
    SELECT r.tenant_id, r.dataset_id, '' AS term, r.sign AS chunks, r.sign * r.keyword_length AS words FROM {rows} r
    UNION ALL
    SELECT r.tenant_id, r.dataset_id, u.lexeme, r.sign, r.sign * coalesce(nullif(cardinality(u.positions), 0), 1)
    FROM {rows} r, unnest(r.tsv) AS u
) AS change, (SELECT pg_current_xact_id()::text::bigint AS xact) AS x
GROUP BY xact, tenant_id, dataset_id, term HAVING sum(chunks) <> 0 OR sum(words) <> 0
"""

_INSERTED = "(SELECT tenant_id, dataset_id, tsv, keyword_length, 1 AS sign FROM new_chunks)"
_DELETED = "(SELECT tenant_id, dataset_id, tsv, keyword_length, -1 AS sign FROM old_chunks)"
# An update counts only where it changed what is indexed (a tag or availability edit changes nothing here).
_UPDATED = """(
    SELECT n.tenant_id, n.dataset_id, n.tsv, n.keyword_length, 1 AS sign
    FROM new_chunks n JOIN old_chunks o ON o.id = n.id
    WHERE o.tsv IS DISTINCT FROM n.tsv OR o.dataset_id IS DISTINCT FROM n.dataset_id
    UNION ALL
    SELECT o.tenant_id, o.dataset_id, o.tsv, o.keyword_length, -1 AS sign
    FROM new_chunks n JOIN old_chunks o ON o.id = n.id
    WHERE o.tsv IS DISTINCT FROM n.tsv OR o.dataset_id IS DISTINCT FROM n.dataset_id
)"""

COLLECT = f"""
CREATE FUNCTION keyword_stats_collect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_DELTAS.format(rows=_INSERTED)};
    ELSIF TG_OP = 'DELETE' THEN
        {_DELTAS.format(rows=_DELETED)};
    ELSE
        {_DELTAS.format(rows=_UPDATED)};
    END IF;
    IF FOUND THEN
        INSERT INTO keyword_flushes (xact) VALUES (pg_current_xact_id()::text::bigint) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""

# At commit (once per writing transaction): the corpus rows first, then the terms, each in key order.
FLUSH = """
CREATE FUNCTION keyword_stats_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied_datasets text[];
    emptied_terms text[];
BEGIN
    DELETE FROM keyword_flushes WHERE xact = NEW.xact;
    WITH moved AS (DELETE FROM keyword_deltas WHERE xact = NEW.xact AND term = '' RETURNING *),
    net AS (
        SELECT min(tenant_id) AS tenant_id, dataset_id, sum(chunks) AS chunks, sum(words) AS words
        FROM moved GROUP BY dataset_id
    ),
    applied AS (
        INSERT INTO keyword_corpus AS k (tenant_id, dataset_id, chunks, words)
        SELECT tenant_id, dataset_id, chunks, words FROM net WHERE chunks <> 0 OR words <> 0 ORDER BY dataset_id
        ON CONFLICT (dataset_id) DO UPDATE SET chunks = k.chunks + EXCLUDED.chunks, words = k.words + EXCLUDED.words
        RETURNING k.dataset_id, k.chunks
    )
    SELECT array_agg(dataset_id) INTO emptied_datasets FROM applied WHERE chunks <= 0;
    IF emptied_datasets IS NOT NULL THEN
        DELETE FROM keyword_corpus WHERE dataset_id = ANY(emptied_datasets) AND chunks <= 0;
    END IF;
    WITH moved AS (DELETE FROM keyword_deltas WHERE xact = NEW.xact RETURNING *),
    net AS (
        SELECT min(tenant_id) AS tenant_id, dataset_id, term, sum(chunks) AS chunks
        FROM moved GROUP BY dataset_id, term
    ),
    applied AS (
        INSERT INTO keyword_terms AS k (tenant_id, dataset_id, term, chunks)
        SELECT tenant_id, dataset_id, term, chunks FROM net WHERE chunks <> 0 ORDER BY dataset_id, term
        ON CONFLICT (dataset_id, term) DO UPDATE SET chunks = k.chunks + EXCLUDED.chunks
        RETURNING k.dataset_id, k.term, k.chunks
    )
    SELECT array_agg(dataset_id), array_agg(term) INTO emptied_datasets, emptied_terms FROM applied WHERE chunks <= 0;
    IF emptied_terms IS NOT NULL THEN
        DELETE FROM keyword_terms k USING unnest(emptied_datasets, emptied_terms) AS e(dataset_id, term)
        WHERE k.dataset_id = e.dataset_id AND k.term = e.term AND k.chunks <= 0;
    END IF;
    RETURN NULL;
END
$$
"""

CLEAR = """
CREATE FUNCTION keyword_stats_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM keyword_corpus;
    DELETE FROM keyword_terms;
    DELETE FROM keyword_deltas WHERE xact = pg_current_xact_id()::text::bigint;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER chunks_keyword_inserted AFTER INSERT ON chunks REFERENCING NEW TABLE AS new_chunks"
    " FOR EACH STATEMENT EXECUTE FUNCTION keyword_stats_collect()",
    "CREATE TRIGGER chunks_keyword_updated AFTER UPDATE ON chunks REFERENCING OLD TABLE AS old_chunks"
    " NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION keyword_stats_collect()",
    "CREATE TRIGGER chunks_keyword_deleted AFTER DELETE ON chunks REFERENCING OLD TABLE AS old_chunks"
    " FOR EACH STATEMENT EXECUTE FUNCTION keyword_stats_collect()",
    "CREATE TRIGGER chunks_keyword_truncated AFTER TRUNCATE ON chunks"
    " FOR EACH STATEMENT EXECUTE FUNCTION keyword_stats_clear()",
    "CREATE CONSTRAINT TRIGGER keyword_flushes_at_commit AFTER INSERT ON keyword_flushes DEFERRABLE INITIALLY DEFERRED"
    " FOR EACH ROW EXECUTE FUNCTION keyword_stats_flush()",
]

# Existing chunks, counted once: the ADD COLUMNs above hold chunks' exclusive lock until this revision commits.
BACKFILL = [
    """
INSERT INTO keyword_corpus (tenant_id, dataset_id, chunks, words)
SELECT min(tenant_id), dataset_id, count(*), sum(keyword_length) FROM chunks GROUP BY dataset_id
""",
    """
INSERT INTO keyword_terms (tenant_id, dataset_id, term, chunks)
SELECT min(c.tenant_id), c.dataset_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) AS u
GROUP BY c.dataset_id, u.lexeme
""",
]


def _statistics_tables() -> None:
    op.create_table(
        "keyword_corpus",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("chunks", sa.BigInteger(), nullable=False),
        sa.Column("words", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_keyword_corpus")),
    )
    op.create_table(
        "keyword_terms",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("chunks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "term", name=op.f("pk_keyword_terms")),
    )
    op.create_table(
        "keyword_deltas",
        sa.Column("xact", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("chunks", sa.BigInteger(), nullable=False),
        sa.Column("words", sa.BigInteger(), nullable=False),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_keyword_deltas_xact", "keyword_deltas", ["xact"])
    op.create_table(
        "keyword_flushes",
        sa.Column("xact", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("xact", name=op.f("pk_keyword_flushes")),
        prefixes=["UNLOGGED"],
    )


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(function)
    op.add_column(
        "chunks",
        sa.Column("keyword_length", sa.Integer(), sa.Computed("chunk_keyword_length(tsv)", persisted=True)),
    )
    op.add_column(
        "chunks",
        sa.Column("keyword_repeats", postgresql.JSONB(), sa.Computed("chunk_keyword_repeats(tsv)", persisted=True)),
    )
    _statistics_tables()
    for statement in [*BACKFILL, COLLECT, FLUSH, CLEAR, *TRIGGERS]:
        op.execute(statement)
    op.alter_column("datasets", "vector_similarity_weight", nullable=True)
    op.execute("UPDATE datasets SET vector_similarity_weight = NULL")


def downgrade() -> None:
    op.execute("UPDATE datasets SET vector_similarity_weight = 0.3 WHERE vector_similarity_weight IS NULL")
    op.alter_column("datasets", "vector_similarity_weight", nullable=False)
    for trigger in ("chunks_keyword_inserted", "chunks_keyword_updated", "chunks_keyword_deleted"):
        op.execute(f"DROP TRIGGER {trigger} ON chunks")
    op.execute("DROP TRIGGER chunks_keyword_truncated ON chunks")
    op.execute("DROP TRIGGER keyword_flushes_at_commit ON keyword_flushes")
    for table in ("keyword_flushes", "keyword_deltas", "keyword_terms", "keyword_corpus"):
        op.drop_table(table)
    for function in ("keyword_stats_collect", "keyword_stats_flush", "keyword_stats_clear"):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_column("chunks", "keyword_repeats")
    op.drop_column("chunks", "keyword_length")
    for function in ("chunk_keyword_length", "chunk_keyword_repeats"):
        op.execute(f"DROP FUNCTION {function}(tsvector)")
