"""The agent against the firmware simulators on loopback (SunSpec Modbus TCP, OPC UA).

Dispatch above a device limit (clamped, and the simulator's register shows it), every
simulator fault kind (the device goes ERROR while the rest keeps polling), the OPC UA
chiller, and what each simulated device does when the agent is killed (its revert timer).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import pytest

from edge_agent import Agent, DeviceConfig, DeviceLimitsConfig
from edge_agent.devices import DeviceStatus, Setpoint
from edge_agent.devices.modbus import ModbusAdapter
from firmware_sims import Battery, Chiller, FaultKind, PVInverter, SimSite, load_preset
from lingtan.broker import Mosquitto
from protocol import (
    Command,
    DeviceTarget,
    DispatchInterval,
    DispatchSchedule,
    encode,
)
from protocol.clock import ManualClock
from protocol.topics import EdgeTopics
from tests.edge_agent.conftest import (
    Harness,
    advance_until,
    config_text,
    make_config,
    spawn_agent,
    status_of,
    until,
)
from tests.edge_agent.hub import HubStandIn
from tests.support import SAFETY_TIMEOUT

T = EdgeTopics("acme", "site-1")


def site_devices(site: SimSite, *, battery_max_w: float = 100_000.0, timeout_s: float = 0.5,
                 revert_s: float = 10.0, only: set[str] | None = None) -> str:  # fmt: skip
    out = []
    for ep in site.endpoints:
        if only is not None and ep.device not in only:
            continue
        lines = [
            "", "[[devices]]", f'id = "{ep.device}"', f'kind = "{ep.kind}"',
            f'protocol = "{ep.protocol}"', f'host = "{ep.host}"', f"port = {ep.port}",
            f"timeout_s = {timeout_s}", "backoff_max_s = 2.0",
        ]  # fmt: skip
        if ep.protocol == "opcua":
            lines.append(f'endpoint = "{ep.endpoint}"')
        if ep.kind == "ev_charger":
            lines.append('register_map = "evse"')
        if ep.kind == "battery":
            lines += ["[devices.limits]", f"p_max_discharge_w = {battery_max_w}",
                      f"p_max_charge_w = {battery_max_w}", f"revert_s = {revert_s}"]  # fmt: skip
        if ep.kind == "pv":
            lines += ["[devices.limits]", "p_max_discharge_w = 250000.0", f"revert_s = {revert_s}"]
        out.append("\n".join(lines))
    out.append(
        '\n[register_maps.evse]\npoints = [{ name = "p_w", address = 2, type = "uint32", '
        'scale = -1.0, role = "p_w", unit = "W" },\n'
        '  { name = "total_wh", address = 6, type = "uint32", unit = "Wh", poll = "slow" }]\n'
    )
    return "\n".join(out)


@asynccontextmanager
async def park(clock: ManualClock, preset: str = "park-s") -> AsyncIterator[SimSite]:
    async with SimSite(load_preset(preset), clock=clock) as site:
        yield site


def schedule(clock: ManualClock, targets: dict[str, float], version: int = 1) -> DispatchSchedule:
    now = clock.now_ms()
    return DispatchSchedule(
        id="da-1", version=version, edge="site-1", issued_ts_ms=now,
        expires_ts_ms=now + 3_600_000,
        intervals=[DispatchInterval(
            start_ts_ms=now, end_ts_ms=now + 3_600_000,
            targets=[DeviceTarget(device=d, p_target_w=p) for d, p in targets.items()])],
    )  # fmt: skip


async def online(agent: Agent, *devices: str) -> None:
    await until(lambda: all(agent.runners[d].status is DeviceStatus.ONLINE for d in devices),
                f"{devices} online")  # fmt: skip


@pytest.mark.mosquitto
async def test_dispatch_above_device_limit_is_clamped_on_the_register(
    tmp_path: Path, manual_clock: ManualClock, mosquitto: Mosquitto
) -> None:
    async with park(manual_clock) as site:
        config = make_config(tmp_path, mqtt_port=mosquitto.port, devices=site_devices(site))
        hub = HubStandIn(mosquitto.port, "acme", "site-1")
        async with hub, Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1", "pv-1")
            await until(lambda: agent.link is not None and agent.link.connected)
            await hub.publish(T.dispatch, encode(schedule(manual_clock, {"bess-1": 300_000.0})),
                              retain=True)  # fmt: skip
            await until(lambda: agent.book.schedule is not None, "schedule accepted")
            h = Harness(agent, manual_clock)
            await h.cycles(3)
            battery = site.device("bess-1")
            assert isinstance(battery, Battery)
            assert battery.wset_w == 100_000.0 and battery.wset_ena == 1
            assert battery.wset_timer.tms == 10  # the revert timer is armed by the write
            reading = agent.runners["bess-1"].reading
            assert reading is not None and reading.setpoint_w == 100_000.0  # read back
            await until(lambda: any(s.status == "clamped" for s in hub.statuses), "status")
            clamped = next(s for s in hub.statuses if s.status == "clamped")
            assert clamped.device == "bess-1" and clamped.p_applied_w == 100_000.0
            assert clamped.reason.startswith("device_max_discharge")
            assert hub.statuses[0].status == "accepted"
            # retained birth certificates: the edge's and one per device, with SunSpec points
            await until(lambda: T.device_birth("bess-1") in hub.births, "births")
            birth = hub.births[T.device_birth("bess-1")]
            assert birth.device_kind == "battery" and birth.protocol == "modbus"
            by_name = {m.name: m for m in birth.metrics}
            assert by_name["p_w"].sunspec_point == "701.W" and by_name["setpoint_w"].writable
            assert T.birth in hub.births


async def test_reads_are_grouped_and_spaced_on_one_connection(manual_clock: ManualClock) -> None:
    async with park(manual_clock) as site:
        ep = site.endpoint("bess-1")
        config = DeviceConfig(id="bess-1", kind="battery", port=ep.port, min_request_gap_s=0.05)
        adapter = ModbusAdapter(config)
        await adapter.connect()
        try:
            before = adapter.requests
            reading = await adapter.read()
            assert adapter.requests - before == 2  # 10 fast points in two requests
            assert reading.fresh is None  # the first reading after connect has it all
            before = adapter.requests
            slow = await adapter.read(slow=True)
            assert adapter.requests - before == 3  # plus one slow group (round robin)
            assert slow.fresh is not None and "p_w" in slow.fresh
            fast = await adapter.read()
            assert fast.fresh is not None
            cached = set(fast.values) - fast.fresh
            assert cached  # slow points not read by this poll are not sent again...
            assert all(fast.values[name] is not None for name in cached)  # ...but still known
            assert fast.soc_pct == 40.0
            stamps = list(adapter.request_times)
            assert all(b - a >= 0.05 for a, b in itertools.pairwise(stamps))
        finally:
            await adapter.close()


FAULTS = [
    FaultKind.DROP,
    FaultKind.SLOW,
    FaultKind.EXCEPTION,
    FaultKind.FROZEN,
    FaultKind.GARBAGE,
    FaultKind.ALARM,
    FaultKind.REFUSE_WRITES,
]


async def test_every_fault_kind_puts_the_device_in_error_and_the_rest_keeps_polling(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        # Idle control and a long revert period: the battery is written rarely, so a frozen
        # register image is not refreshed by our own writes (the simulator re-renders its
        # image on every accepted write, even while frozen).
        config = make_config(tmp_path, devices=site_devices(site, revert_s=120.0),
                             default_control='mode = "idle"')  # fmt: skip
        async with Agent(config, clock=manual_clock) as agent:
            healthy = ["pv-1", "meter-1", "evse-1", "evse-2"]
            await online(agent, "bess-1", *healthy)
            h = Harness(agent, manual_clock)
            for kind in FAULTS:
                site.set_fault("bess-1", kind)
                polls = {d: agent.runners[d].polls for d in healthy}
                if kind is FaultKind.REFUSE_WRITES:  # ask for a write so it can be refused
                    now = manual_clock.now_ms()
                    agent.on_message(T.cmd("bess-1"), encode(Command(
                        cid="w1", device="bess-1", op="set_power", args={"p_w": 1000.0},
                        reply_to=T.reply, ts_ms=now, expires_ts_ms=now + 600_000)))  # fmt: skip

                # An exception fault can fail the battery's very next poll: wait for the
                # healthy devices to have polled since too (they share no link with it).
                def faulted_and_others_polled(before: dict[str, int] = polls) -> bool:
                    return status_of(agent, "bess-1") is DeviceStatus.ERROR and all(
                        agent.runners[d].polls > before[d] for d in healthy
                    )

                await advance_until(h, faulted_and_others_polled, 25)
                assert status_of(agent, "bess-1") is DeviceStatus.ERROR, kind
                for dev in healthy:
                    assert agent.runners[dev].status is DeviceStatus.ONLINE, (kind, dev)
                    assert agent.runners[dev].polls > polls[dev], (kind, dev)
                site.clear_fault("bess-1")
                await advance_until(
                    h, lambda: status_of(agent, "bess-1") is DeviceStatus.ONLINE, 40
                )
                assert status_of(agent, "bess-1") is DeviceStatus.ONLINE, f"{kind} recovery"
            kinds = {
                k: agent.metrics.registry.get_sample_value(
                    "vpp_agent_poll_failures_total", {"device": "bess-1", "kind": k}
                )
                for k in ("timeout", "protocol")
            }
            assert kinds["timeout"] and kinds["protocol"]


async def test_setpoints_are_never_rounded_past_the_requested_value_on_the_register(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    # The register resolution (1 W for WSet, 0.1 % for WMaxLimPct) used to be reached by
    # rounding to nearest, which can land up to half a step beyond the guard's bound.
    async with park(manual_clock) as site:
        config = make_config(tmp_path, devices=site_devices(site, only={"bess-1", "pv-1"}))
        battery, pv = site.device("bess-1"), site.device("pv-1")
        assert isinstance(battery, Battery) and isinstance(pv, PVInverter)
        bess = ModbusAdapter(config.device("bess-1"))
        inverter = ModbusAdapter(config.device("pv-1"))
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await bess.connect()
                await inverter.connect()
                for p in (1234.6, -1234.6, 99_999.9):
                    written = await bess.write(Setpoint(p, 10.0))
                    assert abs(written.p_w) <= abs(p) and abs(battery.wset_w) <= abs(p)
                    assert abs(p - battery.wset_w) < 1.0
                cap = 123_456.0  # 49.3824 % of 250 kW
                written = await inverter.write(Setpoint(cap, 10.0))
                assert written.p_w <= cap and pv.limit_w <= cap
                assert cap - pv.limit_w < 250.0  # within one 0.1 % step
        finally:
            await bess.close()
            await inverter.close()


async def test_opcua_chiller_is_read_by_subscription_and_limited_by_dispatch(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock, "park-a") as site:
        config = make_config(tmp_path, devices=site_devices(site, only={"chiller-1", "meter-1"}))
        chiller_cfg = msgspec.structs.replace(
            config.device("chiller-1"),
            limits=DeviceLimitsConfig(p_max_charge_w=200_000.0, revert_s=10.0),
        )
        config = msgspec.structs.replace(
            config, devices=[chiller_cfg if d.id == "chiller-1" else d for d in config.devices]
        )
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "chiller-1", "meter-1")
            h = Harness(agent, manual_clock)
            await h.cycles(3)
            reading = agent.runners["chiller-1"].reading
            assert reading is not None and reading.p_w is not None and reading.p_w < 0
            adapter = agent.runners["chiller-1"].adapter
            assert getattr(adapter, "subscribed", False)
            chiller = site.device("chiller-1")
            assert isinstance(chiller, Chiller)
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"chiller-1": -50_000.0})))
            await h.cycles(2)
            assert chiller.power_limit_w == 50_000.0  # consumption capped by the dispatch
            assert agent.runners["chiller-1"].applied is not None
            site.set_fault("chiller-1", FaultKind.ALARM)
            await advance_until(h, lambda: status_of(agent, "chiller-1") is DeviceStatus.ERROR, 10)
            assert status_of(agent, "chiller-1") is DeviceStatus.ERROR
            assert status_of(agent, "meter-1") is DeviceStatus.ONLINE


@pytest.mark.mosquitto
async def test_killed_agent_leaves_devices_to_revert_by_themselves(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Battery: WSet falls back to WSetRvrt (0 W, disabled) when WSetRvrtTms lapses.
    PV: WMaxLimPct falls back to WMaxLimPctRvrt (100 %, disabled) the same way."""
    clock = ManualClock(start=time.time())  # the agent in its own process runs on real time

    async def follow_real_time() -> None:  # the park lives while the agent does
        while True:
            await asyncio.sleep(0.1)
            clock.advance(0.1)

    async with park(clock) as site:
        devices = site_devices(site, revert_s=5.0, only={"bess-1", "pv-1", "meter-1"})
        path = tmp_path / "agent.toml"
        path.write_text(config_text(tmp_path, mqtt_port=mosquitto.port, devices=devices))
        hub = HubStandIn(mosquitto.port, "acme", "site-1")
        battery, pv = site.device("bess-1"), site.device("pv-1")
        assert isinstance(battery, Battery) and isinstance(pv, PVInverter)
        async with hub, asyncio.TaskGroup() as tg:
            ticker = tg.create_task(follow_real_time())
            await hub.publish(T.dispatch, encode(schedule(
                clock, {"bess-1": -50_000.0, "pv-1": 100_000.0})), retain=True)  # fmt: skip
            proc = spawn_agent(path)
            try:
                await until(lambda: battery.wset_ena == 1 and battery.wset_w == -50_000.0,
                            "setpoint held")  # fmt: skip
                await until(lambda: pv.wmaxlim_ena == 1, "pv curtailed")
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                await asyncio.to_thread(proc.wait, SAFETY_TIMEOUT)
                ticker.cancel()
        # From here the park's time moves only as the test says: the agent is gone.
        assert battery.wset_timer.tms == 5 and pv.wmaxlim_timer.tms == 5
        assert battery.wset_timer.deadline is not None
        site.step(battery.wset_timer.deadline - site.t - 0.5)
        assert battery.wset_ena == 1  # still within the revert time
        site.step(6.0)
        assert battery.wset_ena == 0 and battery.wset_w == 0.0  # reverted by itself
        assert pv.wmaxlim_ena == 0 and pv.wmaxlim_pct == 100.0
        site.step(30.0)
        assert abs(battery.p_w) < 1.0
