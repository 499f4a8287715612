"""Training of the built-in day-ahead forecasters (LightGBM) with walk-forward validation.

Walk-forward, expanding window: the last ``holdout`` share of the days is cut into
``folds`` consecutive blocks; for each block a model is fitted on every day before it and
forecasts the block (as it would have, day-ahead). The seasonal-naive baseline forecasts
the same blocks. Metrics are over the blocks' forecasts: MAE and RMSE over all of them;
interval coverage and pinball loss over blocks 2..K, each with the split-conformal
half-width calibrated on the residuals of the blocks before it (so the interval is always
judged on data it was not calibrated on). The model kept is fitted on all days, with the
half-width from all blocks' residuals.

Blocking: call it from a thread (the training task does, fold by fold).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from ._features import FEATURES, dataset, seasonal_naive
from ._formats import require
from ._metrics import DEFAULT_LEVEL, ForecastMetrics, conformal_quantile, forecast_metrics

Array = npt.NDArray[np.float64]
HOLDOUT: Final = 0.3
PARAMS: Final[dict[str, Any]] = {
    "objective": "regression",
    "learning_rate": 0.1,
    "num_leaves": 15,
    "max_bin": 63,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 0,
    "verbose": -1,
}


class FoldResult(msgspec.Struct, kw_only=True):
    actual: Array
    model: Array
    baseline: Array


class Trained(msgspec.Struct, kw_only=True):
    model_text: str
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    calibration: dict[str, Any]
    baseline_calibration: dict[str, Any]


def fit(x: Array, y: Array, rounds: int) -> Any:
    lightgbm = require("lightgbm")
    data = lightgbm.Dataset(x, y, feature_name=list(FEATURES), free_raw_data=True)
    return lightgbm.train(PARAMS, data, num_boost_round=rounds)


class WalkForward:
    """One training run, step by step (so the caller can report progress between steps)."""

    def __init__(
        self,
        values: Array,
        start: dt.date,
        *,
        folds: int = 4,
        rounds: int = 150,
        level: float = DEFAULT_LEVEL,
        holdout: float = HOLDOUT,
    ) -> None:
        self.x, self.y, self.day = dataset(values, start)
        days = np.unique(self.day)
        if days.size < folds + 7:
            raise ValueError(f"{days.size} days with a week of history: too few for {folds} folds")
        n_val = max(folds, round(days.size * holdout))
        size = n_val // folds
        first = days.size - size * folds
        self.blocks = [
            (int(days[first + k * size]), int(days[first + (k + 1) * size - 1]))
            for k in range(folds)
        ]
        self.folds = folds
        self.rounds = rounds
        self.level = level
        self.results: list[FoldResult] = []
        self.started = time.perf_counter()

    @property
    def steps(self) -> int:
        return self.folds + 1

    def fit_fold(self, k: int) -> FoldResult:
        lo, hi = self.blocks[k]
        train = self.day < lo
        test = (self.day >= lo) & (self.day <= hi)
        booster = fit(self.x[train], self.y[train], self.rounds)
        result = FoldResult(
            actual=self.y[test],
            model=np.asarray(booster.predict(self.x[test], num_threads=1), dtype=np.float64),
            baseline=seasonal_naive(self.x[test]),
        )
        self.results.append(result)
        return result

    def _metrics(self, which: str) -> tuple[dict[str, Any], dict[str, Any]]:
        residuals = [r.actual - getattr(r, which) for r in self.results]
        judged: list[ForecastMetrics] = []
        for k in range(1, len(self.results)):
            q = conformal_quantile(np.concatenate(residuals[:k]), self.level)
            r = self.results[k]
            judged.append(forecast_metrics(r.actual, getattr(r, which), q, self.level))
        actual = np.concatenate([r.actual for r in self.results])
        forecast = np.concatenate([getattr(r, which) for r in self.results])
        q_all = conformal_quantile(np.concatenate(residuals), self.level)
        overall = forecast_metrics(actual, forecast, q_all, self.level)
        n_judged = sum(m.n for m in judged)
        metrics = {
            "validation": (
                f"walk-forward, expanding window, {self.folds} folds of "
                f"{self.blocks[0][1] - self.blocks[0][0] + 1} days"
            ),
            "n": overall.n,
            "mae": overall.mae,
            "rmse": overall.rmse,
            "pinball": sum(m.pinball * m.n for m in judged) / n_judged,
            "coverage": sum(m.coverage * m.n for m in judged) / n_judged,
            "level": self.level,
        }
        calibration = {
            "method": "split_conformal",
            "level": self.level,
            "half_width": {},
            "n": int(actual.size),
            "source": "walk-forward validation residuals",
        }
        return metrics, {**calibration, "half_width": q_all}

    def finish(self, target: str) -> Trained:
        """Fit on every day; metrics and calibration from the folds."""
        booster = fit(self.x, self.y, self.rounds)
        metrics, cal = self._metrics("model")
        base_metrics, base_cal = self._metrics("baseline")
        metrics["train_days"] = int(np.unique(self.day).size)
        metrics["train_seconds"] = time.perf_counter() - self.started
        metrics["baseline"] = {
            k: base_metrics[k] for k in ("mae", "rmse", "pinball", "coverage", "n")
        }
        base_metrics["method"] = (
            "seasonal naive (Lago et al.): a week before on Mon/Sat/Sun, else the day before"
        )
        return Trained(
            model_text=booster.model_to_string(),
            metrics=metrics,
            baseline_metrics=base_metrics,
            calibration={**cal, "half_width": {target: cal["half_width"]}},
            baseline_calibration={**base_cal, "half_width": {target: base_cal["half_width"]}},
        )


def train(values: Array, start: dt.date, target: str, **options: Any) -> Trained:
    """Every step at once (tests and the benchmark)."""
    run = WalkForward(values, start, **options)
    for k in range(run.folds):
        run.fit_fold(k)
    return run.finish(target)


__all__ = ["PARAMS", "Trained", "WalkForward", "fit", "train"]
