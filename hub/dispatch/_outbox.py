"""The schedule outbox's publisher: drains staged schedules to the broker.

Schedules are staged in the transaction that stored their instructions
(:func:`hub.dispatch.stage_schedules`); :func:`drain_outbox` publishes, per edge, the newest
unpublished one (retained: a newer version makes the older ones moot), marks it published
and deletes the edge's older rows. Whatever a crash left between commit and publish goes
out at the next drain: the bus drains on every (re)connection, so at start-up too, and
every ``outbox_poll_s`` (rows staged by another hub process). A row is marked published
only after the broker acknowledged it (at least once: a crash in between publishes it
again, and an edge takes a version it already has as a no-op).

Edges are ``(tenant, edge id)``: a schedule goes to ``vpp/v1/{tenant}/{edge}/dispatch`` of
the tenant it was staged for, never to another tenant's edge of the same id.

No transaction is open, and no edge row locked, while the broker acknowledges: one
statement reads every edge's newest unpublished row, the publishes follow, and two
statements mark them (whatever the number of edges), so staging (which locks the edge's
row) never waits on the broker. Drains are serialised by a PostgreSQL session-level
advisory lock held on the drain's own connection (in autocommit) from the read to the
marks: a version is never published after a newer one of the same edge, even with two hub
processes on one database. (SQLite is one process with one drainer.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store import DispatchOutbox
from protocol.topics import EdgeTopics, TopicError

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], Awaitable[None]]
"""Publish a payload retained with QoS 1 on a topic; raises when the broker is gone."""

DRAIN_KEY: Final = int.from_bytes(
    hashlib.sha256(b"lingtan-outbox:drain").digest()[:8], "big", signed=True
)
"""The advisory lock key that serialises the drains of all hub processes."""

_outbox = cast(Table, DispatchOutbox.__table__)
_NEWEST = (
    select(DispatchOutbox.tenant, DispatchOutbox.edge_id, DispatchOutbox.id, DispatchOutbox.payload)
    .where(
        DispatchOutbox.id.in_(
            select(func.max(DispatchOutbox.id))
            .where(DispatchOutbox.published_at.is_(None))
            .group_by(DispatchOutbox.tenant, DispatchOutbox.edge_id)
        )
    )
    .order_by(DispatchOutbox.tenant, DispatchOutbox.edge_id)
)
# The older rows of an edge are moot once its newest is published (the retained newest
# replaces them): the table keeps the last one per edge, plus those not yet published.
_DROP_OLDER = delete(_outbox).where(
    _outbox.c.tenant == bindparam("t"),
    _outbox.c.edge_id == bindparam("e"),
    _outbox.c.id < bindparam("i"),
)
_MARK = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("i"))
    .values(published_at=bindparam("at"), error=bindparam("err"))
)


@contextlib.asynccontextmanager
async def _drain_connection(ctx: HubContext) -> AsyncIterator[AsyncConnection]:
    """The drain's connection: on PostgreSQL in autocommit and holding :data:`DRAIN_KEY`
    (closed for good on an error, so it never goes back to the pool holding the lock)."""
    postgresql = ctx.engine.dialect.name == "postgresql"
    conn = await ctx.engine.connect()
    try:
        if postgresql:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": DRAIN_KEY})
        yield conn
        if postgresql:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": DRAIN_KEY})
    except BaseException:
        with contextlib.suppress(Exception):
            await conn.invalidate()
        raise
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def drain_outbox(ctx: HubContext, publish: Publish) -> int:
    """Publish every edge's newest staged schedule; returns how many were published.

    A broker error propagates (the rows not published stay for the next connection; those
    published before it are marked). A row whose topic cannot be built (an edge id from
    before ids were checked) is marked with the error and counted in
    ``hub_schedule_failures_total``; the other edges go on.
    """
    published = 0
    async with _drain_connection(ctx) as conn:
        rows = (await conn.execute(_NEWEST)).all()
        await conn.commit()  # SQLite: no transaction open over the publishes
        done: list[dict[str, Any]] = []
        try:
            for tenant, edge_id, row_id, payload in rows:
                error: str | None = None
                try:
                    topic = EdgeTopics(tenant, edge_id).dispatch
                except TopicError as exc:
                    error = str(exc)[:500]
                    ctx.metrics.schedule_failures.inc()
                    _log.error(
                        "cannot publish the schedule of %r/%r (%s); skipped", tenant, edge_id, exc
                    )
                else:
                    await publish(topic, payload)
                    ctx.metrics.schedules_published.inc()
                    published += 1
                done.append({"t": tenant, "e": edge_id, "i": row_id, "err": error})
        finally:
            if done:
                at = dt.datetime.now(dt.UTC)
                await conn.execute(_DROP_OLDER, done)
                await conn.execute(_MARK, [{**d, "at": at} for d in done])
                await conn.commit()
    return published
