"""Where a backtest's market data comes from (``market_data_source``; I/O).

* ``synthetic`` / ``synthetic:<seed>``: the reference synthetic price year
  (:func:`hub.markets.reference_year`, 2026, Shandong rules);
* ``csv:<file>``: a price history file (CSV, or Parquet when pyarrow is installed; the
  columns of :func:`hub.markets.parse_price_csv`) inside ``Settings.backtest_data_dir``;
  a path that leaves that directory (``..``, absolute, a symlink out) is refused;
* ``market:<id>``: the market data the hub stored for market connector ``<id>``
  (``market_data_points``, read by the trading loop), its trading rules; the longest run of
  consecutive complete days up to the latest one.

Every refusal is a :class:`SourceError` whose message names the source; the API maps it
to a 422 on ``market_data_source``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.markets import PriceHistoryError, PriceSeries, reference_year, slot_at
from hub.markets._history import load_price_history
from hub.markets._service import rules_of
from hub.store import MarketConnectorRow, MarketDataPoint

SYNTHETIC = "synthetic"


class SourceError(ValueError):
    """A market data source that cannot be used, and why."""


def load_series(source: str, data_dir: str | Path) -> PriceSeries:
    """The price history of ``source`` (module docstring). Raises SourceError."""
    kind, _, arg = source.partition(":")
    if kind == SYNTHETIC:
        if not arg:
            return reference_year()
        try:
            seed = int(arg)
        except ValueError:
            raise SourceError(f"synthetic:<seed> needs an integer seed, not {arg!r}") from None
        if not 0 <= seed < 2**63:
            raise SourceError(f"synthetic:<seed> needs a seed in 0..2**63-1, not {seed}")
        return reference_year(seed)
    if kind == "csv":
        return _load_file(arg, Path(data_dir))
    if kind == "market":
        raise SourceError("market:<id> is read from the database (series_for)")
    raise SourceError(
        f"unknown market data source {source!r} (synthetic, synthetic:<seed>, "
        "csv:<file in the backtest data directory>, market:<id>)"
    )


def _load_file(name: str, data_dir: Path) -> PriceSeries:
    if not name:
        raise SourceError("csv:<file> needs a file name")
    outside = SourceError(f"{name!r} is not a file name inside the backtest data directory")
    try:
        root = data_dir.resolve()
        candidate = Path(name)
        if candidate.is_absolute() or ".." in candidate.parts:
            raise outside
        path = (root / candidate).resolve()
        if not path.is_relative_to(root):
            raise outside
        if not path.is_file():
            raise SourceError(f"no file {name!r} in the backtest data directory")
    except (OSError, ValueError) as exc:  # an embedded NUL, a name too long, a loop
        if isinstance(exc, SourceError):
            raise
        raise outside from exc
    try:
        return load_price_history(path)
    except PriceHistoryError as exc:
        raise SourceError(f"{name}: {exc}") from exc


async def series_for(source: str, data_dir: str | Path, session: AsyncSession) -> PriceSeries:
    """:func:`load_series`, with ``market:<id>`` read through ``session``."""
    kind, _, arg = source.partition(":")
    if kind != "market":
        return await asyncio.to_thread(load_series, source, data_dir)
    row = await session.get(MarketConnectorRow, arg) if arg else None
    if row is None:
        raise SourceError(f"no market connector {arg!r}")
    rules = rules_of(row)
    points = list(
        await session.scalars(
            select(MarketDataPoint)
            .where(MarketDataPoint.connector_id == row.id)
            .order_by(MarketDataPoint.slot_start)
        )
    )
    slots, hours = rules.slots_per_day, rules.slot_minutes / 60
    days: dict[dt.date, dict[int, MarketDataPoint]] = {}
    for point in points:
        date, slot = slot_at(rules, point.slot_start)
        days.setdefault(date, {})[slot] = point
    complete = sorted(d for d, by_slot in days.items() if len(by_slot) == slots)
    if not complete:
        raise SourceError(f"no complete day of market data is stored for market {arg!r}")
    run = [complete[-1]]
    for date in reversed(complete[:-1]):
        if date != run[-1] - dt.timedelta(days=1):
            break
        run.append(date)
    run.reverse()
    rows = [[days[d][t] for t in range(slots)] for d in run]
    day_ahead = np.array([[p.price_yuan_mwh for p in r] for r in rows], dtype=float)
    realtime = np.array(
        [
            [
                p.price_yuan_mwh if p.realtime_price_yuan_mwh is None else p.realtime_price_yuan_mwh
                for p in r
            ]
            for r in rows
        ],
        dtype=float,
    )
    load = np.array([[max(p.volume_mwh / hours, 1.0) for p in r] for r in rows], dtype=float)
    return PriceSeries(
        start=run[0],
        day_ahead_yuan_mwh=day_ahead,
        realtime_yuan_mwh=realtime,
        load_mw=load,
        rules=rules,
    )
