"""The built-in day-ahead price forecaster against its seasonal-naive baseline, on the
reference synthetic year of ``hub.markets`` (15-minute day-ahead prices, Shandong rules),
judged on its last 8 weeks: days it was neither fitted nor calibrated on."""

from __future__ import annotations

import datetime as dt

import lightgbm
import numpy as np

from hub.markets import reference_year
from hub.models import (
    FEATURES,
    HISTORY_DAYS,
    SLOTS,
    dataset,
    day_features,
    forecast_metrics,
    seasonal_naive,
    train,
)

from .makers import synthetic_prices

START = dt.date(2026, 1, 1)
TEST_DAYS = 56


def test_the_price_forecaster_beats_seasonal_naive_with_intervals_that_cover() -> None:
    year = reference_year()
    prices = year.day_ahead_yuan_mwh.ravel()
    cut = (year.days - TEST_DAYS) * SLOTS
    trained = train(prices[:cut], year.start, "price", folds=3, rounds=60)
    assert trained.metrics["mae"] < trained.metrics["baseline"]["mae"]  # walk-forward

    # The held-out block: features of each test day come from the days before it.
    x, y, day = dataset(prices, year.start)
    test = day >= year.days - TEST_DAYS
    booster = lightgbm.Booster(model_str=trained.model_text)
    forecast = np.asarray(booster.predict(x[test], num_threads=1))
    baseline = seasonal_naive(x[test])
    level = trained.calibration["level"]
    q = trained.calibration["half_width"]["price"]
    q_base = trained.baseline_calibration["half_width"]["price"]
    model = forecast_metrics(y[test], forecast, q, level)
    naive = forecast_metrics(y[test], baseline, q_base, level)
    print(
        f"\nreference year, held-out last {TEST_DAYS} days: LightGBM MAE {model.mae:.2f} "
        f"RMSE {model.rmse:.2f} pinball {model.pinball:.2f} coverage {model.coverage:.3f}; "
        "seasonal naive MAE "
        f"{naive.mae:.2f} RMSE {naive.rmse:.2f} pinball {naive.pinball:.2f} coverage "
        f"{naive.coverage:.3f} (nominal {level})"
    )
    assert model.mae < naive.mae
    assert model.rmse < naive.rmse
    assert abs(model.coverage - level) <= 0.05
    assert abs(trained.metrics["coverage"] - level) <= 0.05


def test_one_days_features_are_the_rows_the_training_set_has_for_that_day() -> None:
    prices = synthetic_prices(30, seed=3, start=START)
    x, _, day = dataset(prices, START)
    target = 20
    history = prices[(target - HISTORY_DAYS) * SLOTS : target * SLOTS]
    features = day_features(history, START + dt.timedelta(days=target))
    rows = np.column_stack([features[name] for name in FEATURES])
    np.testing.assert_allclose(rows, x[day == target])
