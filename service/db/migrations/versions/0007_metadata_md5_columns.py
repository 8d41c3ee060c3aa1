"""Message metadata: the md5 of key and value stored (generated columns), indexed with the tenant

A search for `metadata_key:` or `metadata_value:` that matches most of an organization's metadata is a scan,
and the scan evaluated `md5(key)` on every row only to compare it: 10 ms of 14 on 25,000 rows. Stored
digests cost 33 bytes a row and make that comparison a plain equality (4 ms); the indexes move onto them.

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


def upgrade() -> None:
    for column in ("key", "value"):
        op.drop_index(f"ix_message_metadata_tenant_{column}", table_name="message_metadata")
        generated = sa.Computed(f"md5({column})", persisted=True)
        op.add_column("message_metadata", sa.Column(f"{column}_md5", sa.String(length=32), generated, nullable=False))
        op.create_index(f"ix_message_metadata_tenant_{column}", "message_metadata", ["tenant_id", f"{column}_md5"])


def downgrade() -> None:
    for column in ("key", "value"):
        op.drop_index(f"ix_message_metadata_tenant_{column}", table_name="message_metadata")
        op.drop_column("message_metadata", f"{column}_md5")
        op.create_index(
            f"ix_message_metadata_tenant_{column}", "message_metadata", ["tenant_id", sa.text(f"md5({column})")]
        )
