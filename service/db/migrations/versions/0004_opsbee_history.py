"""OpsBee history: thread descriptions, tags, message tags and message metadata

Indexes, and why:
- `messages (assistant_id, updated_at) WHERE deleted_at IS NULL`: a deployment's visible histories,
  newest-updated first (OpsBee's default sort) without sorting, and their count as an index-only scan.
- `tags (tenant_id, name)` unique: one name per organization, and `tag_name:` resolves through it.
- `message_tags` PK `(message_id, tag_id)` renders a page's tags; `(tag_id)` answers `tag_id:`/`tag_name:`.
- `message_metadata (message_id)` renders a page's metadata; `(tenant_id, md5(key))` and
  `(tenant_id, md5(value))` answer `metadata_key:`/`metadata_value:`. Keys and values may be 65,535 bytes,
  past a B-tree entry's limit (~2.7 kB), so they are indexed by hash; searches compare the md5 first
  (index) and the text too (exact). A trigram index would serve substring searches, which the language
  does not offer on metadata, at several times the size and write cost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _tags() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tags_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    op.create_index("ix_tags_tenant_name", "tags", ["tenant_id", "name"], unique=True)
    op.create_table(
        "message_tags",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("tag_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_tags_message_id_messages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_message_tags_tag_id_tags"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "tag_id", name=op.f("pk_message_tags")),
    )
    op.create_index("ix_message_tags_tag_id", "message_tags", ["tag_id"])


def _metadata() -> None:
    op.create_table(
        "message_metadata",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_metadata_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_metadata")),
    )
    op.create_index("ix_message_metadata_message_id", "message_metadata", ["message_id"])
    op.create_index("ix_message_metadata_tenant_key", "message_metadata", ["tenant_id", sa.text("md5(key)")])
    op.create_index("ix_message_metadata_tenant_value", "message_metadata", ["tenant_id", sa.text("md5(value)")])


def upgrade() -> None:
    op.add_column("chat_sessions", sa.Column("description", sa.Text(), server_default="", nullable=False))
    op.create_index(
        "ix_messages_assistant_updated",
        "messages",
        ["assistant_id", "updated_at"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    _tags()
    _metadata()


def downgrade() -> None:
    op.drop_table("message_metadata")
    op.drop_table("message_tags")
    op.drop_table("tags")
    op.drop_index("ix_messages_assistant_updated", table_name="messages")
    op.drop_column("chat_sessions", "description")
