"""Regressions found in review: each test failed before its fix."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient

from firmware_sims import Chiller, SimControlError, SimSite, load_preset, send_control
from firmware_sims._faults import FaultKind, fault_params
from firmware_sims._physics import Weather
from protocol.clock import ManualClock
from tests.support import SAFETY_TIMEOUT


async def test_control_params_named_like_set_fault_arguments_get_an_error_reply() -> None:
    async with (
        asyncio.timeout(SAFETY_TIMEOUT),
        SimSite(load_preset("park-s"), clock=ManualClock(), control_port=0) as site,
    ):
        assert site.control_address is not None
        host, port = site.control_address
        for name in ("seconds", "device", "kind", "self"):
            reply = await send_control(
                host,
                port,
                {"op": "fault", "device": site.names[0], "kind": "alarm", "params": {name: 1}},
            )
            assert reply["ok"] is False
            assert f"params.{name}" in reply["error"]
        status = await send_control(host, port, {"op": "status"})
        assert status["ok"] is True  # the connection and the server survived


async def test_coil_function_codes_get_illegal_function() -> None:
    async with (
        asyncio.timeout(SAFETY_TIMEOUT),
        SimSite(load_preset("park-s"), clock=ManualClock()) as site,
    ):
        endpoint = next(ep for ep in site.endpoints if ep.kind == "battery")
        client = AsyncModbusTcpClient(endpoint.host, port=endpoint.port)
        await client.connect()
        try:
            wset_ena = site.sunspec_map(endpoint.device).point(704, "WSetEna").address
            before = site.battery(endpoint.device).wset_ena
            reply = await client.write_coil(wset_ena, True, device_id=endpoint.unit_id or 1)
            assert reply.isError()
            assert reply.exception_code == 1  # ILLEGAL FUNCTION
            assert site.battery(endpoint.device).wset_ena == before
            coils = await client.read_coils(wset_ena, count=1, device_id=endpoint.unit_id or 1)
            assert coils.isError()
        finally:
            client.close()


def test_a_fault_code_must_be_a_whole_number() -> None:
    with pytest.raises(SimControlError, match="whole number"):
        fault_params(FaultKind.EXCEPTION, {"code": 4.5})
    assert fault_params(FaultKind.EXCEPTION, {"code": 4.0})["code"] == 4


def test_chiller_sub_steps_keep_a_long_step_physical() -> None:
    # One 12 h step must stay near what 720 one-minute steps give, not run away.
    long_step = Chiller(rated_w=200_000, weather=Weather(seed=0, cloudiness=0.0), room_c=28.0)
    short_steps = Chiller(rated_w=200_000, weather=Weather(seed=0, cloudiness=0.0), room_c=28.0)
    long_step.step(43_200)
    for _ in range(720):
        short_steps.step(60)
    assert 10.0 < long_step.room_c < 40.0
    assert abs(long_step.room_c - short_steps.room_c) < 5.0


def test_solar_declination_uses_the_calendar_day() -> None:
    weather = Weather(seed=0, cloudiness=0.0)
    june_noon = 1_781_956_800.0 - 8 * 3600  # 2026-06-20 12:00 at UTC+8 longitude-ish
    december_noon = june_noon + 183 * 86_400
    # Shanghai-like latitude: the June sun is far higher than the December sun.
    assert weather.clear_sky_ghi(june_noon) > 1.3 * weather.clear_sky_ghi(december_noon)
