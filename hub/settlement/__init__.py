"""Settlement: day statements per VPP and market, and their allocation to the members.

Pure (no I/O, importable by the backtest): :func:`settle` (per-slot lines by the market's
:class:`~hub.markets.TradingRules`, money as two-place ``Decimal``), the DR
:func:`baseline`, :func:`allocate` (pro rata by energy, by capacity x availability, or
Shapley), :func:`shapley` and the :class:`SettlementGame`. The service (stored statements,
``trading_records`` to SETTLED), the singleton job and the controller load lazily.
See docs/settlement.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._allocate import (
    METHODS,
    REMAINDER_RULE,
    Allocation,
    MemberInput,
    MemberShare,
    Method,
    allocate,
    largest_remainder,
    pro_rata,
)
from ._baseline import BASELINE_DAYS, LOOKBACK_DAYS, MIN_DAYS, baseline, curtailment, similar
from ._game import SettlementGame
from ._meter import day_start, integrate_kwh
from ._money import CENT, ROUNDING, ROUNDING_RULE, dec, money
from ._settle import (
    COMPONENTS,
    FLAG_METER,
    FLAG_MILEAGE,
    FLAG_PRICE,
    DayStatement,
    SlotInput,
    SlotLine,
    Totals,
    settle,
    settle_line,
)
from ._shapley import (
    EXACT_MAX,
    Game,
    ShapleyResult,
    all_coalitions,
    shapley,
    shapley_exact,
    shapley_sampled,
)

if TYPE_CHECKING:
    from ._controller import SettlementController
    from ._job import SETTLEMENT_JOB
    from ._service import Outcome, list_statements, read_statement, settle_day, settle_due

_LAZY = {
    "SettlementController": "._controller",
    "SETTLEMENT_JOB": "._job",
    "Outcome": "._service",
    "list_statements": "._service",
    "read_statement": "._service",
    "settle_day": "._service",
    "settle_due": "._service",
}

__all__ = [
    "BASELINE_DAYS",
    "CENT",
    "COMPONENTS",
    "EXACT_MAX",
    "FLAG_METER",
    "FLAG_MILEAGE",
    "FLAG_PRICE",
    "LOOKBACK_DAYS",
    "METHODS",
    "MIN_DAYS",
    "REMAINDER_RULE",
    "ROUNDING",
    "ROUNDING_RULE",
    "SETTLEMENT_JOB",
    "Allocation",
    "DayStatement",
    "Game",
    "MemberInput",
    "MemberShare",
    "Method",
    "Outcome",
    "SettlementController",
    "SettlementGame",
    "ShapleyResult",
    "SlotInput",
    "SlotLine",
    "Totals",
    "all_coalitions",
    "allocate",
    "baseline",
    "curtailment",
    "day_start",
    "dec",
    "integrate_kwh",
    "largest_remainder",
    "list_statements",
    "money",
    "pro_rata",
    "read_statement",
    "settle",
    "settle_day",
    "settle_due",
    "settle_line",
    "shapley",
    "shapley_exact",
    "shapley_sampled",
    "similar",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
