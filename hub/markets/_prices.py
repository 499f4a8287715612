"""Price series: a seeded synthetic generator and a CSV parser for real history (pure).

A :class:`PriceSeries` holds, for ``days`` consecutive trading days from ``start``, the
day-ahead and real-time prices (yuan/MWh) and the system load (MW) of every slot, as
``(days, slots_per_day)`` numpy arrays (read-only).

The synthetic shape (:class:`PriceShape`; docs/markets.md draws it), per day ``d`` of
the year and hour ``h`` of the slot's middle:

* level: ``base * (1 + summer * cos(2pi(d-196)/365) + twin * cos(4pi(d-10)/365))``: high
  in July (cooling) and January (heating), low in April and October;
* daily shape on top of the level: a night trough (03:30), a morning peak (08:30), an
  evening peak (19:00, the highest), and a midday PV dip (12:30) whose depth follows the
  sun (deepest in June) and is deeper at weekends;
* weekend: level and peaks lower (industry off), PV dip deeper;
* negative-price episodes: on some days (more likely in spring, when PV is strong and
  load low, and at weekends) the PV dip deepens by a random 200..450 yuan/MWh, which
  takes midday below zero where the market's clearing floor allows it;
* noise: an AR(1) day-level factor (persistent weather) and AR(1) noise across slots;
* real time: day-ahead plus AR(1) deviations and rare spikes up or down;
* everything clipped to the clearing floor and cap of the market's rules.

:func:`reference_year` is the one synthetic year the strategy, model and settlement work
shares (Shandong rules, 2026, seed 2026): the same seed gives the same arrays.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
import numpy as np
import numpy.typing as npt

from ._connector import MarketStatus, PricePoint
from ._presets import SHANDONG
from ._rules import TradingRules
from ._validation import day_start, slot_at, zone

FloatArray = npt.NDArray[np.float64]

REFERENCE_START = dt.date(2026, 1, 1)
REFERENCE_SEED = 2026


class PriceShape(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters of the synthetic price and load shape (yuan/MWh, MW, hours)."""

    base_yuan_mwh: float = 380.0
    summer_amplitude: float = 0.06
    twin_peak_amplitude: float = 0.10
    night_trough_yuan_mwh: float = 90.0
    morning_peak_yuan_mwh: float = 130.0
    evening_peak_yuan_mwh: float = 270.0
    pv_dip_yuan_mwh: float = 240.0
    weekend_level: float = 0.92
    weekend_peaks: float = 0.85
    weekend_pv: float = 1.25
    negative_episode_base: float = 0.03
    negative_episode_spring: float = 0.22
    negative_episode_weekend: float = 0.08
    negative_episode_depth_yuan_mwh: tuple[float, float] = (200.0, 450.0)
    day_noise: float = 0.06
    day_noise_rho: float = 0.7
    slot_noise_yuan_mwh: float = 22.0
    slot_noise_rho: float = 0.8
    realtime_noise_yuan_mwh: float = 45.0
    realtime_noise_rho: float = 0.6
    realtime_spike_probability: float = 0.01
    load_base_mw: float = 60_000.0


