"""Usage analytics of a deployment: messages, threads, active users, tokens, latency, errors, feedback per interval.

Two statements per request: the counts per hour or day (UTC) and, through GROUPING SETS, over the whole range in
the same pass (distinct threads and users do not add up across intervals); and each interval's latency histogram,
whose sum is the range's. They read the rollups the database keeps as messages are written (migration 0016): a
row per thread and hour (`usage_hours`) and a latency histogram per hour (`usage_latency_bins`), plus the messages
themselves for the edges of a range that does not start or end on a whole hour (the current hour, by default),
through `ix_messages_assistant_created`. So a request costs the thread-hours and occupied latency bins of its
range, not its messages: 100k histories used to be sorted three ways per request.

Latency percentiles are over answered turns (a failure's latency is the time to fail), interpolated between
ranks as `percentile_cont` does, read off the histogram: bins 5% wide, so within 2.5% of the exact value (on
1 + the latency in ms). Error rate is failed turns over all turns. A user is a session's `user_id` where the face
gives one (RAGFlow, the OpenAI face's `user`) and otherwise the thread itself; stateless turns (no session) count
in messages, tokens and latency but not as threads or users.

The apps face's `/analysis` (the imooc course's shape) is computed from the same function: `app_analysis`.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant
from service.errors import Invalid

INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=7)}
MAX_BUCKETS = 1000
PERCENTILES = (0.5, 0.95)
LATENCY_BIN_GROWTH = 1.05  # migration 0016's `usage_latency_bin`: bin b holds 1 + latency within 1.05^(b ± 1/2)
_OFFSET_AS_SPACE = re.compile(r" (\d\d(:?\d\d)?)$")  # a `+09:00` whose `+` a query string decoded as a space

# The range's visible messages as thread-hours: the rollups' whole hours, the messages' own partial edge hours.
_EDGES = """m.assistant_id = :assistant_id AND m.deleted_at IS NULL
      AND (m.created_at >= :start AND m.created_at < :whole_start
           OR m.created_at >= :whole_end AND m.created_at < :end)"""
_WHOLE = "assistant_id = :assistant_id AND hour >= :whole_start AND hour < :whole_end"
_BUCKET = "date_bin(interval '1 {interval}', {hour}, timestamptz '2000-01-01 00:00:00+00')"
# `{interval}` is one of INTERVALS' keys, written in (a bound value would make the grouped expression a parameter).
COUNTS_SQL = f"""
WITH thread_hours AS (
    SELECT hour, session_id, turns, errors, prompt_tokens, completion_tokens, latency_ms, likes, dislikes
    FROM usage_hours WHERE {_WHOLE}
    UNION ALL
    SELECT usage_hour(m.created_at), coalesce(m.session_id, ''), count(*), count(*) FILTER (WHERE m.status = 'error'),
           sum(m.prompt_tokens), sum(m.completion_tokens), sum(m.latency_ms), count(*) FILTER (WHERE m.thumbup),
           count(*) FILTER (WHERE NOT m.thumbup)
    FROM messages AS m WHERE {_EDGES} GROUP BY 1, 2
)
SELECT bucket, grouping(bucket) AS whole, coalesce(sum(turns), 0), count(DISTINCT nullif(session_id, '')),
       count(DISTINCT coalesce(nullif(user_id, ''), nullif(session_id, ''))),
       coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), coalesce(sum(errors), 0),
       coalesce(sum(likes), 0), coalesce(sum(dislikes), 0), coalesce(sum(latency_ms), 0)
FROM (
    SELECT {_BUCKET.format(interval="{interval}", hour="t.hour")} AS bucket, t.*, s.user_id
    FROM thread_hours AS t LEFT JOIN chat_sessions AS s ON s.id = t.session_id AND s.assistant_id = :assistant_id
) AS bucketed
GROUP BY GROUPING SETS ((bucket), ())
"""
# Each interval's latency histogram as two arrays, bins and their turns (a row per interval is cheap to read; a row
# per bin was most of the request). An hour's rows are already one per bin; a day's are summed per bin first.
_LATENCY_HOURS = f"""
    SELECT hour, bin, turns FROM usage_latency_bins WHERE {_WHOLE}
    UNION ALL
    SELECT usage_hour(m.created_at), usage_latency_bin(m.latency_ms), count(*)
    FROM messages AS m WHERE {_EDGES} AND m.status = 'ok' GROUP BY 1, 2
