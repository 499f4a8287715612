"""Report bodies (msgspec; money as decimal strings, energy kWh, emissions kg CO2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub._dto import Out

from ._metrics import RiskMetrics


class CarbonOut(Out, kw_only=True):
    avoided_kg: float
    shifted_kg: float
    curtailed_kg: float
    total_kg: float
    metered_kwh: float
    unmetered_hours: int
    factor_kg_per_kwh: float
    """The annual average factor used (the hourly shape multiplies it)."""
    source: str


class Deviations(Out, kw_only=True):
    total_abs_kwh: float
    max_abs_kwh: float
    beyond_tolerance: int


class Alarms(Out, kw_only=True):
    failed: int
    rejected: int
    clamped: int
    unreported: int
    """Instructions that ended without any execution report."""
    ingest_gaps: int
    reasons: dict[str, int]


class OperationRow(Out, kw_only=True):
    key: str
    """The day (``daily``, ``summary``: the period) or the instruction id (``dispatch``)."""
    dispatch_count: int
    instructions: int
    energy_target_kwh: float
    energy_delivered_kwh: float
    within_tolerance: int
    execution_success_rate: float | None
    availability: float | None


class OperationReport(Out, kw_only=True):
    vpp_id: str
    start_date: dt.date
    end_date: dt.date
    report_type: str
    availability: float | None
    """Share of member instructions the resource took (not rejected, failed or unreported)."""
    energy_delivered_kwh: float
    dispatch_count: int
    execution_success_rate: float | None
    success_target: float
    meets_target: bool | None
    deviations: Deviations
    alarms: Alarms
    revenue_yuan: Decimal
    carbon: CarbonOut
    rows: list[OperationRow]


class StrategyRow(Out, kw_only=True):
    key: str
    revenue_yuan: Decimal
    records: int
    cleared: int
    cleared_kwh: float


class StrategyReport(Out, kw_only=True):
    strategy_id: str
    vpp_id: str
    period: str
    start_date: dt.date
    end_date: dt.date
    revenue_yuan: Decimal
    records: int
    hit_rate: float | None
    """Share of the strategy's bids (records not CANCELLED) that cleared a quantity."""
    capture_ratio: float | None
    """Against perfect foresight (a stored backtest of the strategy), see the reason."""
    capture_ratio_reason: str
    risk: RiskMetrics
    rows: list[StrategyRow]


class RevenueRow(Out, kw_only=True):
    key: str
    label: str
    revenue_yuan: Decimal
    market_type: str | None = None
    energy_yuan: Decimal | None = None
    deviation_yuan: Decimal | None = None
    penalty_yuan: Decimal | None = None
    ancillary_yuan: Decimal | None = None
    dr_yuan: Decimal | None = None
    delivered_kwh: float | None = None
    share: float | None = None
    avoided_kg: float | None = None
    shifted_kg: float | None = None
    curtailed_kg: float | None = None
    total_kg: float | None = None


class RevenueReport(Out, kw_only=True):
    vpp_id: str
    dimension: str
    period: str
    start_date: dt.date
    end_date: dt.date
    total_yuan: Decimal
    method: str | None
    """``dimension=resource``: the allocation method."""
    carbon: CarbonOut | None
    rows: list[RevenueRow]
