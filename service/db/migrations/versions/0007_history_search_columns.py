"""History search: tags and metadata know their deployment; metadata digests are stored

- `message_tags.assistant_id` and `message_metadata.assistant_id` (the message's, copied): a search's tag
  and metadata terms then name the deployment's messages only, so the ids a search looks up by primary key
  are the deployment's (an organization-wide tag with many deployments no longer pushes it into a scan).
  `message_tags (tag_id, assistant_id, message_id)` serves them from the index alone.
- `message_metadata.key_md5`/`value_md5`, generated from key and value, indexed with the deployment. A search
  matching most metadata is a scan, and the scan evaluated `md5(key)` on every row only to compare it:
  10 ms of 14 on 25,000 rows. Stored, the comparison is a plain equality (4 ms) for 33 bytes a row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_assistant_id(table: str) -> None:
    op.add_column(table, sa.Column("assistant_id", sa.String(length=32), nullable=True))
    op.execute(f"UPDATE {table} AS t SET assistant_id = m.assistant_id FROM messages AS m WHERE m.id = t.message_id")
    op.alter_column(table, "assistant_id", nullable=False)


def upgrade() -> None:
    _add_assistant_id("message_tags")
    op.drop_index("ix_message_tags_tag_id", table_name="message_tags")
    op.create_index("ix_message_tags_tag_assistant", "message_tags", ["tag_id", "assistant_id", "message_id"])
    _add_assistant_id("message_metadata")
    for column in ("key", "value"):
        op.drop_index(f"ix_message_metadata_tenant_{column}", table_name="message_metadata")
        generated = sa.Computed(f"md5({column})", persisted=True)
        op.add_column("message_metadata", sa.Column(f"{column}_md5", sa.String(length=32), generated, nullable=False))
        op.create_index(
            f"ix_message_metadata_assistant_{column}", "message_metadata", ["assistant_id", f"{column}_md5"]
        )


def downgrade() -> None:
    for column in ("key", "value"):
        op.drop_index(f"ix_message_metadata_assistant_{column}", table_name="message_metadata")
        op.drop_column("message_metadata", f"{column}_md5")
        digest = sa.text(f"md5({column})")
        op.create_index(f"ix_message_metadata_tenant_{column}", "message_metadata", ["tenant_id", digest])
    op.drop_column("message_metadata", "assistant_id")
    op.drop_index("ix_message_tags_tag_assistant", table_name="message_tags")
    op.create_index("ix_message_tags_tag_id", "message_tags", ["tag_id"])
    op.drop_column("message_tags", "assistant_id")