"""
HISTOGRAMS_SQL = {
    "hour": f"SELECT hour, array_agg(bin), array_agg(turns) FROM ({_LATENCY_HOURS}) AS hours GROUP BY hour",
    "day": f"""
SELECT bucket, array_agg(bin), array_agg(turns)
FROM (
    SELECT {_BUCKET.format(interval="day", hour="hour")} AS bucket, bin, sum(turns)::bigint AS turns
    FROM ({_LATENCY_HOURS}) AS hours GROUP BY 1, 2
) AS days
GROUP BY bucket
""",
}
COUNTS_QUERIES = {interval: text(COUNTS_SQL.format(interval=interval)) for interval in INTERVALS}
HISTOGRAM_QUERIES = {interval: text(HISTOGRAMS_SQL[interval]) for interval in INTERVALS}
# Latency bins in order and the answered turns of each. Two lists of ints rather than (bin, turns) pairs: an hourly
# range holds ~30k occupied bins, and as many tuples per request kept the collector's full passes busy.
Histogram = tuple[list[int], list[int]]
NO_TURNS: Histogram = ([], [])


@dataclass
class UsageBucket:
    start: datetime
    messages: int = 0
    threads: int = 0
    active_users: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    errors: int = 0
    likes: int = 0
    dislikes: int = 0
    total_latency_ms: float = 0.0

    @property
    def error_rate(self) -> float:
        return round(self.errors / self.messages, 6) if self.messages else 0.0


@dataclass
class Usage:
    start: datetime
    end: datetime
    interval: str
    total: UsageBucket
    buckets: list[UsageBucket] = field(default_factory=list)


def _moment(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"+\1", raw.strip()))
    except ValueError:
        raise Invalid(f"`{name}` must be an ISO 8601 date or time, e.g. 2026-01-31T00:00:00+09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _floor(moment: datetime, interval: str) -> datetime:
    moment = moment.astimezone(UTC)
    day = moment.replace(minute=0, second=0, microsecond=0)
    return day.replace(hour=0) if interval == "day" else day


def usage_range(raw_from: str | None, raw_to: str | None, raw_interval: str | None) -> tuple[datetime, datetime, str]:
    """`from` (inclusive) and `to` (exclusive, default now); by default the last 24 hours or 7 days."""
    interval = raw_interval or "day"
    if interval not in INTERVALS:
        raise Invalid("`interval` must be hour or day")
    end = _moment(raw_to, "to") or datetime.now(UTC)
    start = _moment(raw_from, "from") or end - DEFAULT_SPAN[interval]
    if start >= end:
        raise Invalid("`from` must be before `to`")
    if (end - _floor(start, interval)) / INTERVALS[interval] > MAX_BUCKETS:
        raise Invalid(f"at most {MAX_BUCKETS} intervals at a time: narrow the range or use a longer interval")
    return start, end, interval


def _bin_latency(bin_: int) -> float:
    """The latency (ms) a histogram bin stands for: the middle of the bin on a log scale."""
    return float(LATENCY_BIN_GROWTH**bin_ - 1)


def _percentiles(histogram: Histogram) -> tuple[float | None, ...]:
    """`percentile_cont(q)` of each of PERCENTILES over the histogram: interpolated between the values at ranks
    floor(h) and ceil(h), h = q (n - 1), 0-based, as PostgreSQL interpolates between the sorted values."""
    bins, turns = histogram
    if not bins:
        return (None,) * len(PERCENTILES)
    reached = list(accumulate(turns))

    def at(rank: int) -> float:  # the bin of the first turn past `rank` turns
        return _bin_latency(bins[bisect_right(reached, rank)])

    found = []
    for q in PERCENTILES:
        h = q * (reached[-1] - 1)
        low, high = at(math.floor(h)), at(math.ceil(h))
        found.append(round(low + (h - math.floor(h)) * (high - low), 3))
    return tuple(found)


def _bucket(row: Any, histogram: Histogram) -> UsageBucket:
    start, _, messages, threads, users, tokens_in, tokens_out, errors, likes, dislikes, latency = row
    p50, p95 = _percentiles(histogram)
    return UsageBucket(
        start,
        int(messages),
        threads,
        users,
        int(tokens_in),
        int(tokens_out),
        p50,
        p95,
        int(errors),
        int(likes),
        int(dislikes),
        float(latency),
    )


async def _histograms(db: AsyncSession, interval: str, params: dict[str, Any]) -> dict[datetime, Histogram]:
    rows = (await db.execute(HISTOGRAM_QUERIES[interval], params)).all()
    return {bucket: _in_order(bins, turns) for bucket, bins, turns in rows}


def _in_order(bins: list[int], turns: list[int]) -> Histogram:
    order = sorted(range(len(bins)), key=bins.__getitem__)
    return [bins[i] for i in order], [turns[i] for i in order]


def _merged(histograms: Iterable[Histogram]) -> Histogram:
    whole: dict[int, int] = {}
    for bins, turns in histograms:
        for bin_, count in zip(bins, turns, strict=True):
            whole[bin_] = whole.get(bin_, 0) + count
    return _in_order(list(whole), list(whole.values()))


def _whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC hours inside [start, end) that the rollups answer for; an empty span at `end` if none."""
    first = _floor(start, "hour")
    first = first if first == start else first + INTERVALS["hour"]
    last = _floor(end, "hour")
    return (first, last) if first < last else (end, end)


