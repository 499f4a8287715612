"""Dispatch: targets -> disaggregation over members -> per-edge schedules -> execution status.

The one seam every source of power targets goes through: a :class:`DispatchPlan` handed to
:func:`submit_plan` (manual REST dispatch, market awards, strategies, demand response, the
backtest). Pure logic (no I/O, importable by the backtest): the plan types,
:func:`disaggregate`, :func:`build_intervals` (targets of several VPPs on one device add
up) and :func:`band_violations`. The controller, the service (storing plans, staging
schedules in the outbox, reading execution status) and the outbox publisher
(:func:`drain_outbox`) load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._disaggregate import disaggregate
from ._plan import (
    SLOT_S,
    DispatchPlan,
    MemberShare,
    PlannedTarget,
    PlanOutcome,
    PlanSource,
    PlanTarget,
)
from ._schedule import (
    BandViolation,
    DeviceSum,
    PendingTarget,
    band_violations,
    build_intervals,
    device_sums,
)
from ._types import Allocation, Disaggregation

if TYPE_CHECKING:
    from ._controller import (
        DispatchController,
    )
    from ._execution import execution_status, record_status
    from ._outbox import drain_outbox
    from ._service import (
        MAX_INTERVALS,
        build_schedule,
        ensure_edge,
        stage_schedules,
        submit_plan,
    )

_LAZY = {
    "DispatchController": "._controller",
    "MAX_INTERVALS": "._service",
    "build_schedule": "._service",
    "ensure_edge": "._service",
    "stage_schedules": "._service",
    "submit_plan": "._service",
    "drain_outbox": "._outbox",
    "execution_status": "._execution",
    "record_status": "._execution",
}

__all__ = [
    "MAX_INTERVALS",
    "SLOT_S",
    "Allocation",
    "BandViolation",
    "DeviceSum",
    "Disaggregation",
    "DispatchController",
    "DispatchPlan",
    "MemberShare",
    "PendingTarget",
    "PlanOutcome",
    "PlanSource",
    "PlanTarget",
    "PlannedTarget",
    "band_violations",
    "build_intervals",
    "build_schedule",
    "device_sums",
    "disaggregate",
    "drain_outbox",
    "ensure_edge",
    "execution_status",
    "record_status",
    "stage_schedules",
    "submit_plan",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
