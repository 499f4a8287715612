"""Trading rules of a market (seed 4.3.1 ``trading_rules``), pure.

The markets helper owns the cross-field checks (:func:`rule_problems`) and the province
presets; the trading API stores a connector's rules only when there are no problems.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

from ._connector import SLOT_MINUTES, SLOTS_PER_DAY, MarketMode


class Qualification(msgspec.Struct, frozen=True, kw_only=True):
    """What a VPP must offer to take part (e.g. >= 10 MW able to respond for >= 1 h)."""

    min_capacity_kw: Annotated[float, Meta(ge=0)] = 0.0
    min_duration_h: Annotated[float, Meta(ge=0)] = 0.0


class TradingRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The rules a market applies to bids and clearing. Prices in yuan/MWh, power in kW."""

    mode: MarketMode = "price_quantity"
    slot_minutes: Annotated[int, Meta(ge=1, le=60)] = SLOT_MINUTES
    slots_per_day: Annotated[int, Meta(ge=1, le=1440)] = SLOTS_PER_DAY
    timezone: str = "Asia/Shanghai"
    gate_closure: dt.time = dt.time(10, 0)
    """Day-ahead gate closure, local time on D-1 (bids for day D must arrive before it)."""
    offer_floor_yuan_mwh: float = 0.0
    offer_cap_yuan_mwh: float = 1500.0
    clearing_floor_yuan_mwh: float = 0.0
    clearing_cap_yuan_mwh: float = 1500.0
    min_bid_kw: Annotated[float, Meta(ge=0)] = 0.0
    bid_step_kw: Annotated[float, Meta(ge=0)] = 0.0
    """Quantities must be multiples of it (0: any)."""
    qualification: Qualification = Qualification()
    deviation_tolerance: Annotated[float, Meta(ge=0, le=1)] = 0.05
    """Share of the cleared energy a VPP may miss or exceed without penalty."""
    deviation_penalty_yuan_mwh: Annotated[float, Meta(ge=0)] = 0.0
    """Charged per MWh of deviation beyond the tolerance, on top of the balancing price."""
    dr_compensation_yuan_kwh: Annotated[float, Meta(ge=0)] = 0.0
    """Demand response: paid per kWh curtailed against the baseline (e.g. 3.5-5)."""
    regulation_availability_yuan_mw_h: Annotated[float, Meta(ge=0)] = 0.0
    regulation_mileage_yuan_mw: Annotated[float, Meta(ge=0)] = 0.0
    reserve_availability_yuan_mw_h: Annotated[float, Meta(ge=0)] = 0.0