@dataclass(frozen=True)
class PriceSeries:
    """Day-ahead and real-time prices and load of consecutive trading days."""

    start: dt.date
    day_ahead_yuan_mwh: FloatArray
    """``(days, slots)``: day-ahead clearing price of each slot."""
    realtime_yuan_mwh: FloatArray
    """``(days, slots)``: real-time/balancing price of each slot."""
    load_mw: FloatArray
    """``(days, slots)``: system load, the background demand of the clearing stack."""
    rules: TradingRules = field(default=SHANDONG)

    def __post_init__(self) -> None:
        shapes = {a.shape for a in (self.day_ahead_yuan_mwh, self.realtime_yuan_mwh, self.load_mw)}
        if len(shapes) != 1 or self.day_ahead_yuan_mwh.ndim != 2:
            raise ValueError(f"price arrays must share one (days, slots) shape, got {shapes}")
        if self.day_ahead_yuan_mwh.shape[1] != self.rules.slots_per_day:
            raise ValueError("one column per slot of the rules' day")
        for array in (self.day_ahead_yuan_mwh, self.realtime_yuan_mwh, self.load_mw):
            array.setflags(write=False)

    @property
    def days(self) -> int:
        return int(self.day_ahead_yuan_mwh.shape[0])

    @property
    def end(self) -> dt.date:
        """The day after the last one."""
        return self.start + dt.timedelta(days=self.days)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def index(self, trading_date: dt.date) -> int:
        """Row of ``trading_date`` (:class:`KeyError` outside the series)."""
        i = (trading_date - self.start).days
        if not 0 <= i < self.days:
            raise KeyError(f"{trading_date} is outside {self.start}..{self.end}")
        return i

    def __contains__(self, trading_date: object) -> bool:
        return (
            isinstance(trading_date, dt.date) and 0 <= (trading_date - self.start).days < self.days
        )

    def flat_day_ahead(self) -> FloatArray:
        """All day-ahead prices in time order (``days * slots``)."""
        return self.day_ahead_yuan_mwh.reshape(-1)

    def points(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        status: MarketStatus = "CLEARED",
        volume_mwh: FloatArray | None = None,
    ) -> list[PricePoint]:
        """Market data of the slots starting in ``[start, end)`` that the series holds:
        price, volume (the load's energy in the slot unless ``volume_mwh`` of shape
        ``(days, slots)`` is given), real-time price."""
        rules = self.rules
        slots = rules.slots_per_day
        volumes = self.load_mw * (rules.slot_minutes / 60) if volume_mwh is None else volume_mwh
        step = dt.timedelta(minutes=rules.slot_minutes)
        first = day_start(rules, self.start)
        lo = max(0, -((first - start) // step))  # first slot starting at or after start
        hi = min(self.days * slots, -((first - end) // step))
        out: list[PricePoint] = []
        for k in range(lo, hi):
            i, slot = divmod(k, slots)
            out.append(
                PricePoint(
                    timestamp=first + k * step,
                    price_yuan_mwh=float(self.day_ahead_yuan_mwh[i, slot]),
                    volume_mwh=float(volumes[i, slot]),
                    market_status=status,
                    realtime_price_yuan_mwh=float(self.realtime_yuan_mwh[i, slot]),
                )
            )
        return out


def _ar1(rng: np.random.Generator, n: int, sigma: float, rho: float) -> FloatArray:
    """Stationary AR(1) noise of standard deviation ``sigma`` (``x[t] = rho x[t-1] + e[t]``,
    summed by doubling: log2(n) vector steps instead of n scalar ones)."""
    x = rng.standard_normal(n) * sigma
    x[1:] *= math.sqrt(1 - rho * rho)
    shift, weight = 1, rho
    while shift < n and weight > 1e-17:
        x[shift:] += weight * x[:-shift].copy()
        shift, weight = shift * 2, weight * weight
    return x


def _gauss(hours: FloatArray, centre: float, width: float | FloatArray) -> FloatArray:
    return np.exp(-0.5 * ((hours - centre) / width) ** 2)


def synthetic_prices(
    start: dt.date,
    days: int,
    *,
    seed: int,
    rules: TradingRules = SHANDONG,
    shape: PriceShape | None = None,
) -> PriceSeries:
    """``days`` days of synthetic prices and load from ``start``, reproducible by ``seed``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    p = shape or PriceShape()
    rng = np.random.default_rng(seed)
    slots = rules.slots_per_day
    hours = (np.arange(slots) + 0.5) * rules.slot_minutes / 60
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    weekend = np.array([d.weekday() >= 5 for d in dates])

    level = p.base_yuan_mwh * (
        1
        + p.summer_amplitude * np.cos(2 * np.pi * (doy - 196) / 365.25)
        + p.twin_peak_amplitude * np.cos(4 * np.pi * (doy - 10) / 365.25)
    )
    level *= 1 + _ar1(rng, days, p.day_noise, p.day_noise_rho)
    level = np.where(weekend, level * p.weekend_level, level)
    sun = 0.65 + 0.35 * np.cos(2 * np.pi * (doy - 172) / 365.25)  # 0.3 (Dec) .. 1 (Jun)
    pv_width = 1.4 + 0.5 * sun  # longer days, wider dip
    peaks = np.where(weekend, p.weekend_peaks, 1.0)
    pv = p.pv_dip_yuan_mwh * sun * np.where(weekend, p.weekend_pv, 1.0)

    spring = np.exp(-(((doy - 115) / 35) ** 2))
    episode_p = (
        p.negative_episode_base + p.negative_episode_spring * spring
    ) + p.negative_episode_weekend * weekend
    episode = rng.random(days) < episode_p
    low, high = p.negative_episode_depth_yuan_mwh
    pv = pv + np.where(episode, rng.uniform(low, high, days), 0.0)

    shape_day = (
        -p.night_trough_yuan_mwh * _gauss(hours, 3.5, 2.0)[None, :]
        + peaks[:, None]
        * (
            p.morning_peak_yuan_mwh * _gauss(hours, 8.5, 1.2)[None, :]
            + p.evening_peak_yuan_mwh * _gauss(hours, 19.0, 1.6)[None, :]
        )
        - pv[:, None] * _gauss(hours[None, :], 12.5, np.asarray(pv_width)[:, None])
    )
    noise = _ar1(rng, days * slots, p.slot_noise_yuan_mwh, p.slot_noise_rho).reshape(days, slots)
    day_ahead = level[:, None] + shape_day + noise
    floor, cap = rules.clearing_floor_yuan_mwh, rules.clearing_cap_yuan_mwh
    day_ahead = np.clip(day_ahead, floor, cap)

    deviation = _ar1(rng, days * slots, p.realtime_noise_yuan_mwh, p.realtime_noise_rho)
    spikes = rng.random(days * slots) < p.realtime_spike_probability
    up = rng.random(days * slots) < 0.6
    spike = np.where(up, rng.uniform(200, 600, days * slots), -rng.uniform(100, 300, days * slots))
    realtime = day_ahead + (deviation + np.where(spikes, spike, 0.0)).reshape(days, slots)
    realtime = np.clip(realtime, floor, cap)

    load_level = p.load_base_mw * (level / p.base_yuan_mwh)
    load_shape = (
        1
        - 0.12 * _gauss(hours, 3.5, 2.0)[None, :]
        + peaks[:, None]
        * (0.08 * _gauss(hours, 9.0, 2.0) + 0.12 * _gauss(hours, 19.5, 2.0))[None, :]
    )
    load = load_level[:, None] * load_shape
    return PriceSeries(
        start=start,
        day_ahead_yuan_mwh=day_ahead,
        realtime_yuan_mwh=realtime,
        load_mw=load,
        rules=rules,
    )


def reference_year(
    seed: int = REFERENCE_SEED,
    *,
    rules: TradingRules = SHANDONG,
    start: dt.date = REFERENCE_START,
    days: int = 365,
) -> PriceSeries:
    """The reference synthetic year (2026, Shandong rules): shared by strategies, models,
    backtests and the simulated exchange; the same ``seed`` gives the same arrays."""
    return synthetic_prices(start, days, seed=seed, rules=rules)


class PriceHistoryError(ValueError):
    """A price history that cannot be read (``line`` is 1-based, 0 when not one line)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


PRICE_COLUMNS = ("day_ahead_yuan_mwh", "price_yuan_mwh", "price")
REALTIME_COLUMNS = ("realtime_yuan_mwh", "realtime_price_yuan_mwh")
UNIT_FACTORS = {"yuan/MWh": 1.0, "yuan/kWh": 1000.0}


def _column(header: list[str], names: Iterable[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _float(text: str, what: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PriceHistoryError(f"{what} {text!r} is not a number", line=line) from None
    if not math.isfinite(value):
        raise PriceHistoryError(f"{what} {text!r} is not finite", line=line)
    return value


def _row_slot(
    row: list[str], cols: dict[str, int | None], rules: TradingRules, line: int
) -> tuple[dt.date, int]:
    ts, date_col, slot_col = cols["timestamp"], cols["date"], cols["slot"]
    if ts is not None:
        try:
            instant = dt.datetime.fromisoformat(row[ts])
        except ValueError:
            raise PriceHistoryError(f"timestamp {row[ts]!r} is not ISO 8601", line=line) from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=zone(rules))
        day, slot = slot_at(rules, instant)
        if day_start(rules, day) + dt.timedelta(minutes=slot * rules.slot_minutes) != instant:
            raise PriceHistoryError(f"{row[ts]} is not the start of a slot", line=line)
        return day, slot
    assert date_col is not None
    assert slot_col is not None
    try:
        day = dt.date.fromisoformat(row[date_col])
        slot = int(row[slot_col])
    except ValueError:
        raise PriceHistoryError("date must be YYYY-MM-DD and slot an integer", line=line) from None
    if not 0 <= slot < rules.slots_per_day:
        raise PriceHistoryError(f"slot {slot} outside 0..{rules.slots_per_day - 1}", line=line)
    return day, slot


def parse_price_csv(
    lines: Iterable[str],
    *,
    rules: TradingRules = SHANDONG,
    price_unit: str = "yuan/MWh",
) -> PriceSeries:
    """A :class:`PriceSeries` from CSV text (an iterable of lines, with a header).

    Columns: ``timestamp`` (ISO 8601 slot start; local time of ``rules.timezone`` when it
    has no offset) or ``date`` + ``slot``; ``day_ahead_yuan_mwh`` (or ``price_yuan_mwh``,
    ``price``); optional ``realtime_yuan_mwh`` (default: the day-ahead price) and
    ``volume_mwh`` (energy traded in the slot; default 0). ``price_unit`` ``yuan/kWh``
    scales prices by 1000. Every day must be complete and the days consecutive.
    """
    if price_unit not in UNIT_FACTORS:
        raise PriceHistoryError(f"price_unit must be one of {sorted(UNIT_FACTORS)}")
    factor = UNIT_FACTORS[price_unit]
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise PriceHistoryError("empty file") from None
    cols = {
        "timestamp": _column(header, ("timestamp",)),
        "date": _column(header, ("date", "trading_date")),
        "slot": _column(header, ("slot",)),
        "price": _column(header, PRICE_COLUMNS),
        "realtime": _column(header, REALTIME_COLUMNS),
        "volume": _column(header, ("volume_mwh", "volume")),
    }
    if cols["price"] is None:
        raise PriceHistoryError(f"no price column (one of {', '.join(PRICE_COLUMNS)})", line=1)
    if cols["timestamp"] is None and (cols["date"] is None or cols["slot"] is None):
        raise PriceHistoryError("need a timestamp column or date and slot columns", line=1)
    slot_h = rules.slot_minutes / 60
    values: dict[tuple[dt.date, int], tuple[float, float, float, int]] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise PriceHistoryError(f"{len(row)} fields, the header has {len(header)}", line=line)
        key = _row_slot(row, cols, rules, line)
        if key in values:
            raise PriceHistoryError(
                f"{key[0]} slot {key[1]} again (first on line {values[key][3]})", line=line
            )
        price_col, rt_col, vol_col = cols["price"], cols["realtime"], cols["volume"]
        price = _float(row[price_col], "price", line) * factor
        realtime = (
            _float(row[rt_col], "realtime price", line) * factor if rt_col is not None else price
        )
        volume = _float(row[vol_col], "volume", line) if vol_col is not None else 0.0
        values[key] = (price, realtime, volume / slot_h, line)
    if not values:
        raise PriceHistoryError("no rows")
    first = min(day for day, _ in values)
    last = max(day for day, _ in values)
    days = (last - first).days + 1
    slots = rules.slots_per_day
    if len(values) != days * slots:
        missing = next(
            (first + dt.timedelta(days=d), s)
            for d in range(days)
            for s in range(slots)
            if (first + dt.timedelta(days=d), s) not in values
        )
        raise PriceHistoryError(
            f"{days * slots - len(values)} slots missing between {first} and {last}, "
            f"the first {missing[0]} slot {missing[1]}"
        )
    table = np.empty((3, days, slots))
    for (day, slot), (price, realtime, load, _) in values.items():
        table[:, (day - first).days, slot] = (price, realtime, load)
    return PriceSeries(
        start=first,
        day_ahead_yuan_mwh=table[0].copy(),
        realtime_yuan_mwh=table[1].copy(),
        load_mw=table[2].copy(),
        rules=rules,
    )


def price_csv(series: PriceSeries) -> str:
    """``series`` as CSV text :func:`parse_price_csv` reads back (``date,slot,...``)."""
    slot_h = series.rules.slot_minutes / 60
    rows = ["date,slot,day_ahead_yuan_mwh,realtime_yuan_mwh,volume_mwh"]
    for i, day in enumerate(series.dates()):
        da, rt, load = (
            series.day_ahead_yuan_mwh[i],
            series.realtime_yuan_mwh[i],
            series.load_mw[i],
        )
        rows.extend(
            f"{day.isoformat()},{s},{float(da[s])!r},{float(rt[s])!r},{float(load[s]) * slot_h!r}"
            for s in range(series.rules.slots_per_day)
        )
    return "\n".join(rows) + "\n"
