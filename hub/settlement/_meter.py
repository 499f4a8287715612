"""Metered energy from power samples (pure).

A slot's energy is the step-hold integral of the samples (each value holds until the next
sample) over ``[start, end)``. A slot counts as metered only when the samples leave no hole
longer than ``max_gap_ms`` (default 120 s: a few missed 1-10 s polls are fine, a link
outage is not) from its start to its end; otherwise it is None (a gap), never a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

MAX_GAP_MS = 120_000


def integrate_kwh(
    points: Sequence[tuple[int, float]], start_ms: int, end_ms: int, *, max_gap_ms: int = MAX_GAP_MS
) -> float | None:
    """Energy (kWh, sign of the samples: W generator convention) over ``[start, end)``
    from ``(ts_ms, W)`` samples sorted by time; None when the samples have a hole."""
    before = [p for p in points if p[0] <= start_ms]
    inside = [p for p in points if start_ms < p[0] < end_ms]
    series = ([(start_ms, before[-1][1])] if before else []) + inside
    if not series or series[0][0] - start_ms > max_gap_ms:
        return None
    if before and start_ms - before[-1][0] > max_gap_ms:
        return None
    wh = 0.0
    for (t0, w), (t1, _) in zip(series, [*series[1:], (end_ms, 0.0)], strict=True):
        if t1 - t0 > max_gap_ms:
            return None
        wh += w * (t1 - t0) / 3_600_000
    return wh / 1000


def day_start(day: dt.date, timezone: str) -> dt.datetime:
    """Local midnight of ``day`` in ``timezone`` as an aware UTC datetime (slot 0's start)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)
