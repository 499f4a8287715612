"""VPPs: membership, aggregation, conflicts.

Pure logic (no I/O, importable by the backtest): :func:`aggregate`, :func:`member_range`,
:func:`detect_conflicts` and their types. The controller and the service (members and
their live state) load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._aggregate import aggregate, member_range
from ._conflicts import detect_conflicts
from ._types import (
    AggregatedParams,
    Commitment,
    Conflict,
    MarketRequirement,
    MarketType,
    MemberState,
    PowerRange,
)

if TYPE_CHECKING:
    from ._controller import (
        VppController,
    )
    from ._service import (
        get_vpp,
        member_state,
        ratio_totals,
        vpp_members,
    )

_LAZY = {
    "VppController": "._controller",
    "get_vpp": "._service",
    "member_state": "._service",
    "ratio_totals": "._service",
    "vpp_members": "._service",
}

__all__ = [
    "AggregatedParams",
    "Commitment",
    "Conflict",
    "MarketRequirement",
    "MarketType",
    "MemberState",
    "PowerRange",
    "VppController",
    "aggregate",
    "detect_conflicts",
    "get_vpp",
    "member_range",
    "member_state",
    "ratio_totals",
    "vpp_members",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
