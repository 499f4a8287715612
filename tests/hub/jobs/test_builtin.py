"""The hub's own singleton jobs on SQLite and PostgreSQL: telemetry retention with
downsampling, fenced by the lease; schedule repair."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.jobs import LeaseLostError, elect, repair_schedules, telemetry_retention
from hub.store import JobLease, LiveCache, Telemetry, TelemetryRollup, create_engine, sessionmaker
from protocol.clock import ManualClock

DAY_MS = 86_400_000


def _ctx(url: str, clock: ManualClock) -> HubContext:
    engine = create_engine(url)
    settings = Settings(db_url=url, mqtt_url=None, jwt_secret="x" * 40, retention_slices=10_000)
    return HubContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessionmaker(engine),
        cache=LiveCache(),
        tokens=TokenService(settings.jwt_secret, 60),
        metrics=Metrics(),
    )


def point(seq: int, ts_ms: int, value: float | None) -> Telemetry:
    return Telemetry(
        tenant="default", edge_id="park-a", sid=1, seq=seq, idx=0, device_id="bess-1",
        name="p_w", ts_ms=ts_ms, value=value, quality="good",
    )  # fmt: skip


async def rollups(
    db: async_sessionmaker[AsyncSession],
) -> list[tuple[int, int, int, float | None, float | None, float | None]]:
    async with db() as session:
        rows = await session.execute(
            select(
                TelemetryRollup.width_s, TelemetryRollup.bucket_ms, TelemetryRollup.count,
                TelemetryRollup.mean, TelemetryRollup.min, TelemetryRollup.max,
            ).order_by(TelemetryRollup.width_s, TelemetryRollup.bucket_ms)
        )  # fmt: skip
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_retention_summarises_old_raw_rows_then_old_minutes_and_keeps_the_recent(
    clean_db: str, db: async_sessionmaker[AsyncSession], manual_clock: ManualClock
) -> None:
    ctx = _ctx(clean_db, manual_clock)
    now = manual_clock.now_ms() - manual_clock.now_ms() % 900_000
    minute_8d = now - 8 * DAY_MS  # raw, past 7 days: into 1-minute buckets
    old_100d = now - 100 * DAY_MS  # past 90 days: ends in a 15-minute bucket
    try:
        async with db() as session:
            session.add_all(
                [
                    point(1, minute_8d + 1_000, 10.0),
                    point(2, minute_8d + 30_000, 20.0),
                    point(3, minute_8d + 59_999, None),  # a null counts for nothing
                    point(4, minute_8d + 60_000, 5.0),
                    point(5, old_100d + 0, 1.0),
                    point(6, old_100d + 60_000, 3.0),
                    point(7, old_100d + 120_000, 8.0),
                    point(8, now - 1_000, 99.0),  # recent: stays raw
                ]
            )
            await session.commit()
        async with elect(ctx, "telemetry-retention") as lease:
            assert await telemetry_retention(ctx, lease) > 0
            assert await telemetry_retention(ctx, lease) == 0  # nothing left to do
        async with db() as session:
            raw = [r.seq for r in await session.scalars(select(Telemetry).order_by(Telemetry.seq))]
        assert raw == [8]
        assert await rollups(db) == [
            (60, minute_8d, 2, 15.0, 10.0, 20.0),
            (60, minute_8d + 60_000, 1, 5.0, 5.0, 5.0),
            (900, old_100d, 3, 4.0, 1.0, 8.0),
        ]
        # late rows of an already summarised minute are merged into its bucket
        async with db() as session:
            session.add(point(9, minute_8d + 2_000, 30.0))
            await session.commit()
        async with elect(ctx, "telemetry-retention") as lease:
            await telemetry_retention(ctx, lease)
        assert (await rollups(db))[0] == (60, minute_8d, 3, 20.0, 10.0, 30.0)
    finally:
        await ctx.engine.dispose()


async def test_a_deposed_leader_expires_nothing(
    clean_db: str, db: async_sessionmaker[AsyncSession], manual_clock: ManualClock
) -> None:
    ctx = _ctx(clean_db, manual_clock)
    try:
        async with db() as session:
            session.add(point(1, manual_clock.now_ms() - 30 * DAY_MS, 1.0))
            await session.commit()

        async def deposed_run() -> None:
            async with elect(ctx, "telemetry-retention") as lease:
                async with db() as session:  # another replica took over meanwhile
                    await session.execute(update(JobLease).values(epoch=JobLease.epoch + 1))
                    await session.commit()
                await telemetry_retention(ctx, lease)

        with pytest.raises(LeaseLostError):
            await deposed_run()
        async with db() as session:
            assert len(list(await session.scalars(select(Telemetry)))) == 1
        assert await rollups(db) == []
    finally:
        await ctx.engine.dispose()


async def test_schedule_repair_with_nothing_open_stages_nothing(
    clean_db: str, manual_clock: ManualClock
) -> None:
    ctx = _ctx(clean_db, manual_clock)
    try:
        async with elect(ctx, "schedule-repair") as lease:
            assert await repair_schedules(ctx, lease) == 0
    finally:
        await ctx.engine.dispose()
