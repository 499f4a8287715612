"""Province presets of :class:`TradingRules` for the simulated exchange (pure).

The price limits follow the provinces' published spot rules as reported in public
sources; docs/markets.md lists the sources and which figures are ours (gate closure,
sizes, ancillary and DR tariffs are simulator defaults, not the rule books). A real
connector is configured with the rules of its market; these only make the simulation
behave like one.
"""

from __future__ import annotations

import datetime as dt

from ._rules import Qualification, TradingRules

SHANDONG = TradingRules(
    mode="price_quantity",
    gate_closure=dt.time(9, 30),
    # Negative offers allowed (the first province to allow them, 2023). The market
    # cleared from 1047.51 down to -85 yuan/MWh over the May 2023 holiday.
    offer_floor_yuan_mwh=-80.0,
    offer_cap_yuan_mwh=1300.0,
    clearing_floor_yuan_mwh=-100.0,
    clearing_cap_yuan_mwh=1500.0,
    min_bid_kw=100.0,
    bid_step_kw=100.0,
    qualification=Qualification(min_capacity_kw=5_000.0, min_duration_h=1.0),
    deviation_tolerance=0.05,
    deviation_penalty_yuan_mwh=50.0,
    dr_compensation_yuan_kwh=3.5,
    regulation_availability_yuan_mw_h=10.0,
    regulation_mileage_yuan_mw=6.0,
    reserve_availability_yuan_mw_h=5.0,
)

SHANXI = TradingRules(
    mode="price_quantity",
    gate_closure=dt.time(9, 30),
    offer_floor_yuan_mwh=0.0,
    offer_cap_yuan_mwh=1500.0,
    clearing_floor_yuan_mwh=0.0,
    clearing_cap_yuan_mwh=1500.0,
    min_bid_kw=100.0,
    bid_step_kw=100.0,
    qualification=Qualification(min_capacity_kw=10_000.0, min_duration_h=1.0),
    deviation_tolerance=0.03,
    deviation_penalty_yuan_mwh=50.0,
    dr_compensation_yuan_kwh=4.0,
    regulation_availability_yuan_mw_h=12.0,
    regulation_mileage_yuan_mw=8.0,
    reserve_availability_yuan_mw_h=6.0,
)

GENERIC_QUANTITY_ONLY = TradingRules(
    mode="quantity_only",
    gate_closure=dt.time(10, 0),
    offer_floor_yuan_mwh=0.0,
    offer_cap_yuan_mwh=1500.0,
    clearing_floor_yuan_mwh=0.0,
    clearing_cap_yuan_mwh=1500.0,
    min_bid_kw=100.0,
    bid_step_kw=0.0,
    dr_compensation_yuan_kwh=5.0,
)
"""Not a province: a price-taker (报量不报价) market, the form most provinces start users
in, to exercise that mode in the simulator."""

PRESETS: dict[str, TradingRules] = {
    "shandong": SHANDONG,
    "shanxi": SHANXI,
    "quantity_only": GENERIC_QUANTITY_ONLY,
}
"""Trading rules by preset name (the Structs are frozen; do not add to the dict)."""
