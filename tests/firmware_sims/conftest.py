"""Fixtures for the simulator tests: a small park on free loopback ports, manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from firmware_sims import (
    BatterySpec,
    EVChargerSpec,
    HVACSpec,
    MeterSpec,
    PVSpec,
    SimSite,
    SiteSpec,
)
from protocol.clock import ManualClock

SMALL = SiteSpec(
    name="t",
    base_load_w=400_000.0,
    devices=[
        BatterySpec(name="bess-1", rated_w=500_000.0, capacity_wh=1_000_000.0, soc_pct=50.0),
        PVSpec(name="pv-1", rated_w=300_000.0),
        MeterSpec(name="meter-1"),
        EVChargerSpec(name="evse-1"),
    ],
)
WITH_CHILLER = SiteSpec(
    name="t-hvac",
    devices=[HVACSpec(name="chiller-1"), MeterSpec(name="meter-1")],
)


@pytest.fixture
async def site(manual_clock: ManualClock) -> AsyncIterator[SimSite]:
    """The small park running on free ports; physics moves only through ``site.step``."""
    async with SimSite(SMALL, clock=manual_clock, seed=7, control_port=0) as running:
        yield running


@pytest.fixture
async def hvac_site(manual_clock: ManualClock) -> AsyncIterator[SimSite]:
    """A chiller plant on OPC UA (and a meter) on free ports."""
    async with SimSite(WITH_CHILLER, clock=manual_clock, seed=3) as running:
        yield running
