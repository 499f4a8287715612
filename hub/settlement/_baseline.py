"""Demand-response baseline (pure): what a site would have consumed without the event.

Method ("N similar days", as Chinese provincial DR programmes and NAESB/PJM's
"high 5 of 10" family use it, without the high-day selection): the baseline of a slot is
the mean of the same slot's metered consumption over the previous :data:`BASELINE_DAYS`
(N = 5) similar days, looking back at most :data:`LOOKBACK_DAYS` (30) days. Similar day:
same kind of day (weekday Mon-Fri vs weekend Sat-Sun); days that were themselves DR event
days are skipped; a day whose slot was not metered is skipped for that slot. A slot with
fewer than :data:`MIN_DAYS` (3) metered similar days has no baseline (None), and its
curtailment is a gap, never a guess. Curtailment = baseline - metered consumption (kWh).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

BASELINE_DAYS = 5
MIN_DAYS = 3
LOOKBACK_DAYS = 30


def similar(a: dt.date, b: dt.date) -> bool:
    """Both weekdays or both weekend days."""
    return (a.weekday() >= 5) == (b.weekday() >= 5)


def baseline(
    day: dt.date,
    history: Mapping[dt.date, Sequence[float | None]],
    *,
    slots: int = 96,
    event_days: Collection[dt.date] = (),
    days: int = BASELINE_DAYS,
    min_days: int = MIN_DAYS,
    lookback: int = LOOKBACK_DAYS,
) -> list[float | None]:
    """Per slot of ``day``: the baseline consumption (kWh) from ``history`` (metered
    consumption per day and slot, None where not metered), or None without enough days."""
    candidates = [
        day - dt.timedelta(days=back)
        for back in range(1, lookback + 1)
        if similar(day, day - dt.timedelta(days=back))
        and (day - dt.timedelta(days=back)) not in event_days
        and (day - dt.timedelta(days=back)) in history
    ]
    out: list[float | None] = []
    for slot in range(slots):
        values: list[float] = []
        for candidate in candidates:
            series = history[candidate]
            value = series[slot] if slot < len(series) else None
            if value is not None:
                values.append(value)
                if len(values) == days:
                    break
        out.append(sum(values) / len(values) if len(values) >= min_days else None)
    return out


def curtailment(
    baseline_kwh: Sequence[float | None], metered_kwh: Sequence[float | None]
) -> list[float | None]:
    """Baseline - metered consumption per slot; None where either is unknown."""
    return [
        None if b is None or m is None else b - m
        for b, m in zip(baseline_kwh, metered_kwh, strict=True)
    ]
