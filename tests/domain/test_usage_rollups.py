"""Usage statistics from the rollups migration 0016 keeps: every figure against an exact count of the messages.

The messages are written as the service and bulk operations write them (inserts one by one and in bulk, feedback,
soft and hard deletes, moves in time, status changes, a deleted deployment, truncation), and after each change
`deployment_usage` over ranges that start and end inside hours must match a count made from the messages alone:
the counts exactly, the latency percentiles within the histogram's 2.5%.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.engine import asyncpg_dsn, make_engine, make_sessions, upgrade
from service.db.models import Assistant, ChatSession, Message, Tenant, UsageHour, UsageLatencyBin
from service.domain.usage_stats import UsageBucket, deployment_usage
from tests.conftest import create_database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TOLERANCE = math.sqrt(1.05) - 1  # a bin's half width on 1 + latency


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    url: str
    tenant_id: str


@pytest.fixture
async def world(server_url: str) -> AsyncIterator[World]:
    url = await create_database(server_url)
    await upgrade(url)
    engine = make_engine(url, pool_size=4)
    sessions = make_sessions(engine)
    async with sessions() as db:
        tenant = Tenant(name="org")
        db.add(tenant)
        await db.commit()
    yield World(sessions, engine, url, tenant.id)
    await engine.dispose()


async def new_assistant(world: World, users: list[str]) -> tuple[Assistant, list[str]]:
    async with world.sessions() as db:
        assistant = Assistant(tenant_id=world.tenant_id, name="chat")
        db.add(assistant)
        await db.flush()
        threads = [ChatSession(tenant_id=world.tenant_id, assistant_id=assistant.id, name=u, user_id=u) for u in users]
        db.add_all(threads)
        await db.commit()
        return assistant, [thread.id for thread in threads]


def random_messages(rng: random.Random, assistant: Assistant, threads: list[str], n: int) -> list[Message]:
    return [
        Message(
            tenant_id=assistant.tenant_id,
            assistant_id=assistant.id,
            session_id=rng.choice([*threads, None]),  # None: a stateless turn
            channel="openai",
            input=f"q{i}",
            prompt_tokens=rng.randrange(0, 50),
            completion_tokens=rng.randrange(0, 50),
            latency_ms=rng.choice([0.0, 0.4, rng.uniform(1, 5000), rng.uniform(100, 300)]),
            status=rng.choice(["ok", "ok", "ok", "error", "cancelled"]),
            thumbup=rng.choice([None, True, False]),
            created_at=NOW - timedelta(minutes=rng.uniform(0, 3 * 24 * 60)),
        )
        for i in range(n)
    ]


def percentile_cont(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered, h = sorted(values), q * (len(values) - 1)
    low, high = ordered[math.floor(h)], ordered[math.ceil(h)]
    return low + (h - math.floor(h)) * (high - low)


def exact(messages: list[Message], users: dict[str, str], start: datetime, end: datetime) -> UsageBucket:
    """The figures `deployment_usage` must give, counted from the messages alone."""
    shown = [m for m in messages if start <= m.created_at < end and m.deleted_at is None]
    threads = {m.session_id for m in shown if m.session_id}
    answered = [m.latency_ms for m in shown if m.status == "ok"]
    return UsageBucket(
        start,
        messages=len(shown),
        threads=len(threads),
        active_users=len({users[thread] or thread for thread in threads}),
        input_tokens=sum(m.prompt_tokens for m in shown),
        output_tokens=sum(m.completion_tokens for m in shown),
        latency_p50_ms=percentile_cont(answered, 0.5),
        latency_p95_ms=percentile_cont(answered, 0.95),
        errors=sum(m.status == "error" for m in shown),
        likes=sum(m.thumbup is True for m in shown),
        dislikes=sum(m.thumbup is False for m in shown),
        total_latency_ms=sum(m.latency_ms for m in shown),
    )


def assert_matches(found: UsageBucket, expected: UsageBucket) -> None:
    counted = ("messages", "threads", "active_users", "input_tokens", "output_tokens", "errors", "likes", "dislikes")
    assert {name: getattr(found, name) for name in counted} == {name: getattr(expected, name) for name in counted}
    assert found.total_latency_ms == pytest.approx(expected.total_latency_ms)
    for name in ("latency_p50_ms", "latency_p95_ms"):
        got, want = getattr(found, name), getattr(expected, name)
        assert (got is None) == (want is None), (name, got, want)
        if want is not None:
            assert abs((1 + got) / (1 + want) - 1) <= TOLERANCE + 1e-9, (name, got, want)


async def check(world: World, assistant: Assistant, users: dict[str, str], rng: random.Random) -> None:
    """A few ranges, whole and cut inside hours, by hour and by day, against the messages as they are now."""
    async with world.sessions() as db:
        messages = list(await db.scalars(select(Message).where(Message.assistant_id == assistant.id)))
        ranges = [(NOW - timedelta(days=4), NOW, "day"), (NOW - timedelta(hours=30), NOW, "hour")]
        for _ in range(3):
            start = NOW - timedelta(minutes=rng.uniform(60, 3 * 24 * 60))
            ranges.append((start, start + timedelta(minutes=rng.uniform(1, 40 * 60)), rng.choice(["hour", "day"])))
        ranges.append((NOW - timedelta(minutes=50), NOW - timedelta(minutes=10), "hour"))  # inside one hour
        for start, end, interval in ranges:
            usage = await deployment_usage(db, assistant, start, end, interval)
            assert_matches(usage.total, exact(messages, users, start, end))
            for bucket in usage.buckets:
                since, until = max(bucket.start, start), min(bucket.start + step(interval), end)
                assert_matches(bucket, exact(messages, users, since, until))


def step(interval: str) -> timedelta:
    return timedelta(hours=1) if interval == "hour" else timedelta(days=1)


async def test_rollups_answer_as_the_messages_do_through_every_kind_of_write(world: World) -> None:
    rng = random.Random(16)
    assistant, threads = await new_assistant(world, ["alice", "bob", "alice", ""])
    users = dict(zip(threads, ["alice", "bob", "alice", ""], strict=True))
    async with world.sessions() as db:
        db.add_all(random_messages(rng, assistant, threads, 300))  # one INSERT statement of many rows
        await db.commit()
    for message in random_messages(rng, assistant, threads, 20):  # one by one, as answers are recorded
        async with world.sessions() as db:
            db.add(message)
            await db.commit()
    await check(world, assistant, users, rng)

    async with world.sessions() as db:
        ids = list(await db.scalars(select(Message.id).where(Message.assistant_id == assistant.id)))
        rng.shuffle(ids)
        await db.execute(update(Message).where(Message.id.in_(ids[:40])).values(thumbup=True))  # feedback
        await db.execute(update(Message).where(Message.id.in_(ids[40:60])).values(deleted_at=NOW))  # soft delete
        await db.execute(update(Message).where(Message.id.in_(ids[60:80])).values(status="ok", latency_ms=42.0))
        moved = update(Message).where(Message.id.in_(ids[80:100]))
        await db.execute(moved.values(created_at=Message.created_at - timedelta(hours=5)))
        await db.execute(update(Message).where(Message.id.in_(ids[100:110])).values(input="edited"))  # not counted
        await db.execute(update(Message).where(Message.id.in_(ids[110:120])).values(session_id=threads[1]))
        await db.execute(delete(Message).where(Message.id.in_(ids[120:150])))
        await db.commit()
    await check(world, assistant, users, rng)

    async with world.sessions() as db:  # soft-deleted ones come back; every rollup row still matches
        await db.execute(update(Message).where(Message.id.in_(ids[40:50])).values(deleted_at=None))
        await db.commit()
    await check(world, assistant, users, rng)
    assert await rollup_rows(world) == await recounted_rows(world)


async def rollup_rows(world: World) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    async with world.sessions() as db:
        hours = (await db.execute(select(UsageHour).order_by(UsageHour.assistant_id, UsageHour.hour))).scalars()
        bins = (await db.execute(select(UsageLatencyBin))).scalars()
        return (
            sorted((h.assistant_id, h.hour, h.session_id, h.turns, h.errors, h.likes, h.dislikes) for h in hours),
            sorted((b.assistant_id, b.hour, b.bin, b.turns) for b in bins),
        )


async def recounted_rows(world: World) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rollups as migration 0016's backfill would count the messages now."""
    connection = await asyncpg.connect(asyncpg_dsn(world.url))
    try:
        hours = await connection.fetch(
            """SELECT assistant_id, usage_hour(created_at), coalesce(session_id, ''), count(*),
                      count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE thumbup),
                      count(*) FILTER (WHERE NOT thumbup)
               FROM messages WHERE deleted_at IS NULL AND assistant_id IS NOT NULL GROUP BY 1, 2, 3"""
        )
        bins = await connection.fetch(
            """SELECT assistant_id, usage_hour(created_at), usage_latency_bin(latency_ms), count(*) FROM messages
               WHERE deleted_at IS NULL AND assistant_id IS NOT NULL AND status = 'ok' GROUP BY 1, 2, 3"""
        )
    finally:
        await connection.close()
    return sorted(tuple(row) for row in hours), sorted(tuple(row) for row in bins)


