"""Dispatch domain types: plain msgspec Structs, no I/O.

Power is in kW with the generator convention (positive = delivering power into the site bus).
"""

from __future__ import annotations

import msgspec


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    resource_id: str
    target_kw: float


class Disaggregation(msgspec.Struct, frozen=True, kw_only=True):
    allocations: list[Allocation]
    infeasible_kw: float
    """Part of the target nobody could take (same sign as the request); 0 when feasible."""
