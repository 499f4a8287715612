"""Stopping the job supervisor: a run under way finishes (its commit and its session's close
are not cut in the middle), a run that never ends is cancelled after ``stop_s``, and a lost
lease still cancels the run at once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.jobs import JobSupervisor, Lease, SingletonJob
from hub.store import JobLease, LiveCache, create_engine, sessionmaker, utcnow
from protocol.clock import RealClock
from tests.support import SAFETY_TIMEOUT

FAST = {"retry_s": 0.05, "check_s": 0.05}


def _ctx(url: str) -> HubContext:
    engine = create_engine(url)
    settings = Settings(db_url=url, mqtt_url=None, jwt_secret="x" * 40)
    return HubContext(
        settings=settings,
        clock=RealClock(),
        engine=engine,
        sessions=sessionmaker(engine),
        cache=LiveCache(),
        tokens=TokenService(settings.jwt_secret, 60),
        metrics=Metrics(),
    )


def _pool_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("sqlalchemy") and r.levelno >= logging.ERROR
    ]


async def test_stopping_lets_a_run_under_way_commit_and_close_its_session(
    clean_db: str, db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    started, gate = asyncio.Event(), asyncio.Event()

    async def run(ctx: HubContext, lease: Lease) -> None:
        async with ctx.sessions() as session:
            await session.execute(select(JobLease.epoch))  # the transaction is open
            started.set()
            await gate.wait()
            session.add(JobLease(name="written", epoch=0, holder="test", acquired_at=utcnow()))
            await lease.check(session)
            await session.commit()

    ctx = _ctx(clean_db)
    try:
        supervisor = JobSupervisor(ctx, [SingletonJob("job-s", 60, run)], **FAST)
        await supervisor.__aenter__()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await started.wait()
        stopping = asyncio.create_task(supervisor.__aexit__(None, None, None))
        await asyncio.sleep(0.1)
        assert not stopping.done()  # waits for the run, does not cut it
        gate.set()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await stopping
        async with db() as session:
            names = set(await session.scalars(select(JobLease.name)))
        assert "written" in names
        assert supervisor.leading() == {}
        assert _pool_errors(caplog) == []
    finally:
        await ctx.engine.dispose()


async def test_a_run_that_outlasts_stop_s_is_cancelled(
    clean_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def run(ctx: HubContext, lease: Lease) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    ctx = _ctx(clean_db)
    try:
        supervisor = JobSupervisor(ctx, [SingletonJob("job-t", 60, run)], stop_s=0.1, **FAST)
        async with supervisor:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await started.wait()
        assert cancelled == [True]
        assert "still running after" in caplog.text
    finally:
        await ctx.engine.dispose()


# PostgreSQL only: SQLite has no lock connection to watch, its lease is lost at check().
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_lost_lease_cancels_the_run_at_once(
    clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def run(ctx: HubContext, lease: Lease) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    ctx = _ctx(clean_db)
    try:
        async with JobSupervisor(ctx, [SingletonJob("job-l", 60, run)], **FAST):
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await started.wait()
            async with db() as session:  # another replica took over
                await session.execute(
                    update(JobLease).where(JobLease.name == "job-l").values(epoch=99)
                )
                await session.commit()
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await cancelled.wait()
    finally:
        await ctx.engine.dispose()
