"""Execution status and fail-safe against the firmware simulators (SunSpec Modbus TCP):
the value the register holds, the device's own refusal, a reboot, the PV rating read from
the device, float32 setpoints, and delivered energy against the simulator's own meter."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from edge_agent import Agent, DeviceConfig, DeviceLimitsConfig, RegisterMap, RegisterPoint
from edge_agent.devices import Setpoint
from edge_agent.devices.modbus import ModbusAdapter
from firmware_sims import Battery, ExcCode, PVInverter, run_modbus_device
from protocol import DispatchStatus, encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, advance_until, make_config
from tests.edge_agent.test_agent import T, all_statuses
from tests.edge_agent.test_sims import online, park, schedule, site_devices
from tests.support import SAFETY_TIMEOUT


def of(statuses: list[DispatchStatus], device: str) -> list[DispatchStatus]:
    return [s for s in statuses if s.device == device and s.schedule_id == "da-1"]


async def test_a_clamped_write_reports_the_value_the_register_holds(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        # 99 999.5 W: the guard clamps to it, the 1 W register holds 99 999 W
        devices = site_devices(site, battery_max_w=99_999.5, only={"bess-1", "meter-1"})
        config = make_config(tmp_path, devices=devices)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1")
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"bess-1": 300_000.0})))
            h = Harness(agent, manual_clock)
            # the write, then a poll that reads it back (real Modbus I/O: a loaded machine
            # may need more cycles than three; the outcome is what is checked)
            runner = agent.runners["bess-1"]
            await advance_until(h, lambda: getattr(runner.reading, "setpoint_w", 0) > 0, 30)
            battery = site.device("bess-1")
            assert isinstance(battery, Battery)
            reading = runner.reading
            assert reading is not None and reading.setpoint_w == 99_999.0  # read back
            clamped = [s for s in of(await all_statuses(agent), "bess-1") if s.status == "clamped"]
            assert clamped and clamped[0].p_applied_w == 99_999.0 == battery.wset_w
            assert clamped[0].p_target_w == 300_000.0 and clamped[0].started_ts_ms is not None
            assert "executing" not in {s.status for s in of(await all_statuses(agent), "bess-1")}


async def test_a_write_the_device_refuses_is_failed_with_its_exception_code(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        config = make_config(tmp_path, devices=site_devices(site, only={"bess-1", "meter-1"}))
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1")
            site.set_fault("bess-1", "refuse_writes", code=6)
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"bess-1": 50_000.0})))
            h = Harness(agent, manual_clock)

            async def kinds() -> list[str]:
                return [s.status for s in of(await all_statuses(agent), "bess-1")]

            await h.cycles(3)
            statuses = of(await all_statuses(agent), "bess-1")
            assert [s.status for s in statuses] == ["failed"], statuses
            assert "code 6" in statuses[0].reason and statuses[0].p_applied_w is None
            site.clear_fault("bess-1")
            await advance_until(h, lambda: agent.runners["bess-1"].applied is not None, 10)
            await h.cycles(1)
            assert (await kinds())[:2] == ["failed", "executing"]


async def test_a_rebooted_device_gets_its_setpoint_and_revert_timer_again(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        devices = site_devices(site, only={"bess-1", "meter-1"}, revert_s=30.0)
        config = make_config(tmp_path, devices=devices)
        battery = site.device("bess-1")
        assert isinstance(battery, Battery)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1")
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"bess-1": 50_000.0})))
            h = Harness(agent, manual_clock)
            await h.cycles(2)
            assert (battery.wset_ena, battery.wset_w, battery.wset_timer.tms) == (1, 50_000.0, 30)
            runner = agent.runners["bess-1"]
            connects = runner.polls
            site.set_fault("bess-1", "reboot")
            assert (battery.wset_ena, battery.wset_timer.tms) == (0, 0)  # power-on defaults
            # An unchanged setpoint is only refreshed every half revert period (15 s); the
            # reconnect (the client notices the dropped connection at its next request)
            # makes it written again at once, timer first.
            rearmed = await advance_until(
                h, lambda: battery.wset_timer.tms == 30 and battery.wset_ena == 1, 40
            )
            assert rearmed, (battery.wset_ena, battery.wset_timer.tms)
            assert battery.wset_w == 50_000.0 and runner.polls > connects
            kinds = [s.status for s in of(await all_statuses(agent), "bess-1")]
            assert kinds[0] == "executing" and "failed" not in kinds and "done" not in kinds
            assert len({s.started_ts_ms for s in of(await all_statuses(agent), "bess-1")}) == 1


async def test_done_carries_the_energy_the_simulated_battery_delivered(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    async with park(manual_clock) as site:
        config = make_config(tmp_path, devices=site_devices(site, only={"bess-1", "meter-1"}))
        battery = site.device("bess-1")
        assert isinstance(battery, Battery)
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "meter-1")
            sched = schedule(manual_clock, {"bess-1": -60_000.0})
            interval = sched.intervals[0]
            short = interval.__class__(
                start_ts_ms=interval.start_ts_ms,
                end_ts_ms=interval.start_ts_ms + 120_000,
                targets=interval.targets,
            )
            sched = sched.__class__(
                id=sched.id, version=sched.version, edge=sched.edge,
                issued_ts_ms=sched.issued_ts_ms, expires_ts_ms=sched.expires_ts_ms,
                intervals=[short],
            )  # fmt: skip
            net_before = battery.wh_injected - battery.wh_absorbed
            agent.on_message(T.dispatch, encode(sched))
            h = Harness(agent, manual_clock)

            async def done() -> DispatchStatus | None:
                found = [s for s in of(await all_statuses(agent), "bess-1") if s.status == "done"]
                return found[0] if found else None

            for _ in range(140):
                await h.cycles(1)
                if (end := await done()) is not None:
                    break
            else:
                raise AssertionError("no done status")
            delivered_sim = battery.wh_injected - battery.wh_absorbed - net_before
            assert end.energy_wh is not None and end.started_ts_ms is not None
            assert delivered_sim == pytest.approx(-60_000.0 * 120 / 3600, rel=0.05)
            # the edge's trapezoid over its 1 s polls against the simulator's own integral
            assert end.energy_wh == pytest.approx(delivered_sim, rel=0.03, abs=10.0)
            running = [s for s in of(await all_statuses(agent), "bess-1")
                       if s.status == "executing"]  # fmt: skip
            assert len(running) >= 120 // 15 - 1  # the measured power every 15 s
            assert all(s.p_actual_w is not None for s in running[1:])


async def test_pv_limit_percent_comes_from_the_rating_the_inverter_states(
    manual_clock: ManualClock,
) -> None:
    async with park(manual_clock) as site:
        ep = site.endpoint("pv-1")
        pv = site.device("pv-1")
        assert isinstance(pv, PVInverter) and pv.rated_w == 250_000.0
        # the config says 200 kW (narrower than the nameplate): the percent must still be
        # of the device's own WMaxRtg, or the cap lands at 80 % of what was asked
        limits = DeviceLimitsConfig(p_max_discharge_w=200_000.0, revert_s=10.0)
        adapter = ModbusAdapter(
            DeviceConfig(id="pv-1", kind="pv", port=ep.port, timeout_s=1.0, limits=limits)
        )
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await adapter.connect()
                written = await adapter.write(Setpoint(100_000.0, 10.0))
        finally:
            await adapter.close()
        assert pv.wmaxlim_pct == pytest.approx(40.0)
        assert written.p_w == pytest.approx(100_000.0) == pytest.approx(pv.limit_w)


async def test_the_revert_timer_is_written_again_after_a_reconnect(
    manual_clock: ManualClock,
) -> None:
    async with park(manual_clock) as site:
        ep = site.endpoint("bess-1")
        battery = site.device("bess-1")
        assert isinstance(battery, Battery)
        adapter = ModbusAdapter(DeviceConfig(id="bess-1", kind="battery", port=ep.port))
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await adapter.connect()
                await adapter.write(Setpoint(10_000.0, 20.0))
                assert battery.wset_timer.tms == 20
                site.set_fault("bess-1", "reboot")
                assert battery.wset_timer.tms == 0
                await adapter.connect()
                await adapter.write(Setpoint(10_000.0, 20.0))
        finally:
            await adapter.close()
        assert battery.wset_timer.tms == 20 and battery.wset_w == 10_000.0


class Float32Block:
    """Four writable holding registers from 0 (a custom, non-SunSpec device)."""

    base = 0

    def __init__(self) -> None:
        self.image = [0, 0, 0, 0]
        self.writable = frozenset(range(4))

    def mark_dirty(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def write(self, address: int, values: list[int]) -> ExcCode | None:
        self.image[address : address + len(values)] = values
        return None

    def value(self, address: int) -> float:
        data = b"".join(r.to_bytes(2, "big") for r in self.image[address : address + 2])
        held: float = struct.unpack(">f", data)[0]
        return held


async def test_a_float32_setpoint_of_a_custom_map_is_written_as_two_registers() -> None:
    block = Float32Block()
    rmap = RegisterMap(
        points=[
            RegisterPoint(name="p_w", address=0, type="float32", role="p_w", unit="W"),
            RegisterPoint(name="setpoint", address=2, type="float32", role="setpoint_w",
                          scale=0.5),
        ]
    )  # fmt: skip
    async with run_modbus_device(block) as server:
        config = DeviceConfig(id="ess", kind="battery", port=server.port, timeout_s=1.0)
        adapter = ModbusAdapter(config, custom_map=rmap)
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await adapter.connect()
                written = await adapter.write(Setpoint(-1_500.3, 10.0))
                reading = await adapter.read()
        finally:
            await adapter.close()
    assert block.value(2) * 0.5 == pytest.approx(-1_500.3, abs=1e-3)
    assert written.p_w == block.value(2) * 0.5
    assert reading.setpoint_w == pytest.approx(-1_500.3, abs=1e-3)
