"""Features of the built-in day-ahead forecasters and their seasonal-naive baseline. Pure.

One feature set serves price, site load and PV output: a 15-minute series, 96 slots a
day, forecast for a whole day ``D`` from what is known at the end of day ``D - 1``
(day-ahead prices of ``D - 1`` cleared on ``D - 2``; load and PV measured until the end
of ``D - 1``). Per slot ``s`` of ``D``: the slot and its time of day, the weekday of ``D``,
the same slot 1, 2 and 7 days before, its mean over the last 7 days, and the mean, max,
min and last value of ``D - 1``.

The **seasonal-naive** baseline is the standard one of electricity price forecasting
(Lago et al. 2021): the same slot a week before for Mondays, Saturdays and Sundays, the
day before otherwise. It reads only ``weekday``, ``lag_1d`` and ``lag_7d`` of the same
features, so it is registered and served with the same ``input_schema``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import numpy as np
import numpy.typing as npt

SLOTS: Final = 96
HISTORY_DAYS: Final = 7
"""Days of history one forecast needs."""
FEATURES: Final = (
    "slot",
    "hour_sin",
    "hour_cos",
    "weekday",
    "lag_1d",
    "lag_2d",
    "lag_7d",
    "mean_7d",
    "prev_mean",
    "prev_max",
    "prev_min",
    "prev_last",
)
_INTEGER: Final = {"slot", "weekday"}
WEEKLY_DAYS: Final = frozenset({0, 5, 6})
"""Weekdays (Monday = 0) the seasonal-naive baseline takes from a week before."""

Array = npt.NDArray[np.float64]


def feature_schema() -> dict[str, Any]:
    """The ``input_schema`` of the built-in forecasters (arrays: one value per slot)."""
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "array",
                "items": {"type": "integer" if name in _INTEGER else "number"},
            }
            for name in FEATURES
        },
        "required": list(FEATURES),
    }


def output_schema(target: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {target: {"type": "array", "items": {"type": "number"}}},
    }


def as_days(values: Array) -> Array:
    """A 15-minute series as a days x 96 matrix (a partial last day is dropped)."""
    series = np.asarray(values, dtype=np.float64).ravel()
    n_days = series.size // SLOTS
    return series[: n_days * SLOTS].reshape(n_days, SLOTS)


def _day_block(days: Array, d: int, weekday: int) -> Array:
    slot = np.arange(SLOTS, dtype=np.float64)
    angle = 2.0 * np.pi * slot / SLOTS
    prev = days[d - 1]
    last7 = days[d - HISTORY_DAYS : d]
    finite = np.isfinite(last7)
    count = finite.sum(axis=0)
    mean_7d = np.where(
        count > 0, np.where(finite, last7, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan
    )
    block = np.empty((SLOTS, len(FEATURES)), dtype=np.float64)
    block[:, 0] = slot
    block[:, 1] = np.sin(angle)
    block[:, 2] = np.cos(angle)
    block[:, 3] = weekday
    block[:, 4] = prev
    block[:, 5] = days[d - 2]
    block[:, 6] = days[d - 7]
    block[:, 7] = mean_7d
    block[:, 8] = np.nanmean(prev) if np.isfinite(prev).any() else np.nan
    block[:, 9] = np.nanmax(prev) if np.isfinite(prev).any() else np.nan
    block[:, 10] = np.nanmin(prev) if np.isfinite(prev).any() else np.nan
    block[:, 11] = prev[-1]
    return block


def dataset(values: Array, start: dt.date) -> tuple[Array, Array, npt.NDArray[np.int64]]:
    """Every slot of every day with a full week of history: features (rows x
    :data:`FEATURES`), target, and the day index of each row (for walk-forward splits).
    Rows whose target is missing (NaN) are dropped."""
    days = as_days(values)
    blocks: list[Array] = []
    targets: list[Array] = []
    index: list[npt.NDArray[np.int64]] = []
    for d in range(HISTORY_DAYS, days.shape[0]):
        weekday = (start + dt.timedelta(days=d)).weekday()
        blocks.append(_day_block(days, d, weekday))
        targets.append(days[d])
        index.append(np.full(SLOTS, d, dtype=np.int64))
    if not blocks:
        raise ValueError(f"needs at least {HISTORY_DAYS + 1} days of data, has {days.shape[0]}")
    x = np.vstack(blocks)
    y = np.concatenate(targets)
    idx = np.concatenate(index)
    keep = np.isfinite(y)
    return x[keep], y[keep], idx[keep]


def day_features(history: Array, target_day: dt.date) -> dict[str, list[float]]:
    """``input_data`` for a forecast of ``target_day`` from the 15-minute ``history`` of
    the days just before it (at least :data:`HISTORY_DAYS` whole days, the last one being
    the day before ``target_day``)."""
    days = as_days(history)
    if days.shape[0] < HISTORY_DAYS:
        raise ValueError(f"needs {HISTORY_DAYS} whole days of history, has {days.shape[0]}")
    padded = np.vstack([days, np.zeros((1, SLOTS))])
    block = _day_block(padded, days.shape[0], target_day.weekday())
    return {
        name: [int(v) if name in _INTEGER else float(v) for v in block[:, i]]
        for i, name in enumerate(FEATURES)
    }


def seasonal_naive(x: Array) -> Array:
    """The baseline's forecast for rows of :data:`FEATURES`."""
    weekday = x[:, FEATURES.index("weekday")].astype(np.int64)
    weekly = np.isin(weekday, list(WEEKLY_DAYS))
    return np.where(weekly, x[:, FEATURES.index("lag_7d")], x[:, FEATURES.index("lag_1d")])


__all__ = [
    "FEATURES",
    "HISTORY_DAYS",
    "SLOTS",
    "WEEKLY_DAYS",
    "as_days",
    "dataset",
    "day_features",
    "feature_schema",
    "output_schema",
    "seasonal_naive",
]
