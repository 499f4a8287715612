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
        PreparedMember,
        PreparedMembers,
        get_vpp,
        live_state,
        member_rows,
        member_rows_of,
        member_state,
        prepare_row,
        prepare_rows,
        ratio_totals,
        row_state,
        status_and_member_rows,
        vpp_members,
    )

_LAZY = {
    "PreparedMember": "._service",
    "PreparedMembers": "._service",
    "VppController": "._controller",
    "get_vpp": "._service",
    "live_state": "._service",
    "member_rows": "._service",
    "member_rows_of": "._service",
    "member_state": "._service",
    "prepare_row": "._service",
    "prepare_rows": "._service",
    "ratio_totals": "._service",
    "row_state": "._service",
    "status_and_member_rows": "._service",
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
    "PreparedMember",
    "PreparedMembers",
    "VppController",
    "aggregate",
    "detect_conflicts",
    "get_vpp",
    "live_state",
    "member_range",
    "member_rows",
    "member_rows_of",
    "member_state",
    "prepare_row",
    "prepare_rows",
    "ratio_totals",
    "row_state",
    "status_and_member_rows",
    "vpp_members",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
