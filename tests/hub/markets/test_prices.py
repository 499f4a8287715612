"""The reference synthetic year, its documented shape, and the CSV history importer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from hub.markets import (
    PRESETS,
    PriceHistoryError,
    PriceSeries,
    parse_price_csv,
    price_csv,
    reference_year,
    slot_start,
    synthetic_prices,
)
from hub.markets._history import load_price_history

SHANDONG = PRESETS["shandong"]


@pytest.fixture(scope="module")
def year() -> PriceSeries:
    return reference_year()


def test_the_reference_year_is_reproducible_by_seed(year: PriceSeries) -> None:
    again = reference_year()
    assert np.array_equal(again.day_ahead_yuan_mwh, year.day_ahead_yuan_mwh)
    assert np.array_equal(again.realtime_yuan_mwh, year.realtime_yuan_mwh)
    other = reference_year(seed=7)
    assert not np.allclose(other.day_ahead_yuan_mwh, year.day_ahead_yuan_mwh)
    assert (year.start, year.days, year.rules) == (dt.date(2026, 1, 1), 365, SHANDONG)
    assert year.day_ahead_yuan_mwh.shape == (365, 96)
    with pytest.raises(ValueError, match="read-only"):
        year.day_ahead_yuan_mwh[0, 0] = 1.0


def test_prices_stay_within_the_clearing_limits(year: PriceSeries) -> None:
    for array in (year.day_ahead_yuan_mwh, year.realtime_yuan_mwh):
        assert array.min() >= SHANDONG.clearing_floor_yuan_mwh
        assert array.max() <= SHANDONG.clearing_cap_yuan_mwh
    shanxi = synthetic_prices(dt.date(2026, 4, 1), 60, seed=1, rules=PRESETS["shanxi"])
    assert shanxi.day_ahead_yuan_mwh.min() >= 0.0


def test_daily_shape_has_two_peaks_and_a_pv_dip(year: PriceSeries) -> None:
    hourly = year.day_ahead_yuan_mwh.mean(axis=0).reshape(24, 4).mean(axis=1)
    evening, morning = hourly[18:21].max(), hourly[7:10].max()
    midday, night = hourly[11:14].min(), hourly[2:5].min()
    assert evening > morning > night
    assert midday < night  # the PV dip is the lowest time of day
    assert int(np.argmax(hourly)) in range(18, 21)


def test_negative_prices_come_at_midday_and_mostly_in_spring(year: PriceSeries) -> None:
    da = year.day_ahead_yuan_mwh
    negative = da < 0
    assert negative.any()
    hours = np.nonzero(negative)[1] // 4
    assert ((hours >= 9) & (hours <= 16)).mean() > 0.95
    days = np.unique(np.nonzero(negative)[0])
    months = np.array([(year.start + dt.timedelta(days=int(d))).month for d in days])
    assert np.isin(months, [3, 4, 5, 6]).sum() > np.isin(months, [11, 12, 1]).sum()


def test_seasonal_and_weekly_shape(year: PriceSeries) -> None:
    da = year.day_ahead_yuan_mwh
    by_month = [
        da[[i for i, d in enumerate(year.dates()) if d.month == m]].mean() for m in range(1, 13)
    ]
    assert by_month[6] > by_month[3]  # July above April
    assert by_month[0] > by_month[9]  # January above October
    weekend = np.array([d.weekday() >= 5 for d in year.dates()])
    assert da[weekend].mean() < da[~weekend].mean()
    assert year.load_mw[weekend].mean() < year.load_mw[~weekend].mean()


def test_realtime_deviates_from_day_ahead(year: PriceSeries) -> None:
    deviation = year.realtime_yuan_mwh - year.day_ahead_yuan_mwh
    assert 20 < deviation.std() < 150
    assert abs(deviation.mean()) < 20


def test_market_data_points_of_a_window(year: PriceSeries) -> None:
    day = dt.date(2026, 3, 2)
    start = slot_start(SHANDONG, day, 10) - dt.timedelta(minutes=5)
    points = year.points(start, slot_start(SHANDONG, day, 14))
    assert [p.timestamp for p in points] == [slot_start(SHANDONG, day, s) for s in range(10, 14)]
    i = year.index(day)
    assert points[0].price_yuan_mwh == year.day_ahead_yuan_mwh[i, 10]
    assert points[0].realtime_price_yuan_mwh == year.realtime_yuan_mwh[i, 10]
    assert points[0].volume_mwh == pytest.approx(year.load_mw[i, 10] / 4)
    before = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert year.points(before, before + dt.timedelta(days=1)) == []
    end = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert len(year.points(slot_start(SHANDONG, dt.date(2026, 12, 31), 90), end)) == 6


def test_csv_round_trip_keeps_every_value() -> None:
    series = synthetic_prices(dt.date(2026, 5, 1), 3, seed=3)
    back = parse_price_csv(price_csv(series).splitlines())
    assert back.start == series.start
    assert np.array_equal(back.day_ahead_yuan_mwh, series.day_ahead_yuan_mwh)
    assert np.array_equal(back.realtime_yuan_mwh, series.realtime_yuan_mwh)
    assert np.allclose(back.load_mw, series.load_mw)


def day_rows(day: str, price: str = "0.35") -> list[str]:
    return [f"{day}T{s // 4:02d}:{s % 4 * 15:02d}:00+08:00,{price}" for s in range(96)]


def test_csv_with_timestamps_in_yuan_per_kwh() -> None:
    lines = ["timestamp,price", *day_rows("2026-05-01"), *day_rows("2026-05-02", "-0.05")]
    series = parse_price_csv(lines, price_unit="yuan/kWh")
    assert series.start == dt.date(2026, 5, 1)
    assert series.days == 2
    assert series.day_ahead_yuan_mwh[0, 0] == pytest.approx(350.0)
    assert series.day_ahead_yuan_mwh[1, 95] == pytest.approx(-50.0)
    assert np.array_equal(series.realtime_yuan_mwh, series.day_ahead_yuan_mwh)


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([], "empty"),
        (["timestamp,volume"], "no price column"),
        (["price"], "timestamp column or date and slot"),
        (["timestamp,price", *day_rows("2026-05-01")[:-1]], "1 slots missing"),
        (
            ["timestamp,price", *day_rows("2026-05-01"), day_rows("2026-05-01")[3]],
            "line 98: 2026-05-01 slot 3 again \\(first on line 5",
        ),
        (["timestamp,price", "2026-05-01T00:05:00+08:00,1"], "not the start of a slot"),
        (["timestamp,price", "2026-05-01T00:00:00+08:00,abc"], "line 2: price 'abc'"),
        (["date,slot,price", "2026-05-01,96,1"], "slot 96 outside"),
        (["date,slot,price", "2026-05-01,1"], "line 2: 2 fields"),
        (["timestamp,price", "yesterday,1"], "not ISO 8601"),
    ],
)
def test_csv_errors_name_the_line(lines: list[str], match: str) -> None:
    with pytest.raises(PriceHistoryError, match=match):
        parse_price_csv(lines)


def test_unknown_price_unit_is_refused() -> None:
    with pytest.raises(PriceHistoryError, match="price_unit"):
        parse_price_csv(["date,slot,price"], price_unit="fen/kWh")


def test_history_files_load_from_disk(tmp_path: Path) -> None:
    series = synthetic_prices(dt.date(2026, 7, 1), 2, seed=9)
    path = tmp_path / "history.csv"
    path.write_text(price_csv(series), encoding="utf-8")
    back = load_price_history(path)
    assert np.array_equal(back.day_ahead_yuan_mwh, series.day_ahead_yuan_mwh)
    with pytest.raises(PriceHistoryError, match="cannot read"):
        load_price_history(tmp_path / "missing.csv")


def test_parquet_needs_pyarrow_or_reads_it(tmp_path: Path) -> None:
    series = synthetic_prices(dt.date(2026, 7, 1), 1, seed=9)
    path = tmp_path / "history.parquet"
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        path.write_bytes(b"PAR1")
        with pytest.raises(PriceHistoryError, match="needs pyarrow"):
            load_price_history(path)
        return
    pq.write_table(  # pragma: no cover - only where pyarrow is installed
        pa.table(
            {
                "date": [series.start.isoformat()] * 96,
                "slot": list(range(96)),
                "price": series.day_ahead_yuan_mwh[0].tolist(),
            }
        ),
        path,
    )
    back = load_price_history(path)  # pragma: no cover
    assert np.array_equal(back.day_ahead_yuan_mwh, series.day_ahead_yuan_mwh)  # pragma: no cover
