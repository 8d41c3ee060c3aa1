"""Chunks keep their tags (`tag_kwd`), as RAGFlow's chunk API takes and returns them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chunks", sa.Column("tag_kwd", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False))


def downgrade() -> None:
    op.drop_column("chunks", "tag_kwd")
