"""REST bodies of the settlement routes (money as decimal strings, two places)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub._dto import In, JsonObject, Out, Uuid
from hub.markets import MarketType


class SettleRun(In, kw_only=True):
    """``POST /api/v1/vpp/settlement/run``."""

    vpp_id: Uuid
    market_type: MarketType
    trading_date: dt.date
    realtime_prices: dict[int, float] | None = None
    """Slot -> published balancing price (yuan/MWh), over the stored market data."""
    mileage_mw: dict[int, float] | None = None
    """Slot -> regulation mileage followed (MW)."""
    rules: JsonObject | None = None
    """The market's rules as ``hub.markets.TradingRules`` fields (default: the active
    connector's, else the defaults)."""


class LineOut(Out, kw_only=True):
    slot: int
    time_slot: str
    product: str | None
    cleared_kwh: float
    clearing_price_yuan_mwh: float
    delivered_kwh: float | None
    deviation_kwh: float | None
    realtime_price_yuan_mwh: float | None
    energy_yuan: Decimal
    deviation_yuan: Decimal
    penalty_yuan: Decimal
    availability_yuan: Decimal
    mileage_yuan: Decimal
    dr_yuan: Decimal
    total_yuan: Decimal
    flags: list[str]


class MemberOut(Out, kw_only=True):
    resource_id: str
    method: str
    amount_yuan: Decimal
    share: float
    weight: float
    committed_kwh: float
    delivered_kwh: float
    penalty_yuan: Decimal
    capacity_kw: float
    availability: float
    missing_lines: int
    standard_error_yuan: float | None
    half_width_yuan: float | None
    explanation: str


class StatementOut(Out, kw_only=True):
    id: str
    vpp_id: str
    market_type: str
    trading_date: dt.date
    revision: int
    complete: bool
    gap_slots: list[int]
    energy_yuan: Decimal
    deviation_yuan: Decimal
    penalty_yuan: Decimal
    availability_yuan: Decimal
    mileage_yuan: Decimal
    dr_yuan: Decimal
    total_yuan: Decimal
    cleared_kwh: float
    delivered_kwh: float
    rounding: str
    settled_at: dt.datetime
    settled_by: str
    lines: list[LineOut] | None = None
    allocations: dict[str, list[MemberOut]] | None = None


class RunOut(Out, kw_only=True):
    changed: bool
    """False: the day was settled before with the same inputs (nothing was written)."""
    records_settled: int
    statement: StatementOut


class StatementPage(Out, kw_only=True):
    items: list[StatementOut]
    total: int
