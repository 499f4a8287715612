"""Each fault kind, and what a Modbus client sees while it is active."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ExceptionResponse

from firmware_sims import (
    SUNS_BASE,
    Battery,
    FaultKind,
    SimControlError,
    SimSite,
    SunSpecMap,
    load_preset,
    send_control,
)
from protocol.clock import ManualClock
from tests.firmware_sims.helpers import encode, modbus, read_point
from tests.support import SAFETY_TIMEOUT


async def _charge(site: SimSite, watts: float) -> None:
    bess = site.battery("bess-1")
    assert isinstance(bess, Battery)
    bess.write_wset(watts)
    bess.write_wset_ena(1)
    for _ in range(15):
        site.step(1.0)


async def test_drop_closes_the_connection_until_cleared(site: SimSite) -> None:
    ep = site.endpoint("bess-1")
    async with modbus(ep, timeout_s=1.0) as client:
        site.set_fault("bess-1", "drop")
        async with asyncio.timeout(SAFETY_TIMEOUT):
            with pytest.raises(ModbusException, match=r"Connection lost|No response"):
                await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
    site.clear_fault("bess-1", "drop")
    async with modbus(ep) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert rr.registers == [0x5375, 0x6E53]


async def test_slow_responses_time_out_a_client_with_a_short_timeout(site: SimSite) -> None:
    site.set_fault("bess-1", FaultKind.SLOW, delay_s=1.0)
    async with modbus(site.endpoint("bess-1"), timeout_s=0.2) as client:
        with pytest.raises(ModbusException):
            await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
    async with modbus(site.endpoint("bess-1"), timeout_s=5.0) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert rr.registers == [0x5375, 0x6E53]  # late, but right


async def test_exception_fault_answers_every_request_with_its_code(site: SimSite) -> None:
    site.set_fault("meter-1", "exception", code=6)
    async with modbus(site.endpoint("meter-1")) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == 6
        site.clear_fault("meter-1")
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert rr.registers == [0x5375, 0x6E53]


async def test_frozen_values_stop_moving_while_the_physics_goes_on(site: SimSite) -> None:
    smap = site.sunspec_map("bess-1")
    async with modbus(site.endpoint("bess-1")) as client:
        before = await read_point(client, smap, 701, "W")
        site.set_fault("bess-1", "frozen")
        for name, value in [("WSet", -300_000), ("WSetEna", 1)]:  # applied, but not shown
            address, regs = encode(smap, 704, name, value)
            assert not (await client.write_registers(address, regs, device_id=1)).isError()
        for _ in range(15):
            site.step(1.0)
        assert site.battery("bess-1").p_w == -300_000
        assert await read_point(client, smap, 701, "W") == before
        assert await read_point(client, smap, 704, "WSet") == 0
        site.clear_fault("bess-1", "frozen")
        assert await read_point(client, smap, 701, "W") == -300_000


async def test_garbage_registers_keep_the_chain_but_not_the_values(site: SimSite) -> None:
    smap = site.sunspec_map("bess-1")
    soc = smap.point(713, "SoC")
    site.set_fault("bess-1", "garbage")
    async with modbus(site.endpoint("bess-1")) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=4, device_id=1)
        assert rr.registers == [0x5375, 0x6E53, 1, 66]
        seen = set()
        for _ in range(5):
            rr = await client.read_holding_registers(soc.address, count=1, device_id=1)
            seen.add(rr.registers[0])
        assert seen != {500}
        assert len(seen) > 1


async def test_alarm_stops_the_battery_and_shows_in_its_points(site: SimSite) -> None:
    smap = site.sunspec_map("bess-1")
    await _charge(site, -200_000)
    site.set_fault("bess-1", "alarm", seconds=60)
    site.step(1.0)
    bess = site.battery("bess-1")
    assert bess.p_w == 0
    async with modbus(site.endpoint("bess-1")) as client:
        assert await read_point(client, smap, 802, "State") == 99
        alrm = await read_point(client, smap, 701, "Alrm")
        assert alrm is not None
        assert int(alrm) & (1 << 16)
        assert await read_point(client, smap, 702, "WChaRteMax") == 0
        address, regs = encode(smap, 704, "WSet", -1000)
        rr = await client.write_registers(address, regs, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == 3
        for _ in range(60):
            site.step(1.0)  # the alarm was for 60 s of site time
        assert site.faults("bess-1") == {}
        assert await read_point(client, smap, 802, "State") == 3


async def test_refuse_writes_keeps_reads_working(site: SimSite) -> None:
    smap = site.sunspec_map("bess-1")
    site.set_fault("bess-1", "refuse_writes")
    async with modbus(site.endpoint("bess-1")) as client:
        address, regs = encode(smap, 704, "WSet", 1000)
        rr = await client.write_registers(address, regs, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == 4
        assert await read_point(client, smap, 704, "WSet") == 0
        assert site.battery("bess-1").wset_w == 0


def test_bad_fault_requests_name_what_is_wrong(site: SimSite) -> None:
    with pytest.raises(SimControlError, match="device: no device named 'nope'"):
        site.set_fault("nope", "drop")
    with pytest.raises(SimControlError, match="kind: unknown fault 'melt'"):
        site.set_fault("bess-1", "melt")
    with pytest.raises(SimControlError, match=r"params\.speed: not a parameter of slow"):
        site.set_fault("bess-1", "slow", speed=2)
    with pytest.raises(SimControlError, match=r"params\.code"):
        site.set_fault("bess-1", "exception", code=99)
    with pytest.raises(SimControlError, match="seconds"):
        site.set_fault("bess-1", "drop", seconds=-1)
    assert site.faults("bess-1") == {}


async def _write(
    client: AsyncModbusTcpClient, smap: SunSpecMap, model: int, name: str, value: float
) -> None:
    address, regs = encode(smap, model, name, value)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        rr = await client.write_registers(address, regs, device_id=1)
    assert not rr.isError(), rr


async def test_reboot_restores_power_on_defaults_and_drops_the_connection(site: SimSite) -> None:
    smap = site.sunspec_map("bess-1")
    ep = site.endpoint("bess-1")
    async with modbus(ep, timeout_s=1.0) as client:
        await _write(client, smap, 704, "WSetRvrtTms", 30)
        await _write(client, smap, 704, "WSet", 20_000)
        await _write(client, smap, 704, "WSetEna", 1)
        pv_smap = site.sunspec_map("pv-1")
        async with modbus(site.endpoint("pv-1")) as pv:
            await _write(pv, pv_smap, 704, "WMaxLimPctRvrtTms", 30)
            await _write(pv, pv_smap, 704, "WMaxLimPct", 40)
            await _write(pv, pv_smap, 704, "WMaxLimPctEna", 1)
        for _ in range(5):
            site.step(1.0)
        assert site.battery("bess-1").p_w > 0
        site.set_fault("bess-1", "reboot")
        site.set_fault("pv-1", FaultKind.REBOOT)
        assert site.faults("bess-1") == {}  # a reboot without seconds is over at once
        async with asyncio.timeout(SAFETY_TIMEOUT):
            with pytest.raises(ModbusException, match=r"Connection lost|No response|Not conn"):
                await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
    async with modbus(ep) as client:
        assert await read_point(client, smap, 704, "WSetEna") == 0
        assert await read_point(client, smap, 704, "WSet") == 0
        assert await read_point(client, smap, 704, "WSetRvrtTms") == 0
        assert await read_point(client, smap, 704, "WSetRvrtRem") == 0
    bess = site.battery("bess-1")
    assert bess.p_w == 0 and bess.wset_timer.deadline is None
    pv_model = site.pv("pv-1")
    assert (pv_model.wmaxlim_ena, pv_model.wmaxlim_pct, pv_model.wmaxlim_timer.tms) == (0, 100, 0)


async def test_a_reboot_with_seconds_keeps_the_device_down_while_it_boots(site: SimSite) -> None:
    ep = site.endpoint("bess-1")
    site.set_fault("bess-1", "reboot", seconds=10)
    assert "reboot" in site.faults("bess-1")
    async with modbus(ep, timeout_s=1.0) as client:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            with pytest.raises(ModbusException, match=r"Connection lost|No response"):
                await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
    site.step(11.0)
    assert site.faults("bess-1") == {}
    async with modbus(ep) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert rr.registers == [0x5375, 0x6E53]


async def test_reboot_over_the_control_server(manual_clock: ManualClock) -> None:
    async with SimSite(load_preset("park-s"), clock=manual_clock, control_port=0) as site:
        bess = site.battery("bess-1")
        bess.write_wset_rvrt_tms(60)
        bess.write_wset(10_000.0)
        bess.write_wset_ena(1)
        assert site.control_address is not None
        host, port = site.control_address
        reply = await send_control(
            host, port, {"op": "fault", "device": "bess-1", "kind": "reboot"}
        )
        assert reply == {"ok": True, "device": "bess-1", "faults": {}}
        assert (bess.wset_ena, bess.wset_w, bess.wset_timer.tms) == (0, 0.0, 0)
        bad = await send_control(
            host, port, {"op": "fault", "device": "bess-1", "kind": "reboot", "params": {"x": 1}}
        )
        assert bad["ok"] is False and "params.x" in bad["error"]