async def deployment_usage(
    db: AsyncSession, assistant: Assistant, start: datetime, end: datetime, interval: str
) -> Usage:
    """Every interval from the one holding `start` to the one before `end`, empty ones included."""
    whole_start, whole_end = _whole_hours(start, end)
    params = {"assistant_id": assistant.id, "start": start, "end": end, "whole_start": whole_start}
    params["whole_end"] = whole_end
    rows = (await db.execute(COUNTS_QUERIES[interval], params)).all()
    histograms = await _histograms(db, interval, params)
    found = {row[0]: _bucket(row, histograms.get(row[0], NO_TURNS)) for row in rows if not row[1]}
    total = next((_bucket(row, _merged(histograms.values())) for row in rows if row[1]), None) or UsageBucket(start)
    total.start = start
    buckets, moment = [], _floor(start, interval)
    while moment < end:
        buckets.append(found.get(moment) or UsageBucket(moment))
        moment += INTERVALS[interval]
    return Usage(start, end, interval, total, buckets)


# --- the imooc course's `/analysis/:app_id` -------------------------------------------------------------------

ANALYSIS_DAYS = 7
INDICATORS = (
    "total_messages",
    "active_accounts",
    "avg_of_conversation_messages",
    "token_output_rate",
    "cost_consumption",
)
TRENDS = ("total_messages", "active_accounts", "avg_of_conversation_messages", "cost_consumption")


def _indicators(bucket: UsageBucket) -> dict[str, float]:
    """The course's five figures. Nectar keeps no prices: cost is 0."""
    tokens = bucket.input_tokens + bucket.output_tokens
    seconds = bucket.total_latency_ms / 1000
    return {
        "total_messages": bucket.messages,
        "active_accounts": bucket.active_users,
        "avg_of_conversation_messages": round(bucket.messages / bucket.threads, 6) if bucket.threads else 0.0,
        "token_output_rate": round(tokens / seconds, 6) if seconds else 0.0,
        "cost_consumption": 0.0,
    }


def _pop(current: float, previous: float) -> float:
    """Period over period, as the course computes it: (current - previous) / previous, 0 without a previous."""
    return round((current - previous) / previous, 6) if previous else 0


async def app_analysis(db: AsyncSession, assistant: Assistant, now: datetime | None = None) -> dict[str, Any]:
    """The last 7 whole days (UTC) against the 7 before: each figure `{data, pop}`, and 4 daily `*_trend`s."""
    today = _floor(now or datetime.now(UTC), "day")
    week = timedelta(days=ANALYSIS_DAYS)
    current = await deployment_usage(db, assistant, today - week, today, "day")
    previous = await deployment_usage(db, assistant, today - 2 * week, today - week, "day")
    now_figures, then_figures = _indicators(current.total), _indicators(previous.total)
    daily = [(int(bucket.start.timestamp()), _indicators(bucket)) for bucket in current.buckets]
    trends = {
        f"{name}_trend": {"x_axis": [day for day, _ in daily], "y_axis": [figures[name] for _, figures in daily]}
        for name in TRENDS
    }
    figures = {
        name: {"data": now_figures[name], "pop": _pop(now_figures[name], then_figures[name])} for name in INDICATORS
    }
    return {**trends, **figures}
