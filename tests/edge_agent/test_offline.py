"""Offline means offline: a schedule in force is followed through an hour without hub or
broker, then default control takes over, and the backlog reaches the hub afterwards.

A real mosquitto and the hub stand-in (which acks as the hub does); the agent runs on a
ManualClock with a 10 s control period, so a simulated hour is 360 control cycles.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_agent import Agent
from edge_agent.devices import DeviceStatus
from lingtan.broker import Mosquitto
from protocol import DeviceTarget, DispatchInterval, DispatchSchedule, TelemetryBatch, encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import (
    Harness,
    advance_until,
    device_toml,
    fake_factory,
    make_config,
    until,
)
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite
from tests.edge_agent.hub import HubStandIn

pytestmark = pytest.mark.mosquitto

PERIOD_S = 10.0
MINUTE_MS = 60_000


async def test_a_schedule_is_followed_through_an_hour_without_hub_or_broker(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    revert = "revert_s = 30.0\n"
    devices = (device_toml("b1", "battery", limits=revert)
               + device_toml("b2", "battery", rated_w=50_000.0, limits=revert)
               + device_toml("m1", "meter"))  # fmt: skip
    config = make_config(tmp_path, devices=devices, mqtt_port=mosquitto.port,
                         control_period_s=PERIOD_S, watchdog_s=300.0)  # fmt: skip
    site = FakeSite(load_w=40_000.0, batteries={"b1": FakeBattery(), "b2": FakeBattery(50_000.0)})
    adapters: dict[str, FakeAdapter] = {}
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    t0 = manual_clock.now_ms()
    # A day-ahead award: b1 charges 30 kW for 50 minutes starting in one minute (no
    # max_offline_s: it must be delivered whatever happens to the link).
    award = DispatchSchedule(
        id="award-1", version=1, edge="site-1", issued_ts_ms=t0,
        expires_ts_ms=t0 + 120 * MINUTE_MS,
        intervals=[DispatchInterval(
            start_ts_ms=t0 + MINUTE_MS, end_ts_ms=t0 + 51 * MINUTE_MS,
            targets=[DeviceTarget(device="b1", p_target_w=-30_000.0, instruction_id="ins-1")],
        )],
    )  # fmt: skip
    async with agent:
        h = Harness(agent, manual_clock)
        await until(lambda: all(r.status is DeviceStatus.ONLINE for r in agent.runners.values()),
                    "devices online")  # fmt: skip
        async with hub:
            await until(lambda: agent.link is not None and agent.link.connected, "connected")
            await hub.publish(hub.topics.dispatch, encode(award), retain=True)
            await until(lambda: agent.book.schedule is not None, "the award accepted")
            assert await advance_until(h, lambda: agent.source.get("b1") == "schedule", 12)
            sid = agent.outbox.sid
            await until(lambda: hub.contiguous(sid) >= agent.outbox.committed_key[1] - 1,
                        "live data")  # fmt: skip
            before_outage = hub.contiguous(sid)
        mosquitto.stop()  # hub and broker gone

        followed = 0
        outage_start = manual_clock.now_ms()
        while manual_clock.now_ms() < outage_start + 60 * MINUTE_MS:
            await h.cycles(1)
            now = manual_clock.now_ms()
            in_interval = now < t0 + 51 * MINUTE_MS
            if in_interval:
                assert agent.source["b1"] == "schedule", (now - t0) / MINUTE_MS
                assert site.batteries["b1"].setpoint_w == -30_000.0
                followed += 1
            elif now >= t0 + 52 * MINUTE_MS:
                # the schedule ran out: default control, never the stale -30 kW
                assert agent.source["b1"] == "default"
                assert site.import_w == pytest.approx(0.0, abs=1.0)  # self-consumption
            assert agent.source["b2"] == "default"
        assert not agent.hub_fresh() and agent.link is not None and not agent.link.connected
        assert followed >= 45 * 60 / PERIOD_S  # followed through most of the hour, offline
        assert agent.hub_silent_s() >= 3600.0 - 2 * PERIOD_S  # the last word came before the stop
        # every device write of the outage re-armed the device's own revert timer
        assert all(w.revert_s == 30.0 for w in adapters["b1"].writes)

        top = agent.outbox.committed_key
        mosquitto.start()
        async with hub:  # the hub is back: everything of the outage reaches it
            assert await advance_until(h, lambda: hub.contiguous(sid) >= top[1], 200)
            assert await advance_until(h, lambda: (agent.outbox.last_ack or (0, 0)) >= top, 200)
        outage = [r for r in hub.received if before_outage < r.seq <= top[1] and r.sid == sid]
        assert {r.seq for r in outage} == set(range(before_outage + 1, top[1] + 1))
        assert any(r.hist for r in outage)  # replayed backlog, with its own timestamps
        stamps = [r.message.ts_ms for r in sorted(outage, key=lambda r: r.seq)]
        assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 59 * MINUTE_MS
        ends = [s for s in hub.statuses if s.schedule_id == "award-1" and s.device is None]
        assert [s.status for s in ends] == ["accepted", "done"]
        assert not any(s.status == "expired" for s in hub.statuses)
        batches = [r.message for r in outage if isinstance(r.message, TelemetryBatch)]
        assert len(batches) >= 350  # one per control cycle of the hour


async def test_rows_appended_offline_and_committed_after_the_connect_are_sent(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    # Live copies are published at append, and only while connected; the replay of a
    # connect covers what was committed by then. A row appended before the connect and
    # committed after it was neither: it waited for the resend timer (60 s).
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, mqtt_port=mosquitto.port,
                         outbox_extra="commit_interval_s = 5.0")  # fmt: skip
    site = FakeSite(batteries={"b1": FakeBattery()})
    adapters: dict[str, FakeAdapter] = {}
    mosquitto.stop()
    agent = Agent(config, clock=manual_clock,
                  adapter_factory=fake_factory(site, manual_clock, adapters))  # fmt: skip
    hub = HubStandIn(mosquitto.port, "acme", "site-1")
    async with agent:
        h = Harness(agent, manual_clock)
        await until(lambda: agent.runners["b1"].status is DeviceStatus.ONLINE, "online")
        await h.cycles(3)  # committed at the first cycle, then batched for 5 s
        assert agent.outbox.pending > 0
        mosquitto.start()
        async with hub:
            for _ in range(100):  # small steps: the reconnect backoff runs on this clock
                if agent.link is not None and agent.link.connected:
                    break
                manual_clock.advance(0.01)
                await asyncio.sleep(0.02)
            assert agent.link is not None and agent.link.connected
            assert agent.outbox.pending > 0  # appended offline, not committed yet
            sid, upto = agent.outbox.sid, agent.outbox.last_key[1]
            assert await advance_until(h, lambda: hub.contiguous(sid) >= upto, 15)
