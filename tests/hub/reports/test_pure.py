"""Pure report arithmetic: carbon factors, CSV, periods, risk metrics."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import Settings
from hub.reports import (
    BOM,
    DEFAULT_SHAPE,
    NATIONAL_KG_PER_KWH,
    EmissionFactors,
    PeriodError,
    carbon,
    curtailed,
    period_days,
    risk_metrics,
    to_csv,
    within_tolerance,
)
from hub.reports._service import _hourly_kwh, _hours
from hub.settlement import integrate_kwh


def test_the_hourly_shape_keeps_the_published_daily_average() -> None:
    assert len(DEFAULT_SHAPE) == 24
    assert abs(sum(DEFAULT_SHAPE) / 24 - 1) < 1e-12
    assert min(DEFAULT_SHAPE) == DEFAULT_SHAPE[12] and max(DEFAULT_SHAPE) == DEFAULT_SHAPE[19]


def test_province_factors_are_configured_in_the_settings() -> None:
    settings = msgspec.toml.decode(
        b'carbon_province = "Shandong"\n[emission_factors]\nby_province = {Shandong = 0.7}\n',
        type=Settings,
    )
    f = settings.emission_factors
    assert f.annual(settings.carbon_province) == 0.7
    assert f.annual("Tibet") == f.annual(None) == NATIONAL_KG_PER_KWH
    with pytest.raises(msgspec.ValidationError, match="hourly_shape"):
        msgspec.convert({"hourly_shape": [1.0] * 23}, EmissionFactors)


def test_generation_avoids_storage_shifts_and_curtailment_counts() -> None:
    f = EmissionFactors()
    pv = carbon([(12, 100.0), (13, None)], "GENERATION", f)
    assert pv.avoided_kg == pytest.approx(100 * f.at(12)) and pv.unmetered_hours == 1
    # a battery charging 50 kWh at noon, discharging 45 at 19:00
    bess = carbon([(12, -50.0), (19, 45.0)], "STORAGE", f)
    mean = f.annual(None)
    assert bess.shifted_kg == pytest.approx(-50 * (f.at(12) - mean) + 45 * (f.at(19) - mean))
    assert bess.shifted_kg > 0 and bess.avoided_kg == 0
    assert curtailed([(19, 10.0)], f).curtailed_kg == pytest.approx(10 * f.at(19))


def test_csv_quotes_and_starts_with_a_bom() -> None:
    data = to_csv([{"key": "s1", "label": "套利, 峰谷", "note": 'say "hi"', "n": None}])
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    assert text[1:] == 'key,label,note,n\r\ns1,"套利, 峰谷","say ""hi""",\r\n'


def test_periods() -> None:
    today = dt.date(2026, 12, 2)
    assert period_days("week", today) == (dt.date(2026, 11, 26), today)
    assert period_days("2026-02", today) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period_days("2026-12", today) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert period_days("2026-11-01/2026-11-03", today)[1] == dt.date(2026, 11, 3)
    for bad in ("fortnight", "2026-13", "2026-11-03/2026-11-01", "x/y"):
        with pytest.raises(PeriodError):
            period_days(bad, today)


def test_risk_metrics_and_tolerance() -> None:
    r = risk_metrics([100.0, -50.0, 30.0, -80.0, 200.0])
    assert r.worst_day_yuan == -80.0 and r.var95_yuan == 80.0
    assert r.max_drawdown_yuan == 100.0  # cumulative 100, 50, 80, 0, 200: peak 100, trough 0
    assert r.losing_day_share == 0.4
    assert risk_metrics([]).days == 0
    assert within_tolerance(100.0, 95.0) and not within_tolerance(100.0, 94.9)
    assert not within_tolerance(100.0, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30 * 3_600_000), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_the_hours_of_a_member_integrate_as_over_all_its_points(
    raw: list[tuple[int, float]],
) -> None:
    """The report integrates each hour over the points that bear on it (found by bisection)
    and only the hours the points reach: the same kWh as every point every hour."""
    points = sorted(raw, key=lambda p: p[0])
    a = dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)  # local midnight, Asia/Shanghai
    b = a + dt.timedelta(days=1)
    base = int(a.timestamp() * 1000) - 3 * 3_600_000
    points = [(base + t, w) for t, w in points]
    hours = _hours(a, b)
    expected: dict[dt.date, list[tuple[int, float | None]]] = {}
    for h_ms, day, hour in hours:
        if points[0][0] <= h_ms + 3_600_000 and points[-1][0] >= h_ms - 120_000:
            kwh = integrate_kwh(points, h_ms, h_ms + 3_600_000)
            expected.setdefault(day, []).append((hour, kwh))
    got = _hourly_kwh(points, hours, [h for h, _, _ in hours])
    assert dict(got) == expected
