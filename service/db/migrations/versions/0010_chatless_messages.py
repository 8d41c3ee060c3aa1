"""Messages may belong to no assistant: RAGFlow's chat-less `POST /chat/completions` is kept as history too

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("messages", "assistant_id", existing_type=sa.String(32), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM messages WHERE assistant_id IS NULL")
    op.alter_column("messages", "assistant_id", existing_type=sa.String(32), nullable=False)
