"""The outbox commit interval runs on the injected clock, outside the control cycle."""

from __future__ import annotations

from pathlib import Path

from edge_agent import Agent
from edge_agent.devices import DeviceStatus
from protocol.clock import ManualClock
from tests.edge_agent.conftest import device_toml, fake_factory, make_config, until
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite


async def test_each_batch_is_committed_after_its_own_cycle_despite_timer_jitter(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    # With commit_interval_s equal to the control period, the old check (in the control
    # loop, "an interval since the last commit?") fell just short whenever a cycle came a
    # few ms earlier than the one before, and batches left in pairs every 2 s.
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, outbox_extra="commit_interval_s = 1.0")
    site = FakeSite(batteries={"b1": FakeBattery()})
    adapters: dict[str, FakeAdapter] = {}
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    async with agent:
        await until(lambda: agent.runners["b1"].status is DeviceStatus.ONLINE, "online")
        for step in range(12):
            cycles = agent.cycles
            # late, then on time: the gap between two cycles is 0.997 s or 1.003 s
            manual_clock.advance(1.003 if step % 2 == 0 else 0.997)
            await until(lambda c=cycles: agent.cycles > c, "a cycle")  # type: ignore[misc]
            await until(lambda: agent.outbox.committed_key == agent.outbox.last_key,
                        f"the batch of cycle {step} committed")  # fmt: skip
    assert agent.cycles >= 12


async def test_a_longer_commit_interval_batches_cycles(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, outbox_extra="commit_interval_s = 5.0")
    site = FakeSite(batteries={"b1": FakeBattery()})
    adapters: dict[str, FakeAdapter] = {}
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    async with agent:
        await until(lambda: agent.runners["b1"].status is DeviceStatus.ONLINE, "online")
        manual_clock.advance(1.0)
        await until(lambda: agent.cycles >= 1 and agent.outbox.committed_key[1] >= 1,
                    "first commit")  # fmt: skip
        committed = agent.outbox.committed_key
        for _ in range(3):  # 3 s: within the interval, nothing is committed
            cycles = agent.cycles
            manual_clock.advance(1.0)
            await until(lambda c=cycles: agent.cycles > c, "a cycle")  # type: ignore[misc]
        assert agent.outbox.committed_key == committed and agent.outbox.pending >= 2
        waiting = agent.outbox.pending
        for _ in range(2):  # the interval is over: the waiting batches go in one commit
            cycles = agent.cycles
            manual_clock.advance(1.0)
            await until(lambda c=cycles: agent.cycles > c, "a cycle")  # type: ignore[misc]
        await until(lambda: agent.outbox.committed_key[1] >= committed[1] + waiting,
                    "the batched commit")  # fmt: skip
