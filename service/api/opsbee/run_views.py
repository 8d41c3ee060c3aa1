"""OpsBee-style JSON of evaluation runs, their items and comparisons (our extension; ISO 8601 times)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.api.opsbee.views import iso, stamps
from service.domain.eval_summary import ChangedItem, Comparison, MetricSummary, Progress, RunSummary

if TYPE_CHECKING:
    from service.db.models import EvalRun, EvalRunItem


def _moment(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def progress_json(progress: Progress) -> dict[str, Any]:
    ratio = progress.done / progress.total if progress.total else 1.0
    return {
        "total": progress.total,
        "done": progress.done,
        "succeeded": progress.ok,
        "failed": progress.failed,
        "pending": progress.pending,
        "ratio": round(ratio, 4),
    }


def metrics_json(metrics: dict[str, MetricSummary]) -> dict[str, Any]:
    return {
        name: {"count": found.count, "mean": found.mean, "p50": found.p50, "p90": found.p90}
        for name, found in sorted(metrics.items())
    }


def run_json(run: EvalRun, progress: Progress, summary: RunSummary | None = None) -> dict[str, Any]:
    """A run; with its `summary` (one run asked for) its per-metric figures and first failures too."""
    body: dict[str, Any] = {
        "id": run.id,
        "organization_id": run.tenant_id,
        "dataset_id": run.dataset_id,
        "deployment_id": run.assistant_id,
        "name": run.name,
        "metrics": run.metrics,
        "concurrency": run.concurrency,
        "status": run.status,
        "error_message": run.error or None,
        "thread_id": run.thread_id,
        "tag_id": run.tag_id,
        "progress": progress_json(progress),
        "started_at": _moment(run.started_at),
        "finished_at": _moment(run.finished_at),
        **stamps(run),
    }
    if summary is not None:
        body["scores"] = metrics_json(summary.metrics)
        body["failures"] = [{"item_id": item_id, "error_message": error} for item_id, error in summary.failures]
    return body


def run_item_json(item: EvalRunItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "run_id": item.run_id,
        "item_id": item.item_id,
        "history_id": item.message_id if item.latency_ms is not None else None,  # none until answered
        "status": item.status,
        "question": item.question,
        "expected_output": item.expected,
        "answer": item.answer,
        "scores": item.scores,
        "judge_reason": item.judge_reason or None,
        "latency_ms": item.latency_ms,
        "input_token_count": item.prompt_tokens,
        "output_token_count": item.completion_tokens,
        "error_message": item.error or None,
        **stamps(item),
    }


def _changed_json(item: ChangedItem) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "question": item.question,
        "baseline_scores": item.baseline,
        "candidate_scores": item.candidate,
        "deltas": item.deltas,
        "largest_change": item.change,
    }


def comparison_json(found: Comparison) -> dict[str, Any]:
    baseline, candidate = found.summaries
    return {
        "baseline": run_json(found.baseline, baseline.progress, baseline),
        "candidate": run_json(found.candidate, candidate.progress, candidate),
        "deltas": found.deltas,
        "compared_items": found.compared_items,
        "changed_items": [_changed_json(item) for item in found.changed],
    }