async def test_a_deleted_deployment_and_a_truncation_leave_no_rollups(world: World) -> None:
    rng = random.Random(7)
    kept, kept_threads = await new_assistant(world, ["carol"])
    gone, gone_threads = await new_assistant(world, ["dave"])
    async with world.sessions() as db:
        db.add_all(random_messages(rng, kept, kept_threads, 30) + random_messages(rng, gone, gone_threads, 30))
        await db.commit()
    async with world.sessions() as db:
        await db.execute(delete(Assistant).where(Assistant.id == gone.id))  # its messages go by cascade
        await db.commit()
    hours, bins = await rollup_rows(world)
    assert {row[0] for row in hours} == {kept.id} and {row[0] for row in bins} <= {kept.id}
    assert (hours, bins) == await recounted_rows(world)

    connection = await asyncpg.connect(asyncpg_dsn(world.url))
    try:
        await connection.execute("TRUNCATE messages CASCADE")
    finally:
        await connection.close()
    assert await rollup_rows(world) == ([], [])


async def test_concurrent_answers_in_one_hour_are_all_counted(world: World) -> None:
    """Stateless turns of one hour share a rollup row: concurrent writers queue on it, none is lost."""
    assistant, _ = await new_assistant(world, [])

    async def answer(i: int) -> None:
        async with world.sessions() as db:
            db.add(
                Message(
                    tenant_id=assistant.tenant_id,
                    assistant_id=assistant.id,
                    channel="openai",
                    input=f"q{i}",
                    latency_ms=float(i),
                    created_at=NOW - timedelta(minutes=30),
                )
            )
            await db.commit()

    await asyncio.gather(*(answer(i) for i in range(24)))
    async with world.sessions() as db:
        usage = await deployment_usage(db, assistant, NOW - timedelta(hours=1), NOW, "hour")
    assert usage.total.messages == 24 and usage.total.threads == 0
    assert usage.total.latency_p50_ms is not None and abs(usage.total.latency_p50_ms - 11.5) <= 12.5 * TOLERANCE
