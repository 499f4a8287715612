"""Reading a price history file (I/O): CSV always, Parquet when pyarrow is installed.

The parsing itself is pure (:func:`hub.markets.parse_price_csv`); this module only opens
files. pyarrow is optional: without it a ``.parquet`` path raises
:class:`PriceHistoryError` saying so.
"""

from __future__ import annotations

import csv
import importlib
import io
from pathlib import Path
from typing import Any

from protocol.clock import Clock

from ._presets import SHANDONG
from ._prices import PriceHistoryError, PriceSeries, parse_price_csv
from ._rules import TradingRules
from ._sim import ReplayMarket


def load_price_history(
    path: str | Path,
    *,
    rules: TradingRules = SHANDONG,
    price_unit: str = "yuan/MWh",
) -> PriceSeries:
    """A :class:`PriceSeries` from a CSV or Parquet file (the columns of
    :func:`parse_price_csv`)."""
    path = Path(path)
    if path.suffix.lower() in {".parquet", ".pq"}:
        return parse_price_csv(_parquet_lines(path), rules=rules, price_unit=price_unit)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return parse_price_csv(handle, rules=rules, price_unit=price_unit)
    except OSError as exc:
        raise PriceHistoryError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _parquet_lines(path: Path) -> list[str]:
    try:
        parquet: Any = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise PriceHistoryError(
            f"{path}: reading Parquet needs pyarrow (pip install pyarrow), or convert to CSV"
        ) from None
    try:
        table = parquet.read_table(path)
    except (OSError, ValueError) as exc:
        raise PriceHistoryError(f"cannot read {path}: {exc}") from exc
    rows: list[dict[str, object]] = table.to_pylist()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in rows:
        writer.writerow(["" if row[c] is None else str(row[c]) for c in table.column_names])
    return out.getvalue().splitlines()


def replay_from_file(
    path: str | Path,
    clock: Clock,
    *,
    rules: TradingRules = SHANDONG,
    price_unit: str = "yuan/MWh",
    name: str = "replay",
) -> ReplayMarket:
    """A :class:`ReplayMarket` serving the history in ``path`` on ``clock``."""
    series = load_price_history(path, rules=rules, price_unit=price_unit)
    return ReplayMarket(clock, series, rules=rules, name=name)
