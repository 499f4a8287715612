"""Stopping the agent cannot be defeated by a library that swallows a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from edge_agent import AgentMetrics, DeviceRunner, PointBuffer
from edge_agent.devices import Reading
from protocol.clock import Clock, ManualClock
from tests.edge_agent.conftest import device_toml, make_config
from tests.edge_agent.fakes import FakeAdapter, FakeSite
from tests.support import SAFETY_TIMEOUT


class SwallowingAdapter(FakeAdapter):
    """Reads drop a cancellation that arrives while they wait, and return a reading.

    That is what Python 3.11's ``asyncio.wait_for`` (pymodbus awaits every response with
    it) does when the response lands in the same loop iteration as the cancel.
    """

    def __init__(self, name: str, kind: str, site: FakeSite, clock: Clock) -> None:
        super().__init__(name, kind, site, clock)
        self.waiting = asyncio.Event()

    async def read(self, *, slow: bool = False) -> Reading:
        self.waiting.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as the library does
            await asyncio.sleep(SAFETY_TIMEOUT * 10)
        return await super().read(slow=slow)


async def test_a_runner_stops_even_when_its_adapter_swallows_the_cancel(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config = make_config(tmp_path, devices=device_toml("m1", "meter"))
    metrics = AgentMetrics()
    adapter = SwallowingAdapter("m1", "meter", FakeSite(), manual_clock)
    runner = DeviceRunner(
        config.devices[0],
        adapter,
        clock=manual_clock,
        metrics=metrics,
        buffer=PointBuffer(100, metrics),
    )
    task = asyncio.create_task(runner.run())
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await adapter.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await task
    assert adapter.reads == 1  # it finished the read it was in, then stopped
