"""Evaluation runs and their items; a covering index for usage analytics

- `eval_runs`, `eval_run_items`: a dataset asked of a deployment, one row per item with its answer and scores
  (domain/eval_runs.py, eval_execution.py).
- `ix_messages_assistant_created_usage`: a deployment's visible messages by time, with every column the usage
  query aggregates, so `GET .../deployments/{id}/stats` is an index-only scan (domain/usage_stats.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USAGE_COLUMNS = ["session_id", "status", "prompt_tokens", "completion_tokens", "latency_ms", "thumbup"]


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _runs() -> None:
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("assistant_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.String(length=32), nullable=True),
        sa.Column("lease", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_eval_runs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["eval_datasets.id"], name=op.f("fk_eval_runs_dataset_id_eval_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assistant_id"], ["assistants.id"], name=op.f("fk_eval_runs_assistant_id_assistants"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_runs")),
    )
    op.create_index("ix_eval_runs_dataset_created", "eval_runs", ["dataset_id", "created_at"])
    op.create_index("ix_eval_runs_dataset_name", "eval_runs", ["dataset_id", "name"], unique=True)


def _run_items() -> None:
    op.create_table(
        "eval_run_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("relevant", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("scores", postgresql.JSONB(), nullable=False),
        sa.Column("judge_reason", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["run_id"], ["eval_runs.id"], name=op.f("fk_eval_run_items_run_id_eval_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_run_items")),
    )
    op.create_index("ix_eval_run_items_run_item", "eval_run_items", ["run_id", "item_id"], unique=True)
    op.create_index("ix_eval_run_items_run_ordinal", "eval_run_items", ["run_id", "ordinal"])


def upgrade() -> None:
    _runs()
    _run_items()
    op.create_index(
        "ix_messages_assistant_created_usage",
        "messages",
        ["assistant_id", "created_at"],
        postgresql_include=USAGE_COLUMNS,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_assistant_created_usage", table_name="messages")
    op.drop_table("eval_run_items")
    op.drop_table("eval_runs")
