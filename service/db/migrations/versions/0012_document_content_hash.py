"""documents: content_sha256, the SHA-256 of the uploaded bytes

`nectar ingest` skips a file whose content the dataset already holds, so an interrupted bulk load resumes
where it stopped. Rows uploaded before this revision get the hash of their stored bytes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("content_sha256", sa.String(64), nullable=True))
    op.execute(
        "UPDATE documents SET content_sha256 = encode(sha256(document_files.data), 'hex') "
        "FROM document_files WHERE document_files.document_id = documents.id"
    )
    op.execute("UPDATE documents SET content_sha256 = encode(sha256(''::bytea), 'hex') WHERE content_sha256 IS NULL")
    op.alter_column("documents", "content_sha256", nullable=False)


def downgrade() -> None:
    op.drop_column("documents", "content_sha256")
