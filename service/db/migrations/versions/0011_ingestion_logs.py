"""Ingestion logs: one row per finished parse run, as RAGFlow's `pipeline_operation_log` keeps them

A document row holds only its current run, so a re-parse forgot the last one. The trigger below writes a log
row whenever a document's `run` becomes DONE, FAIL or CANCEL, in the same transaction as that change, whatever
code path made it (the worker finishing or failing, a user's stop); like RAGFlow it keeps the newest 1000 logs
of a dataset.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT_PER_DATASET = 1000  # RAGFlow's PIPELINE_OPERATION_LOG_LIMIT default

# A stop leaves `process_duration` as the run started it (0); the log says how long the run had been going.
RECORD_FUNCTION = f"""
CREATE FUNCTION record_ingestion_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ingestion_logs (
        id, tenant_id, dataset_id, document_id, document_name, document_suffix, document_type, parser_id,
        task_type, operation_status, progress, progress_msg, process_begin_at, process_duration
    ) VALUES (
        replace(gen_random_uuid()::text, '-', ''), NEW.tenant_id, NEW.dataset_id, NEW.id, NEW.name, NEW.suffix,
        NEW.doc_type, NEW.chunk_method, 'Parse', NEW.run, NEW.progress, NEW.progress_msg, NEW.process_begin_at,
        CASE WHEN NEW.run = 'CANCEL' AND NEW.process_duration = 0 AND NEW.process_begin_at IS NOT NULL
             THEN extract(epoch FROM clock_timestamp() - NEW.process_begin_at)
             ELSE NEW.process_duration END
    );
    DELETE FROM ingestion_logs WHERE id IN (
        SELECT id FROM ingestion_logs WHERE dataset_id = NEW.dataset_id
        ORDER BY created_at DESC, id DESC OFFSET {KEPT_PER_DATASET}
    );
    RETURN NEW;
END
$$
"""

RECORD_TRIGGER = """
CREATE TRIGGER documents_ingestion_log AFTER UPDATE OF run ON documents FOR EACH ROW
WHEN (NEW.run IN ('DONE', 'FAIL', 'CANCEL') AND OLD.run IS DISTINCT FROM NEW.run)
EXECUTE FUNCTION record_ingestion_log()
"""


def upgrade() -> None:
    op.create_table(
        "ingestion_logs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("document_name", sa.String(length=255), nullable=False),
        sa.Column("document_suffix", sa.String(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=16), nullable=False),
        sa.Column("parser_id", sa.String(length=32), nullable=False),
        sa.Column("task_type", sa.String(length=16), server_default="Parse", nullable=False),
        sa.Column("operation_status", sa.String(length=8), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("progress_msg", sa.Text(), nullable=False),
        sa.Column("process_begin_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("process_duration", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_ingestion_logs_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_logs")),
    )
    op.create_index("ix_ingestion_logs_dataset_created", "ingestion_logs", ["dataset_id", "created_at"])
    op.execute(RECORD_FUNCTION)
    op.execute(RECORD_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER documents_ingestion_log ON documents")
    op.execute("DROP FUNCTION record_ingestion_log()")
    op.drop_index("ix_ingestion_logs_dataset_created", table_name="ingestion_logs")
    op.drop_table("ingestion_logs")
