"""Report arithmetic (pure): periods, execution success, risk metrics.

Periods (``period`` parameter): ``day``, ``week``, ``month``, ``quarter``, ``year``: the
trailing 1, 7, 30, 90 or 365 days ending ``today`` (the hub clock's date in the market's
time zone), inclusive; ``YYYY-MM``: that calendar month; ``YYYY-MM-DD/YYYY-MM-DD``: those
days, inclusive. Anything else is refused naming ``period``.

Execution success: an instruction is delivered within tolerance when its metered energy
is within ``tolerance`` (5 %, the markets' default deviation band) of its target energy
(target kW x duration); the success rate is the share of finished instructions that were
(seed 7.2: >= 95 %). An instruction nobody reported on counts as not delivered.

Risk metrics over daily revenue: mean, standard deviation (sample), worst day, 95 %
historical value at risk (the 5th percentile of daily revenue, nearest-rank, as a loss),
maximum drawdown of the cumulative revenue, share of losing days.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

import msgspec

TRAILING = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
PERIODS = (*TRAILING, "YYYY-MM", "YYYY-MM-DD/YYYY-MM-DD")
SUCCESS_TARGET = 0.95
TOLERANCE = 0.05
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """The period names no span of days."""


def period_days(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of ``period``."""
    text = period.strip()
    if text in TRAILING:
        return today - dt.timedelta(days=TRAILING[text] - 1), today
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {period!r}: no month {month}")
        first = dt.date(year, month, 1)
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    if "/" in text:
        a, _, b = text.partition("/")
        try:
            start, end = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
        except ValueError as exc:
            raise PeriodError(f"period {period!r}: {exc}") from exc
        if end < start:
            raise PeriodError(f"period {period!r} ends before it starts")
        return start, end
    raise PeriodError(f"period {period!r} is not one of {', '.join(PERIODS)}")


def within_tolerance(
    target_kwh: float, delivered_kwh: float | None, tolerance: float = TOLERANCE
) -> bool:
    if delivered_kwh is None:
        return False
    return abs(delivered_kwh - target_kwh) <= tolerance * abs(target_kwh) + 1e-9


class RiskMetrics(msgspec.Struct, frozen=True, kw_only=True):
    days: int
    mean_daily_yuan: float | None
    std_daily_yuan: float | None
    worst_day_yuan: float | None
    var95_yuan: float | None
    """Loss not exceeded on 95 % of days (positive = a loss), historical, nearest rank."""
    max_drawdown_yuan: float | None
    losing_day_share: float | None


def risk_metrics(daily: Sequence[float]) -> RiskMetrics:
    n = len(daily)
    if n == 0:
        return RiskMetrics(
            days=0, mean_daily_yuan=None, std_daily_yuan=None, worst_day_yuan=None,
            var95_yuan=None, max_drawdown_yuan=None, losing_day_share=None,
        )  # fmt: skip
    mean = sum(daily) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in daily) / (n - 1)) if n > 1 else 0.0
    ordered = sorted(daily)
    p5 = ordered[max(math.ceil(0.05 * n) - 1, 0)]
    peak = cumulative = 0.0
    drawdown = 0.0
    for x in daily:
        cumulative += x
        peak = max(peak, cumulative)
        drawdown = max(drawdown, peak - cumulative)
    return RiskMetrics(
        days=n,
        mean_daily_yuan=round(mean, 2),
        std_daily_yuan=round(std, 2),
        worst_day_yuan=round(ordered[0], 2),
        var95_yuan=round(max(-p5, 0.0), 2),
        max_drawdown_yuan=round(drawdown, 2),
        losing_day_share=sum(1 for x in daily if x < 0) / n,
    )
