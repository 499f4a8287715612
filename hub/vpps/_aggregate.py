"""Aggregation of VPP members into one plant's parameters (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from ._types import AggregatedParams, MemberState, PowerRange


def _clamp(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def member_range(m: MemberState) -> PowerRange | None:
    """The band this member's share can be dispatched in (kW), or None if unavailable.

    Every bound is scaled by the allocation ratio: a member in two VPPs at 0.5 each offers
    each of them half of its band.
    """
    if m.status != "ONLINE" or not m.dispatchable or m.allocation_ratio <= 0:
        return None
    r = m.allocation_ratio
    p = m.p_kw if m.p_kw is not None else 0.0
    match m.category:
        case "STORAGE":
            dis = m.max_discharge_kw if m.max_discharge_kw is not None else m.capacity_kw
            ch = m.max_charge_kw if m.max_charge_kw is not None else m.capacity_kw
            if m.soc_pct is not None and m.soc_pct <= m.soc_min_pct:
                dis = 0.0
            if m.soc_pct is not None and m.soc_pct >= m.soc_max_pct:
                ch = 0.0
            lo, hi, base = -ch, dis, 0.0
        case "GENERATION":
            if m.curtailable:
                # A curtailable source (PV) can only be turned down from what it makes now.
                lo, hi = 0.0, max(p, 0.0)
            else:
                lo, hi = min(m.min_kw, m.capacity_kw), m.capacity_kw
            base = _clamp(p, lo, hi)
        case "LOAD" | "FLEXIBLE":
            # Consumption c = -p between min_kw and capacity: power from -capacity to -min.
            lo, hi = -m.capacity_kw, -min(m.min_kw, m.capacity_kw)
            base = _clamp(p, lo, hi)
    return PowerRange(
        resource_id=m.resource_id,
        lo_kw=lo * r,
        hi_kw=hi * r,
        baseline_kw=base * r,
        priority=m.priority,
    )


def aggregate(members: Sequence[MemberState]) -> AggregatedParams:
    """Total capacity of every member, up/down headroom of the available ones around their
    current output, the slowest response time among them and the capacity-weighted
    efficiency."""
    total = sum(m.capacity_kw * m.allocation_ratio for m in members)
    up = down = current = 0.0
    response = 0.0
    online = 0
    eff_weight = eff_sum = 0.0
    for m in members:
        if m.status == "ONLINE":
            online += 1
        rng = member_range(m)
        if rng is None:
            continue
        now = _clamp((m.p_kw or 0.0) * m.allocation_ratio, rng.lo_kw, rng.hi_kw)
        up += max(0.0, rng.hi_kw - now)
        down += max(0.0, now - rng.lo_kw)
        current += now
        response = max(response, m.response_time_s)
        weight = m.capacity_kw * m.allocation_ratio
        eff_weight += weight
        eff_sum += weight * m.efficiency
    return AggregatedParams(
        total_capacity=round(total, 3),
        available_up_capacity=round(up, 3),
        available_down_capacity=round(down, 3),
        response_time=response,
        efficiency=round(eff_sum / eff_weight, 4) if eff_weight > 0 else 0.0,
        online_count=online,
        member_count=len(members),
        current_power=round(current, 3),
    )
