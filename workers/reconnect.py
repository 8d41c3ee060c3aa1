"""Telling a lost database connection from a job's own failure, and waiting for the database to come back.

A restart of PostgreSQL closes every connection: the worker's queue connection (LISTEN, dequeue, heartbeats)
and the pooled ones its jobs use. Neither is a reason to fail a document or to stop the worker; both are a
reason to reconnect and to let the queue hand the interrupted jobs out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import time
from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# What asyncpg raises when the server is gone, going or not there yet. Listed one by one: their parent classes
# also hold errors that are no outage (OperatorInterventionError holds query_canceled, for one).
_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and "connection was closed in the middle of operation"
    asyncpg.AdminShutdownError,  # 57P01 terminating connection due to administrator command (a restart)
    asyncpg.CrashShutdownError,  # 57P02 another backend crashed, the server is resetting
    asyncpg.CannotConnectNowError,  # 57P03 the database system is starting up / shutting down
    asyncpg.TooManyConnectionsError,  # 53300 every slot taken, typically by clients reconnecting at once
)
# Socket errors of a connect or of a connection dropped under us (ENOENT: the server's unix socket is gone).
_OUTAGE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ENOENT,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: SQLAlchemy's `.orig`, `raise … from`, and the exception being handled."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def connection_lost(exc: BaseException) -> bool:
    """True when `exc` comes from the database connection going away, not from the work itself."""
    for cause in _causes(exc):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _OUTAGE_ERRORS):
            return True
        if isinstance(cause, asyncpg.InterfaceError) and "connection is closed" in str(cause):
            return True
        if isinstance(cause, OSError) and cause.errno in _OUTAGE_ERRNOS and cause.filename is None:
            return True  # a socket's error: one about a file (a missing model, say) names the file
    return False


class DatabaseUnreachable(RuntimeError):
    """The worker could not get back to the database within its reconnect timeout."""


class Outage:
    """One stretch without the database: exponential backoff between attempts, and a bound on the whole.

    `give_up_after` None waits as long as it takes (the in-process worker of `nectar serve`, which healthz
    reports meanwhile); a number makes `wait()` raise `DatabaseUnreachable` once that many seconds have gone
    by, so a standalone worker exits and its supervisor starts a fresh one.
    """

    FIRST_DELAY = 0.25  # seconds; a restart takes about one, so the first attempts come quickly
    MAX_DELAY = 1.0  # a refused connect costs the server nothing: retry often, resume within a second

    def __init__(self, give_up_after: float | None) -> None:
        self.give_up_after = give_up_after
        self.began = time.monotonic()
        self.attempts = 0
        self.last_error: BaseException | None = None

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.began

    def describe(self) -> str:
        error = f"{type(self.last_error).__name__}: {self.last_error}" if self.last_error else "connection lost"
        return f"database unreachable for {self.seconds:.0f} s ({error})"[:300]

    async def wait(self, error: BaseException, stopping: asyncio.Event) -> None:
        """Sleep before the next attempt (returning early on `stopping`); raise once the outage is too long."""
        self.last_error = error
        if self.give_up_after is not None and self.seconds >= self.give_up_after:
            raise DatabaseUnreachable(
                f"gave up reconnecting after {self.seconds:.0f} s (NECTAR_WORKER_RECONNECT_TIMEOUT="
                f"{self.give_up_after:g}): {type(error).__name__}: {error}"
            ) from error
        delay = min(self.MAX_DELAY, self.FIRST_DELAY * 2**self.attempts) * random.uniform(0.8, 1.2)
        if self.give_up_after is not None:  # one last attempt right at the bound, not a sleep past it
            delay = max(0.0, min(delay, self.give_up_after - self.seconds))
        self.attempts += 1
        log.warning("worker: %s; next attempt in %.1f s", self.describe(), delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
