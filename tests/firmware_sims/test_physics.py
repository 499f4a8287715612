"""Physics over simulated time (manual clock): SoC, site power, revert timers, limits."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sims import (
    Battery,
    BatterySpec,
    Chiller,
    EVCharger,
    MeterSpec,
    PVInverter,
    PVSpec,
    SimSite,
    SiteSpec,
    Weather,
    WriteRejected,
    load_preset,
)
from protocol.clock import ManualClock
from tests.support import SAFETY_TIMEOUT

HOUR = 3600.0
DAY_SPEC = SiteSpec(
    name="day",
    base_load_w=600_000.0,
    devices=[
        BatterySpec(name="bess-1", rated_w=500_000.0, capacity_wh=2_000_000.0, soc_pct=20.0),
        PVSpec(name="pv-1", rated_w=800_000.0),
        MeterSpec(name="meter-1"),
    ],
)


def _battery(site: SimSite) -> Battery:
    b = site.battery("bess-1")
    assert isinstance(b, Battery)
    return b


def test_a_simulated_day_charges_at_midday_and_discharges_in_the_evening() -> None:
    site = SimSite(DAY_SPEC, clock=ManualClock(), seed=1)
    bess = _battery(site)
    start_soc = bess.soc_pct
    # 01:00-04:00 UTC (09:00-12:00 local solar): charge 400 kW from PV
    bess.write_wset(-400_000)
    bess.write_wset_ena(1)
    for _ in range(int(3 * HOUR / 60)):
        site.step(60)
    assert bess.p_w == -400_000
    charged = bess.soc_pct - start_soc
    # 1.2 MWh at 96 % efficiency into 2 MWh, minus a little self-discharge
    assert 57.0 < charged < 57.6
    # hold, then discharge 500 kW in the evening peak
    bess.write_wset(0)
    site.step(6 * HOUR)
    before = site.meter_import_w
    bess.write_wset(500_000)
    site.step(60)
    after = site.meter_import_w
    assert before - after == pytest.approx(500_000, rel=0.05)
    for _ in range(int(6 * HOUR / 60)):
        site.step(60)
    # discharging stops at the SoC floor, with the allowed power tapering to 0
    assert bess.soc_pct == pytest.approx(bess.soc_min_pct, abs=0.6)
    assert bess.allowed_discharge_w < 0.15 * bess.rated_w
    assert bess.p_w <= bess.allowed_discharge_w + 1e-6
    assert bess.wh_injected > 0
    assert bess.wh_absorbed == pytest.approx(1_200_000, rel=0.01)


def test_site_power_balance_at_the_point_of_connection() -> None:
    site = SimSite(DAY_SPEC, clock=ManualClock(), seed=1)
    site.step(4 * HOUR)  # solar noon
    pv = site.pv("pv-1")
    assert isinstance(pv, PVInverter)
    load = site.weather.load_w(site.t, DAY_SPEC.base_load_w)
    assert site.meter_import_w == pytest.approx(load - pv.p_w - _battery(site).p_w)
    meter = site.meter("meter-1")
    assert meter.import_w == pytest.approx(site.meter_import_w, rel=0.05)
    assert meter.wh_exported + meter.wh_imported > 0


def test_wset_reverts_to_zero_when_its_timer_lapses_without_a_refresh() -> None:
    site = SimSite(DAY_SPEC, clock=ManualClock(), seed=1)
    bess = _battery(site)
    bess.write_wset_rvrt_tms(30)
    bess.write_wset(200_000)
    bess.write_wset_ena(1)
    for _ in range(20):
        site.step(1)
    bess.write_wset(200_000)  # a refresh re-arms the timer
    for _ in range(29):
        site.step(1)
    assert bess.active_setpoint_w == 200_000
    assert bess.reverts == 0
    for _ in range(2):
        site.step(1)
    assert bess.reverts == 1
    assert bess.wset_ena == 0
    assert bess.active_setpoint_w == 0
    for _ in range(20):
        site.step(1)
    assert bess.p_w == 0


def test_wmaxlimpct_reverts_too() -> None:
    site = SimSite(DAY_SPEC, clock=ManualClock(), seed=1)
    bess = _battery(site)
    bess.write_wmaxlim_rvrt_tms(10)
    bess.write_wmaxlim_pct(20)
    bess.write_wmaxlim_ena(1)
    bess.write_wset(400_000)
    bess.write_wset_ena(1)
    site.step(5)
    assert bess.p_w == pytest.approx(100_000)
    site.step(6)
    assert bess.wmaxlim_ena == 0
    site.step(10)
    assert bess.p_w == pytest.approx(400_000)


def test_allowed_power_shrinks_when_hot_and_writes_beyond_it_are_rejected() -> None:
    bess = Battery(rated_w=500_000, capacity_wh=1_000_000, ambient_c=48.0, temp_c=48.0)
    assert bess.allowed_discharge_w == pytest.approx(100_000)
    assert bess.allowed_charge_w == pytest.approx(100_000)
    with pytest.raises(WriteRejected, match="allowed range"):
        bess.write_wset(150_000)
    bess.write_wset(100_000)
    bess.write_wset_ena(1)
    bess.ambient_c = 60.0
    for _ in range(3600):
        bess.step(1)
    assert bess.allowed_discharge_w == 0
    assert bess.p_w == 0  # an accepted setpoint is limited, never exceeded
    assert bess.wset_w == 100_000


def test_allowed_power_tapers_near_the_soc_limits() -> None:
    full = Battery(rated_w=500_000, capacity_wh=1_000_000, soc_pct=93.0)
    assert full.allowed_charge_w == pytest.approx(200_000)
    assert full.allowed_discharge_w == 500_000
    empty = Battery(rated_w=500_000, capacity_wh=1_000_000, soc_pct=6.0)
    assert empty.allowed_discharge_w == pytest.approx(100_000)


@settings(max_examples=60, deadline=None)
@given(
    soc=st.floats(0, 100),
    setpoint=st.floats(-1.0, 1.0),
    steps=st.lists(st.floats(0.1, 600.0), min_size=1, max_size=20),
)
def test_battery_never_leaves_its_limits(soc: float, setpoint: float, steps: list[float]) -> None:
    bess = Battery(rated_w=100_000, capacity_wh=200_000, soc_pct=soc)
    bess.wset_w, bess.wset_ena = setpoint * 100_000, 1  # even a setpoint set behind its back
    for dt in steps:
        allowed = (-bess.allowed_charge_w - 1e-6, bess.allowed_discharge_w + 1e-6)
        before = bess.soc_pct
        bess.step(dt)
        assert allowed[0] <= bess.p_w <= allowed[1]
        assert abs(bess.p_w) <= bess.rated_w
        assert bess.soc_pct <= max(before, bess.soc_max_pct) + 1e-9
        assert bess.soc_pct >= min(before, bess.soc_min_pct) - 0.01  # only self-discharge


def test_same_seed_same_day_other_seed_other_clouds() -> None:
    def run(seed: int) -> list[float]:
        site = SimSite(load_preset("park-a"), clock=ManualClock(), seed=seed)
        out = []
        for _ in range(8):
            site.step(HOUR)
            out.append(round(site.meter_import_w, 3))
        return out

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_weather_is_dark_at_night_and_warmest_in_the_afternoon() -> None:
    w = Weather(seed=0, latitude_deg=31.2, longitude_deg=0.0, cloudiness=0.0)
    assert w.ghi(0.0) == 0.0  # midnight
    assert w.ghi(12 * HOUR) > 500
    assert w.outdoor_c(15 * HOUR) > w.outdoor_c(3 * HOUR)
    assert 0.25 <= w.cloud_factor(1234.0) <= 1.0


def test_ev_charger_sessions_limit_and_watchdog_fallback() -> None:
    ev = EVCharger(max_a=32, seed=0, index=0, presence_probability=1.0)
    day0 = ev.session_for_day(0)
    assert day0 is not None
    ev.step(day0.arrival)
    ev.step(60)  # the car is plugged in
    assert ev.connected
    assert ev.status == 2
    assert ev.p_w == pytest.approx(min(32 * 690, day0.max_w))
    ev.write_watchdog_s(60)
    ev.write_limit_a(0)  # pause
    ev.step(30)
    assert ev.p_w == 0
    assert ev.status == 3
    ev.step(31)  # no heartbeat for 61 s: fallback to the charger's default (rated)
    assert ev.watchdog_tripped
    assert ev.limit_a == 32
    assert ev.p_w > 0
    with pytest.raises(WriteRejected):
        ev.write_limit_a(3)
    with pytest.raises(WriteRejected):
        ev.write_fallback_a(80)
    ev.step(day0.departure - ev.t + 1)
    assert ev.status == 0  # the car has left


def test_chiller_holds_the_setpoint_and_follows_a_power_limit() -> None:
    w = Weather(seed=0, cloudiness=0.0)
    ch = Chiller(rated_w=200_000, weather=w, room_c=28.0)
    for _ in range(6 * 60):
        ch.step(60)
    assert abs(ch.room_c - ch.setpoint_c) < 1.5
    ch.write_revert_s(600)
    ch.write_power_limit_w(20_000)
    for _ in range(5):
        ch.step(60)
    assert ch.p_w <= 20_000
    for _ in range(6):
        ch.step(60)
    assert ch.reverted
    assert ch.power_limit_w == 200_000
    with pytest.raises(WriteRejected):
        ch.write_setpoint(40)
    with pytest.raises(WriteRejected):
        ch.write_power_limit_w(-1)


async def test_background_physics_follows_the_clock(manual_clock: ManualClock) -> None:
    async with SimSite(DAY_SPEC, clock=manual_clock, seed=1, tick_s=1.0) as site:
        bess = _battery(site)
        bess.write_wset(-100_000)
        bess.write_wset_ena(1)
        soc = bess.soc_pct
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await manual_clock.run_for(30, step=1.0)
        assert bess.p_w == -100_000
        assert bess.soc_pct > soc


def test_ev_cars_arrive_in_the_local_morning() -> None:
    site = SimSite(load_preset("park-l"), clock=ManualClock(), seed=2)
    tz = site.weather.lon_deg / 15.0 * 3600.0
    arrivals = []
    for name in site.names:
        if name.startswith("evse-"):
            for day in range(20_454, 20_457):  # a few days around the start
                session = site.ev_charger(name).session_for_day(day)
                if session is not None:
                    arrivals.append(((session.arrival + tz) % 86_400) / 3600)
    assert len(arrivals) > 20
    assert all(6.5 <= h <= 10.0 for h in arrivals)
