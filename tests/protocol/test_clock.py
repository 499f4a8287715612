"""Clocks: manual time for tests, scaled time for demos, real time for production."""

from __future__ import annotations

import asyncio

import pytest

from protocol.clock import Clock, ManualClock, RealClock, ScaledClock
from tests.support import SAFETY_TIMEOUT


async def test_manual_clock_wakes_sleepers_in_deadline_order(manual_clock: ManualClock) -> None:
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await manual_clock.sleep(seconds)
        woke.append((name, manual_clock.monotonic()))

    async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as tg:
        tg.create_task(sleeper("late", 3.0))
        tg.create_task(sleeper("early", 1.0))
        await asyncio.sleep(0)
        assert manual_clock.pending == 2
        manual_clock.advance(1.5)
        await asyncio.sleep(0)
        assert [name for name, _ in woke] == ["early"]
        await manual_clock.run_for(2.0, step=0.5)
    assert woke == [("early", 1.5), ("late", 3.0)]
    assert manual_clock.pending == 0


async def test_manual_clock_zero_sleep_yields_without_waiting(manual_clock: ManualClock) -> None:
    before = manual_clock.now()
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await manual_clock.sleep(0)
    assert manual_clock.now() == before


def test_manual_clock_reports_wall_time_in_ms_and_refuses_to_go_back() -> None:
    clock = ManualClock(start=100.0)
    clock.advance(0.25)
    assert clock.now_ms() == 100_250
    assert clock.monotonic() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert "100.25" in repr(clock)


async def test_run_for_rejects_a_non_positive_step(manual_clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="step"):
        await manual_clock.run_for(1.0, step=0)


async def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = ScaledClock(factor=120.0, start=0.0)
    assert clock.speed == 120.0
    before_now, before_mono = clock.now(), clock.monotonic()
    await asyncio.sleep(0.05)  # at least 0.05 s of real time pass
    assert clock.now() - before_now >= 0.05 * 120.0
    assert clock.monotonic() - before_mono >= 0.05 * 120.0
    start = clock.monotonic()
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await clock.sleep(6.0)
    assert clock.monotonic() - start >= 6.0
    assert clock.now_ms() >= 6_000
    assert "120" in repr(clock)


def test_scaled_clock_rejects_non_positive_factors() -> None:
    for factor in (0.0, -1.0):
        with pytest.raises(ValueError, match="factor"):
            ScaledClock(factor)


async def test_real_clock_is_a_clock() -> None:
    clock = RealClock()
    assert isinstance(clock, Clock)
    assert isinstance(ScaledClock(2.0), Clock)
    assert isinstance(ManualClock(), Clock)
    assert clock.speed == 1.0
    first = clock.monotonic()
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await clock.sleep(0.001)
        await clock.sleep(-5)  # negative sleeps return at once
    assert clock.monotonic() >= first
    assert abs(clock.now_ms() / 1000 - clock.now()) < 5
    assert repr(clock) == "RealClock()"
