"""Leader election for singleton jobs, with a fencing token.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated
connection. The process that takes it bumps the job's row in ``job_leases`` (``epoch``
+ 1): that epoch is the lease's fencing token. A job checks it inside its own write
transaction (:meth:`Lease.check`, ``SELECT ... FOR SHARE`` of the row), so a leader that
was paused, lost its connection and woke up after another took over cannot commit: the
newer leader's bump either happened (the epochs differ) or waits on the row lock until the
old transaction ends. When the leader's process dies, PostgreSQL closes its session and
releases the lock; a candidate retries every ``retry_s`` (1 s), so takeover takes about
that long. The holder checks its connection every ``check_s``; a failed check (the
connection broke, the epoch moved, or it did not answer within ``3 * check_s``) marks the
lease lost and cancels the body of :func:`elect`.

SQLite (embedded, one process): an in-process registry per database URL stands in for
the lock; the epoch row and the fencing check work the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hub.store import JobLease, utcnow

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

RETRY_S = 1.0
CHECK_S = 1.0

_LOCAL_HOLDERS: dict[tuple[str, str], object] = {}
"""SQLite: (database URL, job name) -> the lease holding it in this process."""


class LeaseLostError(Exception):
    """This process is no longer the job's leader (another took over, or the lock's
    connection broke): nothing more may be written under this lease."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    digest = hashlib.sha256(b"lingtan-job:" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """Leadership of one job; ``token`` is its fencing epoch (grows at every takeover)."""

    def __init__(self, name: str, token: int, holder: str) -> None:
        self.name = name
        self.token = token
        self.holder = holder
        self._lost = asyncio.Event()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    async def wait_lost(self) -> None:
        await self._lost.wait()

    def _mark_lost(self) -> None:
        self._lost.set()

    async def check(self, session: AsyncSession) -> None:
        """Raise :class:`LeaseLostError` unless this lease still holds the job. Call it in the
        job's write transaction before committing: it share-locks the job's row, so a
        takeover cannot slip in between the check and the commit."""
        if self.lost:
            raise LeaseLostError(self.name)
        epoch = (
            await session.execute(
                select(JobLease.epoch).where(JobLease.name == self.name).with_for_update(read=True)
            )
        ).scalar_one_or_none()
        if epoch != self.token:
            self._mark_lost()
            raise LeaseLostError(f"{self.name}: epoch {epoch} is not this lease's {self.token}")


async def _bump(conn: AsyncConnection, name: str, holder: str) -> int:
    """Take the job over: epoch + 1 (or 1 for a new job), in its own transaction."""
    now = utcnow()
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = module.insert(JobLease).values(name=name, epoch=0, holder=holder, acquired_at=now)
    await conn.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    epoch = (
        await conn.execute(
            update(JobLease)
            .where(JobLease.name == name)
            .values(epoch=JobLease.epoch + 1, holder=holder, acquired_at=now)
            .returning(JobLease.epoch)
        )
    ).scalar_one()
    await conn.commit()
    return int(epoch)


async def _epoch(conn: AsyncConnection, name: str) -> int | None:
    value = (
        await conn.execute(select(JobLease.epoch).where(JobLease.name == name))
    ).scalar_one_or_none()
    await conn.commit()
    return None if value is None else int(value)


async def _watch(conn: AsyncConnection, lease: Lease, check_s: float) -> None:
    """Hold the lease: check the lock's connection and the epoch every ``check_s``."""
    try:
        while True:
            await asyncio.sleep(check_s)
            async with asyncio.timeout(3 * check_s):
                epoch = await _epoch(conn, lease.name)
            if epoch != lease.token:
                _log.warning("job %s: epoch moved to %s, lease lost", lease.name, epoch)
                return
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the connection broke or hung: someone may take over
        _log.warning("job %s: lock connection failed (%s), lease lost", lease.name, exc)
    finally:
        lease._mark_lost()


@contextlib.asynccontextmanager
async def _hold_postgres(
    engine: AsyncEngine, name: str, retry_s: float, check_s: float
) -> AsyncIterator[tuple[Lease, AsyncConnection]]:
    key = lock_key(name)
    holder = holder_id()
    while True:
        conn: AsyncConnection | None = None
        try:
            conn = await engine.connect()
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            ).scalar_one()
            await conn.commit()
            if got:
                token = await _bump(conn, name, holder)
                break
        except Exception as exc:
            _log.warning("job %s: election failed (%s), retrying", name, exc)
        if conn is not None:
            await _discard(conn)
        await asyncio.sleep(retry_s)
    lease = Lease(name, token, holder)
    try:
        yield lease, conn
    finally:
        lease._mark_lost()
        await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Close the lock's connection for good (its session ends: PostgreSQL releases every
    advisory lock it held; it never goes back to the pool holding one)."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()


@contextlib.asynccontextmanager
async def _hold_local(
    engine: AsyncEngine, name: str, retry_s: float
) -> AsyncIterator[tuple[Lease, None]]:
    slot = (str(engine.url), name)
    holder = holder_id()
    marker = object()
    while _LOCAL_HOLDERS.setdefault(slot, marker) is not marker:  # noqa: ASYNC110 - polled like the PostgreSQL lock
        await asyncio.sleep(retry_s)
    try:
        while True:
            try:
                async with engine.connect() as conn:
                    token = await _bump(conn, name, holder)
                break
            except Exception as exc:
                _log.warning("job %s: election failed (%s), retrying", name, exc)
                await asyncio.sleep(retry_s)
        lease = Lease(name, token, holder)
        try:
            yield lease, None
        finally:
            lease._mark_lost()
    finally:
        if _LOCAL_HOLDERS.get(slot) is marker:
            del _LOCAL_HOLDERS[slot]


@contextlib.asynccontextmanager
async def elect(
    ctx: HubContext | AsyncEngine,
    name: str,
    *,
    retry_s: float = RETRY_S,
    check_s: float = CHECK_S,
) -> AsyncIterator[Lease]:
    """Wait until this process leads job ``name``, then run the body as its leader.

    ``async with elect(ctx, "trading-loop") as lease:`` -- the body is cancelled when the
    lease is lost and the ``async with`` then raises :class:`LeaseLostError`; writes must call
    ``await lease.check(session)`` in their transaction (fencing)."""
    engine = ctx if isinstance(ctx, AsyncEngine) else ctx.engine
    task = asyncio.current_task()
    assert task is not None
    holding: contextlib.AbstractAsyncContextManager[tuple[Lease, AsyncConnection | None]] = (
        _hold_postgres(engine, name, retry_s, check_s)
        if engine.dialect.name == "postgresql"
        else _hold_local(engine, name, retry_s)
    )
    async with holding as (lease, conn):
        _log.info("job %s: leader (epoch %d)", name, lease.token)
        watch = None if conn is None else asyncio.create_task(_watch(conn, lease, check_s))
        active = True
        cancelled_by_us = False

        def on_lost(_: object) -> None:
            nonlocal cancelled_by_us
            if active:
                cancelled_by_us = True
                task.cancel()

        waiter = asyncio.create_task(lease.wait_lost())
        waiter.add_done_callback(on_lost)
        try:
            yield lease
        except asyncio.CancelledError:
            if cancelled_by_us and task.uncancel() == 0:
                raise LeaseLostError(name) from None
            raise
        finally:
            active = False
            waiter.remove_done_callback(on_lost)
            waiter.cancel()
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watch
            lease._mark_lost()


__all__ = ["CHECK_S", "RETRY_S", "Lease", "LeaseLostError", "elect", "holder_id", "lock_key"]
