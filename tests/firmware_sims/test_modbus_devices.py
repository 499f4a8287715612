"""SunSpec devices over Modbus TCP with pymodbus' client: layout, live values, bad writes."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ExceptionResponse

from firmware_sims import (
    EV_SIZE,
    SUNS_BASE,
    Battery,
    DeviceEndpoint,
    EVReg,
    PVInverter,
    PVRegisters,
    SimSite,
    SunSpecMap,
    Weather,
    run_modbus_device,
)
from tests.firmware_sims.helpers import encode, modbus, read_point
from tests.support import SAFETY_TIMEOUT

ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3


async def test_every_sunspec_device_starts_with_the_marker_and_ends_the_chain(
    site: SimSite,
) -> None:
    for name, models in {
        "bess-1": [1, 701, 702, 704, 713, 802],
        "pv-1": [1, 701, 702, 704],
        "meter-1": [1, 203],
    }.items():
        smap = site.sunspec_map(name)
        async with modbus(site.endpoint(name)) as client:
            rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
            assert rr.registers == [0x5375, 0x6E53]
            address, seen = SUNS_BASE + 2, []
            for _ in range(10):
                head = await client.read_holding_registers(address, count=2, device_id=1)
                if head.registers[0] == 0xFFFF:
                    break
                seen.append(head.registers[0])
                address += 2 + head.registers[1]
            assert seen == models
            assert address == smap.end


async def test_battery_registers_follow_the_physics(site: SimSite) -> None:
    bess = site.battery("bess-1")
    assert isinstance(bess, Battery)
    smap = site.sunspec_map("bess-1")
    async with modbus(site.endpoint("bess-1")) as client:
        assert await read_point(client, smap, 713, "SoC") == 50.0
        address, regs = encode(smap, 704, "WSet", -200_000)
        assert not (await client.write_registers(address, regs, device_id=1)).isError()
        address, regs = encode(smap, 704, "WSetEna", 1)
        assert not (await client.write_registers(address, regs, device_id=1)).isError()
        for _ in range(20):
            site.step(1.0)
        assert bess.p_w == -200_000
        assert await read_point(client, smap, 701, "W") == -200_000
        assert await read_point(client, smap, 802, "ChaSt") == 4  # CHARGING
        soc = await read_point(client, smap, 713, "SoC")
        assert soc is not None
        assert soc > 50.0


async def test_writes_beyond_allowed_power_get_illegal_data_value(site: SimSite) -> None:
    bess = site.battery("bess-1")
    assert isinstance(bess, Battery)
    smap = site.sunspec_map("bess-1")
    async with modbus(site.endpoint("bess-1")) as client:
        address, regs = encode(smap, 704, "WSet", 600_000)
        rr = await client.write_registers(address, regs, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_VALUE
        assert bess.wset_w == 0
        for name, bad in [("WMaxLimPct", 150.0), ("WSetEna", 2), ("WSetRvrtTms", 100_000)]:
            address, regs = encode(smap, 704, name, bad)
            rr = await client.write_registers(address, regs, device_id=1)
            assert isinstance(rr, ExceptionResponse), name
            assert rr.exception_code == ILLEGAL_VALUE
        # read-only point and registers outside the map: illegal data address
        rr = await client.write_register(smap.point(713, "SoC").address, 10, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_ADDRESS
        rr = await client.read_holding_registers(30_000, count=2, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_ADDRESS
        rr = await client.read_holding_registers(smap.end, count=4, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        # the server is still alive and serving
        assert await read_point(client, smap, 713, "SoC") == 50.0


async def test_pv_curtailment_through_wmaxlimpct(site: SimSite) -> None:
    pv = site.pv("pv-1")
    site.step(4 * 3600.0)  # 04:00 UTC is solar noon at 121.5° E
    assert pv.p_w > 50_000
    smap = site.sunspec_map("pv-1")
    async with modbus(site.endpoint("pv-1")) as client:
        for name, value in [("WMaxLimPct", 10.0), ("WMaxLimPctEna", 1)]:
            address, regs = encode(smap, 704, name, value)
            assert not (await client.write_registers(address, regs, device_id=1)).isError()
        site.step(1.0)
        assert pv.p_w <= 30_000 + 1e-6
        assert await read_point(client, smap, 701, "W") == round(pv.p_w, -1)
        # PV has no WSet: the register is read-only here
        address, regs = encode(smap, 704, "WSet", 1000)
        rr = await client.write_registers(address, regs, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_ADDRESS


async def test_meter_reads_net_import_of_the_site(site: SimSite) -> None:
    smap = site.sunspec_map("meter-1")
    site.step(1.0)
    async with modbus(site.endpoint("meter-1")) as client:
        w = await read_point(client, smap, 203, "W")
        assert w is not None
        assert abs(w - site.meter_import_w) <= 10 ** smap.scale(smap.point(203, "W"))
        async with asyncio.timeout(SAFETY_TIMEOUT):
            rr = await client.read_holding_registers(
                smap.point(1, "Mn").address, count=4, device_id=1
            )
        assert (
            bytes(b for r in rr.registers for b in r.to_bytes(2, "big")).rstrip(b"\0") == b"Lingtan"
        )


async def test_ev_charger_custom_map_limit_watchdog_and_bad_values(site: SimSite) -> None:
    ev = site.ev_charger("evse-1")
    async with modbus(site.endpoint("evse-1")) as client:
        rr = await client.read_holding_registers(0, count=EV_SIZE, device_id=1)
        regs = rr.registers
        assert regs[EVReg.MAP_VERSION] == 1
        assert regs[EVReg.MAX_CURRENT_DA] == 320
        assert regs[EVReg.CURRENT_LIMIT_DA] == 320
        assert regs[EVReg.PHASES] == 3
        # arm the watchdog and limit the current
        assert not (await client.write_register(EVReg.WATCHDOG_S, 60, device_id=1)).isError()
        assert not (
            await client.write_register(EVReg.FALLBACK_CURRENT_DA, 60, device_id=1)
        ).isError()
        assert not (await client.write_register(EVReg.CURRENT_LIMIT_DA, 160, device_id=1)).isError()
        assert ev.limit_a == 16
        site.step(30)
        assert not (await client.write_register(EVReg.HEARTBEAT, 1, device_id=1)).isError()
        site.step(45)
        rr = await client.read_holding_registers(EVReg.WATCHDOG_REMAINING_S, count=2, device_id=1)
        assert rr.registers == [15, 0]
        site.step(20)
        rr = await client.read_holding_registers(EVReg.CURRENT_LIMIT_DA, count=1, device_id=1)
        assert rr.registers == [60]  # fell back to 6 A
        rr = await client.read_holding_registers(EVReg.WATCHDOG_TRIPPED, count=1, device_id=1)
        assert rr.registers == [1]
        for reg, bad in [
            (EVReg.CURRENT_LIMIT_DA, 50),
            (EVReg.CURRENT_LIMIT_DA, 400),
            (EVReg.FALLBACK_CURRENT_DA, 20),
            (EVReg.WATCHDOG_S, 4000),
        ]:
            rr = await client.write_register(reg, bad, device_id=1)
            assert isinstance(rr, ExceptionResponse), (reg, bad)
            assert rr.exception_code == ILLEGAL_VALUE
        rr = await client.write_register(EVReg.STATUS, 1, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_ADDRESS
        rr = await client.read_holding_registers(EV_SIZE, count=1, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_ADDRESS


async def test_an_ev_session_shows_need_departure_and_energy(site: SimSite) -> None:
    ev = site.ev_charger("evse-1")
    for _ in range(24 * 12):
        site.step(300)
        if ev.connected and ev.p_w > 0:
            break
    session = ev.session
    assert session is not None
    async with modbus(site.endpoint("evse-1")) as client:
        rr = await client.read_holding_registers(0, count=EV_SIZE, device_id=1)
        regs = rr.registers
        assert regs[EVReg.STATUS] == 2
        power = (regs[EVReg.POWER_W] << 16) | regs[EVReg.POWER_W + 1]
        assert power == round(ev.p_w)
        departure = (regs[EVReg.DEPARTURE_UNIX_S] << 16) | regs[EVReg.DEPARTURE_UNIX_S + 1]
        assert departure == int(session.departure)
        need = (regs[EVReg.ENERGY_NEED_WH] << 16) | regs[EVReg.ENERGY_NEED_WH + 1]
        assert need == int(ev.need_wh)
        assert need > 0


async def test_single_device_server_and_pv_revert_timer() -> None:
    weather = Weather(seed=0, cloudiness=0.0, longitude_deg=0.0)
    pv = PVInverter(rated_w=100_000, weather=weather, t=12 * 3600.0)
    regs = PVRegisters(pv, {"SN": "pv-x", "Md": "LT-PV"})
    async with run_modbus_device(regs, unit_id=7) as server:
        assert server.port > 0
        ep = DeviceEndpoint(
            device="pv-x",
            kind="pv",
            protocol="modbus",
            host="127.0.0.1",
            port=server.port,
            unit_id=7,
        )
        client = AsyncModbusTcpClient(ep.host, port=ep.port, timeout=3, retries=0)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await client.connect()
            try:
                for name, value in [
                    ("WMaxLimPctRvrtTms", 10),
                    ("WMaxLimPctRvrt", 80.0),
                    ("WMaxLimPctEnaRvrt", 1),
                    ("WMaxLimPct", 5.0),
                    ("WMaxLimPctEna", 1),
                ]:
                    address, values = encode(regs.smap, 704, name, value)
                    rr = await client.write_registers(address, values, device_id=7)
                    assert not rr.isError(), name
                pv.step(1)
                assert pv.p_w == pytest.approx(5_000)
                pv.step(10)
                assert pv.reverted
                assert pv.wmaxlim_pct == 80.0
                regs.mark_dirty()
                p = regs.smap.point(704, "WMaxLimPct")
                rr = await client.read_holding_registers(p.address, count=1, device_id=7)
                assert rr.registers == [800]
            finally:
                client.close()


async def test_published_allowed_power_is_never_above_what_a_write_may_use(site: SimSite) -> None:
    bess = site.battery("bess-1")
    bess.ambient_c = bess.temp_c = 43.21  # derated to an odd number of watts
    site.step(1.0)
    smap = site.sunspec_map("bess-1")
    async with modbus(site.endpoint("bess-1")) as client:
        allowed = await read_point(client, smap, 702, "WDisChaRteMax")
        assert allowed is not None
        assert allowed <= bess.allowed_discharge_w + 1e-6  # the tolerance WSet checks use
        assert bess.allowed_discharge_w - allowed < 10 ** smap.scale(
            smap.point(702, "WDisChaRteMax")
        )
        address, regs = encode(smap, 704, "WSet", allowed)
        assert not (await client.write_registers(address, regs, device_id=1)).isError()
        address, regs = encode(smap, 704, "WSet", allowed + 1000)
        rr = await client.write_registers(address, regs, device_id=1)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == ILLEGAL_VALUE


async def test_another_unit_id_gets_gateway_target_failed(site: SimSite) -> None:
    async with modbus(site.endpoint("bess-1")) as client:
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=9)
        assert isinstance(rr, ExceptionResponse)
        assert rr.exception_code == 0x0B
        rr = await client.read_holding_registers(SUNS_BASE, count=2, device_id=1)
        assert rr.registers == [0x5375, 0x6E53]


@settings(max_examples=200, deadline=None)
@given(
    watts=st.floats(-2_000_000, 2_000_000, allow_nan=False),
    pct=st.floats(0, 100),
    text=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=32),
)
def test_sunspec_points_round_trip_within_their_resolution(
    watts: float, pct: float, text: str
) -> None:
    smap = SunSpecMap(
        [1, 701, 704], {(701, "W_SF"): 2, (704, "WSet_SF"): 0, (704, "WMaxLimPct_SF"): -1}
    )
    image = list(smap.template)
    for (model, name), value, step in [
        ((704, "WSet"), watts, 1.0),
        ((701, "W"), watts, 100.0),
        ((704, "WMaxLimPct"), pct, 0.1),
    ]:
        p = smap.point(model, name)
        smap.put(image, p, value)
        decoded = smap.value(image, p)
        assert decoded is not None
        if name == "W" and abs(watts) > 32767 * 100:  # beyond int16 x 100: saturates
            assert abs(decoded) == 32767 * 100
        else:
            assert abs(decoded - value) <= step / 2 + 1e-6
    sn = smap.point(1, "SN")
    smap.put(image, sn, text)
    raw = b"".join(r.to_bytes(2, "big") for r in image[sn.address - SUNS_BASE :][: sn.size])
    assert raw.rstrip(b"\0").decode() == text.rstrip("\0")[:32]
    smap.put(image, smap.point(701, "W"), None)
    assert smap.value(image, smap.point(701, "W")) is None
    assert image[:2] == [0x5375, 0x6E53]
    assert image[smap.end - SUNS_BASE : smap.end - SUNS_BASE + 2] == [0xFFFF, 0]
