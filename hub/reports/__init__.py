"""Reports (seed 4.4): operation, strategy performance, revenue analysis, carbon.

Pure (no I/O): the period, success-rate and risk arithmetic (:mod:`._metrics`), carbon
accounting with time-resolved grid emission factors (:mod:`._carbon`) and CSV
(:func:`to_csv`). The service and the controller load lazily. See docs/settlement.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._carbon import (
    DEFAULT_SHAPE,
    FACTOR_SOURCE,
    NATIONAL_KG_PER_KWH,
    CarbonFigures,
    EmissionFactors,
    carbon,
    curtailed,
)
from ._csv import BOM, to_csv
from ._metrics import (
    PERIODS,
    SUCCESS_TARGET,
    TOLERANCE,
    PeriodError,
    RiskMetrics,
    period_days,
    risk_metrics,
    within_tolerance,
)

if TYPE_CHECKING:
    from ._controller import ReportController

_LAZY = {"ReportController": "._controller"}

__all__ = [
    "BOM",
    "DEFAULT_SHAPE",
    "FACTOR_SOURCE",
    "NATIONAL_KG_PER_KWH",
    "PERIODS",
    "SUCCESS_TARGET",
    "TOLERANCE",
    "CarbonFigures",
    "EmissionFactors",
    "PeriodError",
    "ReportController",
    "RiskMetrics",
    "carbon",
    "curtailed",
    "period_days",
    "risk_metrics",
    "to_csv",
    "within_tolerance",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
