"""Fleet gauges from the database: ``hub_edge_online{tenant,edge}`` and ``hub_edges{state}``.

An edge's online state is in the ``edges`` table (ingest writes it from the edge's
retained MQTT state, whichever replica got it), so every replica reports the same values
and the alert rule takes the ``max`` over replicas: the edge-offline alert needs no
leader. Refreshed every ``fleet_metrics_s`` (30 s; 0 turns it off) with one read of
``edges``; edges that disappear lose their series.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import Edge

if TYPE_CHECKING:
    from hub._context import HubContext
    from hub._metrics import Metrics

_log = logging.getLogger(__name__)


class FleetGauges:
    """Sets the fleet gauges from one read of ``edges`` and forgets edges that are gone."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], metrics: Metrics) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._known: set[tuple[str, str]] = set()

    async def refresh(self) -> tuple[int, int]:
        """Read every edge's state; returns (online, total)."""
        async with self._sessions() as session:
            rows = (await session.execute(select(Edge.tenant, Edge.id, Edge.online))).all()
        metrics = self._metrics
        seen: set[tuple[str, str]] = set()
        online = 0
        for tenant, edge, is_online in rows:
            seen.add((tenant, edge))
            online += bool(is_online)
            metrics.edge_online.labels(tenant=tenant, edge=edge).set(1 if is_online else 0)
        for tenant, edge in self._known - seen:
            with contextlib.suppress(KeyError):
                metrics.edge_online.remove(tenant, edge)
        self._known = seen
        metrics.edges.labels(state="online").set(online)
        metrics.edges.labels(state="offline").set(len(rows) - online)
        return online, len(rows)

    async def run(self, period_s: float) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep the last values, retry
                _log.warning("fleet gauges not refreshed: %s", exc)
            await asyncio.sleep(period_s)


@contextlib.asynccontextmanager
async def fleet_gauges(ctx: HubContext, period_s: float) -> AsyncIterator[FleetGauges]:
    """Refresh the fleet gauges every ``period_s`` while the context is open (0: never)."""
    gauges = FleetGauges(ctx.sessions, ctx.metrics)
    if period_s <= 0:
        yield gauges
        return
    task = asyncio.create_task(gauges.run(period_s), name="fleet-gauges")
    try:
        yield gauges
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = ["FleetGauges", "fleet_gauges"]
