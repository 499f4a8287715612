"""Forecast metrics, split-conformal intervals and the Diebold-Mariano test. Pure (numpy).

Intervals (the ``confidence`` of a prediction) are **split conformal**: on residuals of
data the model was not fitted on (walk-forward folds, or calibration rows given at
registration), ``q`` is the ``ceil((n + 1) * level) / n`` empirical quantile of the
absolute residuals, and the interval of a prediction ``y`` is ``[y - q, y + q]``. Under
exchangeability it covers the truth with probability at least ``level`` (marginally).

The champion/challenger test is **Diebold-Mariano** on paired losses (the two arms'
forecasts of the same targets, one per decision) with the Harvey-Leybourne-Newbold
small-sample correction, one-sided (challenger better), against the normal distribution.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
DEFAULT_LEVEL: Final = 0.9


class ForecastMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """Errors of point forecasts and their intervals on held-out data."""

    n: int
    mae: float
    rmse: float
    pinball: float
    """Mean pinball loss of the interval's bounds at quantiles ``(1 - level) / 2`` and
    ``(1 + level) / 2`` (a proper score of the interval as two quantile forecasts)."""
    coverage: float
    """Share of actual values inside their interval."""
    level: float


def mae(actual: Array, forecast: Array) -> float:
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: Array, forecast: Array) -> float:
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def pinball(actual: Array, quantile_forecast: Array, tau: float) -> float:
    """Mean pinball (quantile) loss of a forecast of the ``tau`` quantile.

    >>> pinball(np.array([1.0]), np.array([0.0]), 0.9)
    0.9
    """
    diff = actual - quantile_forecast
    return float(np.mean(np.maximum(tau * diff, (tau - 1.0) * diff)))


def conformal_quantile(residuals: Array, level: float = DEFAULT_LEVEL) -> float:
    """The split-conformal half-width from held-out residuals (actual - forecast).

    >>> conformal_quantile(np.arange(1.0, 11.0), 0.8)
    9.0
    """
    scores = np.sort(np.abs(np.asarray(residuals, dtype=np.float64).ravel()))
    n = scores.size
    if n == 0:
        raise ValueError("no residuals to calibrate on")
    rank = math.ceil((n + 1) * level)
    return float(scores[min(rank, n) - 1])


def forecast_metrics(
    actual: Array, forecast: Array, half_width: float | Array, level: float = DEFAULT_LEVEL
) -> ForecastMetrics:
    lower = forecast - half_width
    upper = forecast + half_width
    lo_tau, hi_tau = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    inside = (actual >= lower) & (actual <= upper)
    return ForecastMetrics(
        n=int(actual.size),
        mae=mae(actual, forecast),
        rmse=rmse(actual, forecast),
        pinball=(pinball(actual, lower, lo_tau) + pinball(actual, upper, hi_tau)) / 2.0,
        coverage=float(np.mean(inside)),
        level=level,
    )


class DmResult(msgspec.Struct, frozen=True, kw_only=True):
    n: int
    mean_diff: float
    """Mean of champion loss minus challenger loss (positive: the challenger is better)."""
    statistic: float
    p_value: float
    """One-sided: the probability of a statistic this large if both forecast equally well."""


def _normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def diebold_mariano(champion_loss: Array, challenger_loss: Array, horizon: int = 1) -> DmResult:
    """Diebold-Mariano test that the challenger's expected loss is lower (one-sided), with
    the HLN correction; ``horizon`` > 1 adds autocovariances up to lag ``horizon - 1``.

    >>> r = diebold_mariano(np.array([2.0, 3, 2, 3, 2, 3]), np.array([1.0, 1, 1, 1, 1, 1.2]))
    >>> r.p_value < 0.05
    True
    """
    d = np.asarray(champion_loss, dtype=np.float64) - np.asarray(challenger_loss, dtype=np.float64)
    n = d.size
    if n < 2:
        return DmResult(n=n, mean_diff=float(d.mean()) if n else 0.0, statistic=0.0, p_value=1.0)
    mean = float(d.mean())
    centred = d - mean
    var = float(np.dot(centred, centred) / n)
    for lag in range(1, min(horizon, n)):
        var += 2.0 * float(np.dot(centred[lag:], centred[:-lag]) / n)
    if var <= 0.0:
        stat = math.inf if mean > 0 else (-math.inf if mean < 0 else 0.0)
    else:
        stat = mean / math.sqrt(var / n)
        h = horizon
        stat *= math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return DmResult(n=n, mean_diff=mean, statistic=stat, p_value=_normal_sf(stat))


__all__ = [
    "DEFAULT_LEVEL",
    "DmResult",
    "ForecastMetrics",
    "conformal_quantile",
    "diebold_mariano",
    "forecast_metrics",
    "mae",
    "pinball",
    "rmse",
]
