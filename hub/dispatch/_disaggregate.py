"""Disaggregation of a VPP-level power target onto its members (pure).

Members start at their baseline (storage at 0, the others where they are now). The
difference to the target is handed out by priority (lower number first); inside one
priority level it is shared in proportion to each member's headroom in that direction, so
nobody leaves its band and members with more room (a larger allocation ratio or rating)
take more. What nobody can take is reported as ``infeasible_kw``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from hub.vpps._types import PowerRange

from ._types import Allocation, Disaggregation


def disaggregate(target_kw: float, ranges: Sequence[PowerRange]) -> Disaggregation:
    """Split ``target_kw`` (the VPP's total output) over ``ranges``."""
    values = {r.resource_id: min(max(r.baseline_kw, r.lo_kw), r.hi_kw) for r in ranges}
    remaining = target_kw - sum(values.values())
    ordered = sorted(ranges, key=lambda r: r.priority)
    for _, group_iter in groupby(ordered, key=lambda r: r.priority):
        if abs(remaining) <= 1e-9:
            break
        group = list(group_iter)
        if remaining > 0:
            rooms = [max(0.0, r.hi_kw - values[r.resource_id]) for r in group]
        else:
            rooms = [max(0.0, values[r.resource_id] - r.lo_kw) for r in group]
        room = sum(rooms)
        if room <= 0:
            continue
        take = min(abs(remaining), room)
        sign = 1.0 if remaining > 0 else -1.0
        for r, rr in zip(group, rooms, strict=True):
            share = take * rr / room
            value = values[r.resource_id] + sign * share
            values[r.resource_id] = min(max(value, r.lo_kw), r.hi_kw)
        remaining = target_kw - sum(values.values())
    infeasible = remaining if abs(remaining) > 1e-6 else 0.0
    return Disaggregation(
        allocations=[
            Allocation(resource_id=r.resource_id, target_kw=values[r.resource_id]) for r in ranges
        ],
        infeasible_kw=infeasible,
    )
