"""The schedule outbox's publisher: drains staged schedules to the broker.

Schedules are staged in the transaction that stored their instructions
(:func:`hub.dispatch.stage_schedules`); :func:`drain_outbox` publishes, per edge, the newest
unpublished one (retained: a newer version makes the older ones moot), marks it published
and deletes the edge's older rows. Whatever a crash left between commit and publish goes
out at the next drain: the bus drains on every (re)connection, so at start-up too, and
every ``outbox_poll_s`` (rows staged by another hub process).

Each edge is drained under its row lock (``FOR UPDATE`` on PostgreSQL), the lock staging
takes too: a version is never published after a newer one of the same edge, even with two
hub processes on one database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from hub.store import DispatchOutbox, Edge
from protocol.topics import EdgeTopics, TopicError

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], Awaitable[None]]
"""Publish a payload retained with QoS 1 on a topic; raises when the broker is gone."""


async def drain_outbox(ctx: HubContext, publish: Publish) -> int:
    """Publish every edge's newest staged schedule; returns how many were published.

    A broker error propagates (the rows stay for the next connection). A row whose topic
    cannot be built (an edge id from before ids were checked) is marked with the error and
    counted in ``hub_schedule_failures_total``; the other edges go on.
    """
    async with ctx.sessions() as session:
        edges = sorted(
            set(
                await session.scalars(
                    select(DispatchOutbox.edge_id).where(DispatchOutbox.published_at.is_(None))
                )
            )
        )
    published = 0
    for edge_id in edges:
        async with ctx.sessions() as session:
            await session.execute(select(Edge.id).where(Edge.id == edge_id).with_for_update())
            row = await session.scalar(
                select(DispatchOutbox)
                .where(DispatchOutbox.edge_id == edge_id, DispatchOutbox.published_at.is_(None))
                .order_by(DispatchOutbox.id.desc())
                .limit(1)
            )
            if row is None:
                continue  # another hub drained it meanwhile
            error: str | None = None
            try:
                topic = EdgeTopics(row.tenant, edge_id).dispatch
            except TopicError as exc:
                error = str(exc)[:500]
                ctx.metrics.schedule_failures.inc()
                _log.error("cannot publish the schedule of %r (%s); skipped", edge_id, exc)
            else:
                await publish(topic, row.payload)
                ctx.metrics.schedules_published.inc()
                published += 1
            # The older rows of this edge are moot (the retained newest replaces them): the
            # table keeps the last one per edge, plus those not yet published.
            await session.execute(
                delete(DispatchOutbox).where(
                    DispatchOutbox.edge_id == edge_id, DispatchOutbox.id < row.id
                )
            )
            row.published_at = dt.datetime.now(dt.UTC)
            row.error = error
            await session.commit()
    return published
