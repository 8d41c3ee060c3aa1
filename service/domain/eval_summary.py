"""How an evaluation run went: progress, per-metric mean/p50/p90 over its scored items, failures, comparisons.

All computed from `eval_run_items` when asked (one aggregate query each), so a running run shows its partial
figures and nothing can drift from the items themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Float, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.db.models import EvalDataset, EvalRun, EvalRunItem
from service.errors import Invalid, NotFound

MAX_FAILURES = 20
MAX_CHANGED = 1000
DEFAULT_CHANGED = 20


@dataclass
class Progress:
    total: int
    ok: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def done(self) -> int:
        return self.ok + self.failed


@dataclass
class MetricSummary:
    count: int
    mean: float
    p50: float
    p90: float


@dataclass
class RunSummary:
    progress: Progress
    metrics: dict[str, MetricSummary]
    failures: list[tuple[str, str]]  # (item id, error), the first MAX_FAILURES in item order


async def progress_of(db: AsyncSession, runs: list[EvalRun]) -> dict[str, Progress]:
    """Each run's items by status, in one grouped query."""
    found = {run.id: Progress(run.total) for run in runs}
    rows = await db.execute(
        select(EvalRunItem.run_id, EvalRunItem.status, func.count())
        .where(EvalRunItem.run_id.in_(list(found)))
        .group_by(EvalRunItem.run_id, EvalRunItem.status)
    )
    for run_id, status, count in rows:
        setattr(found[run_id], {"ok": "ok", "error": "failed"}.get(status, "pending"), int(count))
    return found


async def metric_summaries(db: AsyncSession, run_id: str) -> dict[str, MetricSummary]:
    """Every metric scored in the run: count, mean, p50 and p90 over the items that have it."""
    scores = func.jsonb_each_text(EvalRunItem.scores).table_valued("key", "value").render_derived(name="score")
    value = cast(scores.c.value, Float)
    rows = await db.execute(
        select(
            scores.c.key,
            func.count(),
            func.avg(value),
            func.percentile_cont(0.5).within_group(value),
            func.percentile_cont(0.9).within_group(value),
        )
        .select_from(EvalRunItem)
        .join(scores, true())
        .where(EvalRunItem.run_id == run_id, EvalRunItem.status == "ok")
        .group_by(scores.c.key)
    )
    return {key: MetricSummary(int(n), round(mean, 6), round(p50, 6), round(p90, 6)) for key, n, mean, p50, p90 in rows}


async def summary_of(db: AsyncSession, run: EvalRun) -> RunSummary:
    failures = await db.execute(
        select(EvalRunItem.item_id, EvalRunItem.error)
        .where(EvalRunItem.run_id == run.id, EvalRunItem.status == "error")
        .order_by(EvalRunItem.ordinal)
        .limit(MAX_FAILURES)
    )
    progress = (await progress_of(db, [run]))[run.id]
    return RunSummary(progress, await metric_summaries(db, run.id), [(item, error) for item, error in failures])


# --- comparing two runs ---------------------------------------------------------------------------------------


@dataclass
class ChangedItem:
    item_id: str
    question: str
    baseline: dict[str, float]
    candidate: dict[str, float]
    deltas: dict[str, float]
    change: float  # the largest |delta|


@dataclass
class Comparison:
    baseline: EvalRun
    candidate: EvalRun
    summaries: tuple[RunSummary, RunSummary]
    deltas: dict[str, float | None]  # candidate mean - baseline mean; None when one run lacks the metric
    changed: list[ChangedItem] = field(default_factory=list)
    compared_items: int = 0


def compared_ids(raw: str | None) -> tuple[str, str]:
    """`ids=a,b`: the baseline, then the candidate."""
    ids = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if len(ids) != 2 or ids[0] == ids[1]:
        raise Invalid("`ids` must name two different runs of this dataset: `ids=<baseline>,<candidate>`")
    for run_id in ids:
        if not (run_id.isascii() and run_id.isalnum()):  # no run has such an id (and NUL never reaches SQL)
            raise NotFound(f"run {run_id!r} not found")
    return ids[0], ids[1]


def changed_limit(value: int | None) -> int:
    if value is None:
        return DEFAULT_CHANGED
    if not 1 <= value <= MAX_CHANGED:
        raise Invalid(f"`limit` must be between 1 and {MAX_CHANGED}")
    return value


async def _runs(db: AsyncSession, dataset: EvalDataset, ids: tuple[str, str]) -> tuple[EvalRun, EvalRun]:
    found = {
        run.id: run
        for run in await db.scalars(select(EvalRun).where(EvalRun.dataset_id == dataset.id, EvalRun.id.in_(ids)))
    }
    for run_id in ids:
        if run_id not in found:
            raise NotFound(f"run {run_id} not found in dataset {dataset.id}")
    return found[ids[0]], found[ids[1]]


def _changed(item_id: str, question: str, before: dict[str, float], after: dict[str, float]) -> ChangedItem:
    deltas = {name: round(after[name] - before[name], 6) for name in before.keys() & after.keys()}
    change = max((abs(delta) for delta in deltas.values()), default=0.0)
    return ChangedItem(item_id, question, before, after, dict(sorted(deltas.items())), change)


async def _changed_items(db: AsyncSession, runs: tuple[EvalRun, EvalRun], metrics: set[str]) -> list[ChangedItem]:
    """Items scored in both runs, with their deltas over the metrics both runs asked for."""
    before, after = aliased(EvalRunItem), aliased(EvalRunItem)
    rows = await db.execute(
        select(before.item_id, before.question, before.scores, after.scores)
        .join(after, after.item_id == before.item_id)
        .where(before.run_id == runs[0].id, after.run_id == runs[1].id, before.status == "ok", after.status == "ok")
    )

    def kept(scores: dict[str, float]) -> dict[str, float]:
        return {name: value for name, value in scores.items() if name in metrics}

    return [_changed(item, question, kept(first), kept(second)) for item, question, first, second in rows]


async def compare_runs(db: AsyncSession, dataset: EvalDataset, ids: tuple[str, str], limit: int) -> Comparison:
    """Per-metric deltas of the means, and the `limit` items whose scores moved most (unchanged ones left out).
    Latency and tokens are compared too: a positive delta there means slower or costlier."""
    baseline, candidate = await _runs(db, dataset, ids)
    summaries = (await summary_of(db, baseline), await summary_of(db, candidate))
    names = sorted(summaries[0].metrics.keys() | summaries[1].metrics.keys())
    deltas: dict[str, float | None] = {}
    for name in names:
        first, second = summaries[0].metrics.get(name), summaries[1].metrics.get(name)
        deltas[name] = round(second.mean - first.mean, 6) if first and second else None
    items = await _changed_items(db, (baseline, candidate), set(baseline.metrics) & set(candidate.metrics))
    moved = sorted((item for item in items if item.change > 0), key=lambda item: (-item.change, item.item_id))
    return Comparison(baseline, candidate, summaries, deltas, moved[:limit], len(items))
