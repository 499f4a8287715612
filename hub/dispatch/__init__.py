"""Dispatch: targets -> disaggregation over members -> per-edge schedules -> execution status.

Pure logic (no I/O, importable by the backtest): :func:`disaggregate` and
:func:`build_intervals`. The controller and the service (storing instructions, building
schedules, reading execution status) load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._disaggregate import disaggregate
from ._schedule import PendingTarget, build_intervals
from ._types import Allocation, Disaggregation

if TYPE_CHECKING:
    from ._controller import (
        DispatchController,
    )
    from ._service import (
        MAX_INTERVALS,
        build_schedule,
        ensure_edge,
        execute_dispatch,
        execution_status,
    )

_LAZY = {
    "DispatchController": "._controller",
    "MAX_INTERVALS": "._service",
    "build_schedule": "._service",
    "ensure_edge": "._service",
    "execute_dispatch": "._service",
    "execution_status": "._service",
}

__all__ = [
    "MAX_INTERVALS",
    "Allocation",
    "Disaggregation",
    "DispatchController",
    "PendingTarget",
    "build_intervals",
    "build_schedule",
    "disaggregate",
    "ensure_edge",
    "execute_dispatch",
    "execution_status",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
