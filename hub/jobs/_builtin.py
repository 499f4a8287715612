"""The hub's own singleton jobs: schedule repair and telemetry retention.

* **Schedule repair** (every ``schedule_repair_s``): re-stages the schedule of every edge
  with instructions that have not ended, so a schedule whose content moved with time (an
  instruction ended) or that a crash left half-done is staged and published again; an
  unchanged schedule has the same digest and is left alone (``stage_schedules``).
* **Telemetry retention** (every ``retention_interval_s``): raw rows older than
  ``retention_raw_days`` are summarised into 1-minute buckets (``telemetry_rollups``,
  width 60: count, mean, min, max) and deleted; 1-minute buckets older than
  ``retention_1m_days`` into 15-minute buckets (width 900), kept for ever. Work goes in
  slices of one hour of data per transaction, at most ``retention_slices`` per run, each
  fenced by the lease; a bucket met again (late rows) is merged, not replaced.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store import DispatchInstruction, Telemetry, TelemetryRollup

from ._election import Lease
from ._supervisor import SingletonJob

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

DAY_MS = 86_400_000
SLICE_MS = 3_600_000


async def repair_schedules(ctx: HubContext, lease: Lease) -> int:
    """Stage again what changed in the schedules of edges with open instructions."""
    from hub.dispatch import stage_schedules

    now_ms = ctx.clock.now_ms()
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    async with ctx.sessions() as session:
        await lease.check(session)
        edges = set(
            await session.execute(
                select(DispatchInstruction.edge_tenant, DispatchInstruction.edge_id)
                .where(
                    DispatchInstruction.end_time > now - dt.timedelta(hours=1),
                    DispatchInstruction.edge_id.is_not(None),
                    DispatchInstruction.parent_id.is_not(None),
                )
                .distinct()
            )
        )
        changed = await stage_schedules(
            session,
            {(t, e) for t, e in edges if t and e},
            now_ms,
            ctx.settings.schedule_expiry_s,
        )
        await lease.check(session)
        await session.commit()
    if changed and ctx.publisher is not None:
        for edge in changed:
            ctx.publisher.schedule_changed(edge)
        _log.info("schedule repair staged %d edges' schedules again", len(changed))
    return len(changed)


def _merge_sql(dialect: str, select_sql: str) -> str:
    least, greatest = ("LEAST", "GREATEST") if dialect == "postgresql" else ("MIN", "MAX")
    return (
        "INSERT INTO telemetry_rollups (tenant, edge_id, device_id, name, width_s, bucket_ms,"
        f" count, mean, min, max) {select_sql} "
        "ON CONFLICT (tenant, edge_id, device_id, name, width_s, bucket_ms) DO UPDATE SET"
        " mean = CASE WHEN telemetry_rollups.count + excluded.count = 0 THEN NULL ELSE"
        " (COALESCE(telemetry_rollups.mean, 0) * telemetry_rollups.count"
        " + COALESCE(excluded.mean, 0) * excluded.count) * 1.0"
        " / (telemetry_rollups.count + excluded.count) END,"
        " count = telemetry_rollups.count + excluded.count,"
        f" min = COALESCE({least}(telemetry_rollups.min, excluded.min),"
        " telemetry_rollups.min, excluded.min),"
        f" max = COALESCE({greatest}(telemetry_rollups.max, excluded.max),"
        " telemetry_rollups.max, excluded.max)"
    )


RAW_TO_1M = (
    "SELECT tenant, edge_id, device_id, name, 60, (ts_ms / 60000) * 60000, count(value),"
    " avg(value), min(value), max(value) FROM telemetry WHERE ts_ms >= :lo AND ts_ms < :hi"
    " GROUP BY tenant, edge_id, device_id, name, (ts_ms / 60000) * 60000"
)
M1_TO_15M = (
    "SELECT tenant, edge_id, device_id, name, 900, (bucket_ms / 900000) * 900000, sum(count),"
    " sum(mean * count) * 1.0 / NULLIF(sum(CASE WHEN mean IS NULL THEN 0 ELSE count END), 0),"
    " min(min), max(max) FROM telemetry_rollups WHERE width_s = 60 AND bucket_ms >= :lo"
    " AND bucket_ms < :hi"
    " GROUP BY tenant, edge_id, device_id, name, (bucket_ms / 900000) * 900000"
)


async def _oldest(session: AsyncSession, raw: bool) -> int | None:
    if raw:
        value = await session.scalar(select(func.min(Telemetry.ts_ms)))
    else:
        value = await session.scalar(
            select(func.min(TelemetryRollup.bucket_ms)).where(TelemetryRollup.width_s == 60)
        )
    return None if value is None else int(value)


async def _roll(ctx: HubContext, lease: Lease, raw: bool, cutoff_ms: int, budget: int) -> int:
    """Summarise and delete slices older than ``cutoff_ms``; returns the slices done."""
    done = 0
    align = 60_000 if raw else 900_000
    cutoff_ms -= cutoff_ms % align
    while done < budget:
        async with ctx.sessions() as session:
            oldest = await _oldest(session, raw)
            if oldest is None or oldest >= cutoff_ms:
                return done
            lo = oldest - oldest % align
            hi = min(cutoff_ms, lo + SLICE_MS)
            await lease.check(session)
            dialect = session.get_bind().dialect.name
            params = {"lo": lo, "hi": hi}
            await session.execute(
                text(_merge_sql(dialect, RAW_TO_1M if raw else M1_TO_15M)), params
            )
            if raw:
                await session.execute(
                    text("DELETE FROM telemetry WHERE ts_ms >= :lo AND ts_ms < :hi"), params
                )
            else:
                await session.execute(
                    text(
                        "DELETE FROM telemetry_rollups WHERE width_s = 60"
                        " AND bucket_ms >= :lo AND bucket_ms < :hi"
                    ),
                    params,
                )
            await session.commit()
        done += 1
    return done


async def telemetry_retention(ctx: HubContext, lease: Lease) -> int:
    """Downsample and expire telemetry (see the module docstring); returns slices done."""
    settings = ctx.settings
    now_ms = ctx.clock.now_ms()
    budget = settings.retention_slices
    done = await _roll(ctx, lease, True, now_ms - settings.retention_raw_days * DAY_MS, budget)
    done += await _roll(
        ctx, lease, False, now_ms - settings.retention_1m_days * DAY_MS, budget - done
    )
    if done:
        _log.info("telemetry retention: %d hour slices summarised and expired", done)
    return done


async def _repair(ctx: HubContext, lease: Lease) -> None:
    await repair_schedules(ctx, lease)


async def _retention(ctx: HubContext, lease: Lease) -> None:
    await telemetry_retention(ctx, lease)


SCHEDULE_REPAIR = SingletonJob(
    "schedule-repair", lambda s: s.schedule_repair_s, _repair, wait_first=True
)
TELEMETRY_RETENTION = SingletonJob(
    "telemetry-retention",
    lambda s: s.retention_interval_s,
    _retention,
    enabled=lambda s: s.retention_raw_days > 0,
    wait_first=True,
)

__all__ = ["SCHEDULE_REPAIR", "TELEMETRY_RETENTION", "repair_schedules", "telemetry_retention"]
