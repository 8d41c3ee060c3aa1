"""Embedding-model names in their canonical spelling

Datasets created as `all-MiniLM-L6-v2@builtin` (any case of the provider) were stored as typed, and so were
their chunks. The HNSW index covers `embedding_model = 'all-MiniLM-L6-v2@Builtin'` only, so their searches
scanned. Names are canonicalised on the way in now; this brings stored rows to the same spelling.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANONICAL = "all-MiniLM-L6-v2@Builtin"


def upgrade() -> None:
    for table in ("datasets", "chunks"):
        op.execute(
            f"UPDATE {table} SET embedding_model = '{CANONICAL}' "
            f"WHERE lower(embedding_model) = lower('{CANONICAL}') AND embedding_model <> '{CANONICAL}'"
        )


def downgrade() -> None:
    """Nothing to undo: the canonical spelling is valid at every earlier revision."""
