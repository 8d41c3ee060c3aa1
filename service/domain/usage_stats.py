"""Usage analytics of a deployment: messages, threads, active users, tokens, latency, errors, feedback per interval.

One aggregate query over the deployment's visible messages in [from, to): per hour or day (UTC) and, through
GROUPING SETS, the whole range in the same pass (distinct threads and users do not add up across intervals).
`ix_messages_assistant_created_usage` holds every column it reads, so it is an index-only scan; the sessions are
joined only for their `user_id`. Latency percentiles are over answered turns (a failure's latency is the time
to fail); error rate is failed turns over all turns. A user is a session's `user_id` where the face gives one
(RAGFlow, the OpenAI face's `user`) and otherwise the thread itself; stateless turns (no session) count in
messages, tokens and latency but not as threads or users.

The apps face's `/analysis` (the imooc course's shape) is computed from the same function: `app_analysis`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant
from service.errors import Invalid

INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=7)}
MAX_BUCKETS = 1000
SORT_MEMORY = "64MB"  # for this transaction only
_OFFSET_AS_SPACE = re.compile(r" (\d\d(:?\d\d)?)$")  # a `+09:00` whose `+` a query string decoded as a space

# `{interval}` is one of INTERVALS' keys, written in (a bound value would make the grouped expression a parameter).
# `date_bin` from a UTC midnight cuts UTC hours and days by arithmetic alone: `date_trunc(.., 'UTC')` converts
# every row's time zone, which was a third of the query on 100k histories.
USAGE_SQL = """
SELECT bucket, grouping(bucket), count(*), count(DISTINCT session_id), count(DISTINCT coalesce(user_id, session_id)),
       coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status = 'ok'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status = 'ok'),
       count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE thumbup), count(*) FILTER (WHERE NOT thumbup),
       coalesce(sum(latency_ms), 0)
FROM (
    SELECT date_bin(interval '1 {interval}', m.created_at, timestamptz '2000-01-01 00:00:00+00') AS bucket,
           m.session_id, nullif(s.user_id, '') AS user_id,
           m.status, m.prompt_tokens, m.completion_tokens, m.latency_ms, m.thumbup
    FROM messages AS m
    LEFT JOIN chat_sessions AS s ON s.id = m.session_id AND s.assistant_id = :assistant_id
    WHERE m.assistant_id = :assistant_id AND m.deleted_at IS NULL AND m.created_at >= :start AND m.created_at < :end
) AS turns
GROUP BY GROUPING SETS ((bucket), ())
"""
USAGE_QUERIES = {interval: text(USAGE_SQL.format(interval=interval)) for interval in INTERVALS}


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


def _bucket(row: Any) -> UsageBucket:
    start, _, *counts = row
    messages, threads, users, tokens_in, tokens_out, p50, p95, errors, likes, dislikes, latency = counts
    rounded = (None if p50 is None else round(p50, 3), None if p95 is None else round(p95, 3))
    return UsageBucket(
        start, messages, threads, users, tokens_in, tokens_out, *rounded, errors, likes, dislikes, latency
    )


async def deployment_usage(
    db: AsyncSession, assistant: Assistant, start: datetime, end: datetime, interval: str
) -> Usage:
    """Every interval from the one holding `start` to the one before `end`, empty ones included."""
    params = {"assistant_id": assistant.id, "start": start, "end": end}
    # The grouped sort of 100k turns (~20 MB) spilled to disk at the default 4 MB, a fifth of the query's time.
    await db.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    rows = (await db.execute(USAGE_QUERIES[interval], params)).all()
    found = {row[0]: _bucket(row) for row in rows if not row[1]}
    total = next((_bucket(row) for row in rows if row[1]), None) or UsageBucket(start)
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
