"""Device runners: fairness with a dead device, backoff, status changes logged once."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest

from edge_agent import Agent, AgentMetrics, DeviceConfig, DeviceRunner, PointBuffer
from edge_agent.devices import DeviceStatus, Setpoint
from protocol.clock import ManualClock
from tests.edge_agent.conftest import (
    Harness,
    device_toml,
    fake_factory,
    make_config,
    status_of,
    until,
)
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite


async def test_one_dead_device_among_ten_does_not_slow_the_others(
    tmp_path: Path, manual_clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    devices = "".join(device_toml(f"m{i}", "meter", extra="timeout_s = 5.0\n") for i in range(10))
    config = make_config(tmp_path, devices=devices)
    adapters: dict[str, FakeAdapter] = {}
    factory = fake_factory(FakeSite(), manual_clock, adapters)

    def create(dev: DeviceConfig) -> FakeAdapter:
        adapter = factory(dev)
        adapter.dead = dev.id == "m3"
        return adapter

    caplog.set_level(logging.INFO, logger="edge_agent")
    async with Agent(config, clock=manual_clock, adapter_factory=create) as agent:
        h = Harness(agent, manual_clock)
        await until(lambda: all(r.polls >= 1 for d, r in agent.runners.items() if d != "m3"))
        start = manual_clock.monotonic()
        await h.cycles(60)
        elapsed = manual_clock.monotonic() - start
        for dev, runner in agent.runners.items():
            if dev == "m3":
                assert runner.status is DeviceStatus.ERROR
                continue
            times = [t for t in runner.poll_times if t > start]
            periods = [b - a for a, b in itertools.pairwise(times)]
            mean = sum(periods) / len(periods)
            assert abs(mean - 1.0) <= 0.1, (dev, mean)  # within 10 % of the 1 s period
            assert len(times) >= 0.9 * elapsed
        dead = adapters["m3"]
        # it backed off: far fewer attempts than polls, with growing pauses (capped)
        assert 2 <= dead.connects <= 20
    errors = [r for r in caplog.records if "m3" in r.getMessage() and r.levelno == logging.WARNING]
    assert len(errors) == 1  # logged once, not at every attempt
    failures = agent.metrics.registry.get_sample_value(
        "vpp_agent_poll_failures_total", {"device": "m3", "kind": "timeout"}
    )
    assert failures is not None and failures >= 2


async def test_a_failing_device_is_marked_error_once_and_recovered_once(
    tmp_path: Path, manual_clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, devices=device_toml("m1", "meter") + device_toml("m2", "meter"))
    adapters: dict[str, FakeAdapter] = {}
    caplog.set_level(logging.INFO, logger="edge_agent")
    async with Agent(
        config, clock=manual_clock, adapter_factory=fake_factory(FakeSite(), manual_clock, adapters)
    ) as agent:
        h = Harness(agent, manual_clock)
        await until(lambda: status_of(agent, "m1") is DeviceStatus.ONLINE)
        adapters["m1"].fail_reads = True
        await h.cycles(10)
        assert status_of(agent, "m1") is DeviceStatus.ERROR
        assert status_of(agent, "m2") is DeviceStatus.ONLINE
        adapters["m1"].fail_reads = False
        await h.cycles(40)
        assert status_of(agent, "m1") is DeviceStatus.ONLINE
    messages = [r.getMessage() for r in caplog.records if "m1" in r.getMessage()]
    assert sum("error" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1


async def test_a_bug_in_one_device_path_does_not_stop_the_agent(
    tmp_path: Path, manual_clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, devices=device_toml("m1", "meter") + device_toml("m2", "meter"))
    adapters: dict[str, FakeAdapter] = {}
    async with Agent(
        config, clock=manual_clock, adapter_factory=fake_factory(FakeSite(), manual_clock, adapters)
    ) as agent:
        h = Harness(agent, manual_clock)
        await until(lambda: status_of(agent, "m1") is DeviceStatus.ONLINE)
        adapters["m1"].buggy = True
        await h.cycles(3)
        assert status_of(agent, "m1") is DeviceStatus.ERROR
        assert status_of(agent, "m2") is DeviceStatus.ONLINE
        adapters["m1"].buggy = False
        await h.cycles(40)
        assert status_of(agent, "m1") is DeviceStatus.ONLINE
        internal = agent.metrics.registry.get_sample_value(
            "vpp_agent_poll_failures_total", {"device": "m1", "kind": "internal"}
        )
        assert internal is not None and internal >= 1
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("period", [1.0, 2.5, 4.0])
async def test_unchanged_setpoint_is_rewritten_within_half_the_revert_period(
    tmp_path: Path, manual_clock: ManualClock, period: float
) -> None:
    # Setpoints are re-submitted once per control cycle; the refresh used to wait for the
    # first cycle *after* half the period (8 s apart for a 10 s timer at a 4 s cycle).
    devices = device_toml("b1", "battery", limits="revert_s = 10.0\n") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, default_control='mode = "idle"',
                         control_period_s=period)  # fmt: skip
    site = FakeSite(batteries={"b1": FakeBattery()})
    adapters: dict[str, FakeAdapter] = {}
    factory = fake_factory(site, manual_clock, adapters)
    async with Agent(config, clock=manual_clock, adapter_factory=factory) as agent:
        await until(lambda: all(r.status is DeviceStatus.ONLINE for r in agent.runners.values()))
        h = Harness(agent, manual_clock)
        written: list[float] = []
        for _ in range(int(40 / period)):
            before = len(adapters["b1"].writes)
            await h.cycles(1)
            if len(adapters["b1"].writes) > before:
                written.append(manual_clock.monotonic())
        assert {w.p_w for w in adapters["b1"].writes} == {0.0}  # one unchanged setpoint
        gaps = [b - a for a, b in itertools.pairwise(written)]
        assert len(gaps) >= 4
        assert max(gaps) <= 10.0 / 2, gaps


async def test_a_setpoint_submitted_before_a_reconnect_is_never_written_after_it(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    # A setpoint handed over while the connection was failing (a hanging read, then the
    # backoff) stayed pending and was written as the first thing after the reconnect, from
    # a decision taken before the outage (an ended schedule, a fired watchdog).
    config = make_config(tmp_path, devices=device_toml("b1", "battery"))
    site = FakeSite(batteries={"b1": FakeBattery()})
    adapter = FakeAdapter("b1", "battery", site, manual_clock)
    metrics = AgentMetrics()
    runner = DeviceRunner(config.device("b1"), adapter, clock=manual_clock, metrics=metrics,
                          buffer=PointBuffer(100, metrics))  # fmt: skip

    def status() -> DeviceStatus:
        return runner.status

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(runner.run())
        await until(lambda: runner.status is DeviceStatus.ONLINE, "online")
        runner.submit(Setpoint(-20_000.0, 10.0))
        await until(lambda: len(adapter.writes) == 1, "first write")
        adapter.dead = True
        while status() is not DeviceStatus.ERROR:
            manual_clock.advance(0.5)
            await asyncio.sleep(0.01)  # lets the runner see the time (the loop, not a clock)
        runner.submit(Setpoint(-90_000.0, 10.0))  # decided before the outage ended
        adapter.dead = False
        while status() is not DeviceStatus.ONLINE:
            manual_clock.advance(0.5)
            await asyncio.sleep(0.01)
        manual_clock.advance(1.0)  # a poll after the reconnect: a pending write would go now
        await until(lambda: adapter.reads >= 3, "polls after the reconnect")
        assert [w.p_w for w in adapter.writes] == [-20_000.0]
        task.cancel()
