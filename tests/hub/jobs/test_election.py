"""Election and fencing in one process, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.jobs import JobSupervisor, Lease, LeaseLostError, SingletonJob, elect, lock_key
from hub.store import JobLease, LiveCache, create_engine, sessionmaker
from protocol.clock import RealClock
from tests.support import SAFETY_TIMEOUT

FAST = {"retry_s": 0.05, "check_s": 0.05}

LOCK_HOLDERS = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
)


async def lock_holders(session: AsyncSession, job: str) -> list[int]:
    """Backend pids holding job ``job``'s advisory lock (a bigint key: classid is its high
    32 bits, objid its low 32 bits)."""
    key = lock_key(job) & 0xFFFF_FFFF_FFFF_FFFF
    params = {"hi": key >> 32, "lo": key & 0xFFFF_FFFF}
    return list((await session.execute(LOCK_HOLDERS, params)).scalars())


async def terminate_lock_holder(session: AsyncSession, job: str) -> list[int]:
    """Kill the session that holds the lock (a network cut, an admin's kill)."""
    pids = await lock_holders(session, job)
    for pid in pids:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await session.commit()
    return pids


async def test_second_candidate_waits_then_takes_over_with_a_higher_token(clean_db: str) -> None:
    a_engine, b_engine = create_engine(clean_db), create_engine(clean_db)
    try:
        entered = asyncio.Event()
        release = asyncio.Event()
        tokens: list[tuple[str, int]] = []

        async def candidate(engine: object, who: str) -> None:
            async with elect(engine, "job-a", **FAST) as lease:  # type: ignore[arg-type]
                tokens.append((who, lease.token))
                entered.set()
                await release.wait()

        first = asyncio.create_task(candidate(a_engine, "a"))
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await entered.wait()
        second = asyncio.create_task(candidate(b_engine, "b"))
        await asyncio.sleep(0.3)
        assert tokens == [("a", 1)]  # b waits while a leads
        first.cancel()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while len(tokens) < 2:  # noqa: ASYNC110 - the takeover happens in the task
                await asyncio.sleep(0.02)
        assert tokens == [("a", 1), ("b", 2)]
        release.set()
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await second
        with pytest.raises(asyncio.CancelledError):
            await first
    finally:
        await a_engine.dispose()
        await b_engine.dispose()


async def test_a_deposed_leader_fails_the_fence_and_its_body_is_cancelled(
    clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    engine = create_engine(clean_db)
    try:
        entered = asyncio.Event()
        held: list[Lease] = []

        async def leader() -> None:
            async with elect(engine, "job-b", **FAST) as lease:
                held.append(lease)
                entered.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(leader())
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await entered.wait()
        (lease,) = held
        async with db() as session, session.begin():
            await lease.check(session)  # still the leader: passes
        # another leader took over (what a new leader's bump does)
        async with db() as session, session.begin():
            await session.execute(
                update(JobLease).where(JobLease.name == "job-b").values(epoch=JobLease.epoch + 1)
            )
        async with db() as session, session.begin():
            with pytest.raises(LeaseLostError):
                await lease.check(session)
        if engine.dialect.name == "postgresql":
            # the watchdog sees the moved epoch and cancels the body: elect raises LeaseLostError
            async with asyncio.timeout(SAFETY_TIMEOUT):
                with pytest.raises(LeaseLostError):
                    await task
        else:
            task.cancel()
            with pytest.raises((asyncio.CancelledError, LeaseLostError)):
                await task
        assert lease.lost
    finally:
        await engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the lock is PostgreSQL's
async def test_postgres_lock_connection_killed_hands_over_and_fences_the_old_leader(
    clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    assert clean_db.startswith("postgresql")
    a_engine, b_engine = create_engine(clean_db), create_engine(clean_db)
    try:
        leases: dict[str, Lease] = {}
        outcome: dict[str, BaseException | None] = {}

        async def candidate(engine: object, who: str) -> None:
            try:
                async with elect(engine, "job-c", retry_s=0.05, check_s=5.0) as lease:  # type: ignore[arg-type]
                    leases[who] = lease
                    await asyncio.Event().wait()
            except LeaseLostError as exc:
                outcome[who] = exc

        a = asyncio.create_task(candidate(a_engine, "a"))
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while "a" not in leases:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        b = asyncio.create_task(candidate(b_engine, "b"))
        # the old leader's lock session dies (a network cut, an admin's kill); its
        # watchdog checks only every 5 s, so it still believes it leads
        async with db() as session:
            killed = await terminate_lock_holder(session, "job-c")
        assert killed
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while "b" not in leases:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert leases["b"].token == leases["a"].token + 1
        assert not leases["a"].lost  # not noticed yet: only the fence stops it
        async with db() as session, session.begin():
            with pytest.raises(LeaseLostError):
                await leases["a"].check(session)
            await leases["b"].check(session)
        a.cancel()
        b.cancel()
        await asyncio.gather(a, b, return_exceptions=True)
    finally:
        await a_engine.dispose()
        await b_engine.dispose()


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


async def test_supervisor_runs_a_job_in_one_of_two_replicas(
    clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    runs: list[tuple[str, int]] = []
    failures: list[str] = []

    def job(who: str) -> SingletonJob:
        async def run(ctx: HubContext, lease: Lease) -> None:
            runs.append((who, lease.token))
            if len(runs) == 2:
                failures.append(who)
                raise RuntimeError("one failing run does not stop the job")

        return SingletonJob("job-d", 0.02, run)

    one, two = _ctx(clean_db), _ctx(clean_db)
    try:
        async with JobSupervisor(one, [job("one")], **FAST) as sup_one:
            # "two" starts only once "one" leads: which of two replicas started together wins
            # the lock first is a race, and the test is about the second one staying out.
            async with asyncio.timeout(SAFETY_TIMEOUT):
                while not runs:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            async with JobSupervisor(two, [job("two")], **FAST) as sup_two:
                async with asyncio.timeout(SAFETY_TIMEOUT):
                    while len(runs) < 5:  # noqa: ASYNC110
                        await asyncio.sleep(0.02)
                assert {who for who, _ in runs} == {"one"}
                assert sup_one.leading() == {"job-d": 1}
                assert sup_two.leading() == {}
            count = len(runs)
        assert failures == ["one"]
        assert len(runs) >= count
        async with db() as session:
            epoch = (
                await session.execute(select(JobLease.epoch).where(JobLease.name == "job-d"))
            ).scalar_one()
        assert epoch == 1
    finally:
        await one.engine.dispose()
        await two.engine.dispose()


def test_lock_keys_are_stable_signed_64_bit() -> None:
    assert lock_key("trading-loop") == lock_key("trading-loop")
    assert lock_key("trading-loop") != lock_key("settlement")
    assert -(2**63) <= lock_key("x") < 2**63


def test_duplicate_job_names_are_refused() -> None:
    async def run(ctx: HubContext, lease: Lease) -> None:
        return None

    ctx = _ctx("sqlite+aiosqlite:///:memory:")
    supervisor = JobSupervisor(ctx, [SingletonJob("x", 1, run), SingletonJob("x", 1, run)])
    with pytest.raises(ValueError, match="unique"):
        asyncio.run(supervisor.__aenter__())
