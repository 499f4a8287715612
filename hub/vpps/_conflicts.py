"""Conflict detection for one VPP, with suggestions (pure)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

from ._aggregate import aggregate
from ._types import Commitment, Conflict, MarketRequirement, MemberState

EPS = 1e-6
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def commitment_kw(quantity_kwh: float, time_slot: str | None, slot_minutes: int = 15) -> float:
    """The power a trading record commits: its energy (kWh over the slot, signed: a buy
    commits capacity too) as the average power over its slot. The slot's length is read
    from its ``"HH:MM-HH:MM"`` name, else ``slot_minutes``.

    >>> commitment_kw(150.0, "10:00-10:15"), commitment_kw(-50.0, "23:00-24:00")
    (600.0, 50.0)
    """
    minutes = slot_minutes
    match = _SPAN.match(time_slot or "")
    if match is not None:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        span = (h2 * 60 + m2) - (h1 * 60 + m1)
        if span > 0:
            minutes = span
    return abs(quantity_kwh) * 60.0 / minutes


def detect_conflicts(
    vpp_id: str,
    members: Sequence[MemberState],
    *,
    ratio_totals: Mapping[str, float],
    commitments: Sequence[Commitment] = (),
    requirement: MarketRequirement | None = None,
    capacity_kw_by_vpp: Mapping[str, float] | None = None,
) -> list[Conflict]:
    """Everything that keeps this VPP from delivering what it promises.

    ``ratio_totals``: for each member, the sum of its allocation ratios over every VPP.
    ``commitments``: market commitments of this VPP and of the VPPs that share members.
    ``capacity_kw_by_vpp``: capacity of the VPPs in ``commitments`` (defaults to this one).
    """
    out: list[Conflict] = []
    over = sorted(rid for rid, total in ratio_totals.items() if total > 1 + EPS)
    for rid in over:
        out.append(
            Conflict(
                kind="over_allocation",
                severity="error",
                message=f"resource {rid} is allocated {ratio_totals[rid]:.4g} of its "
                "capacity across VPPs (more than 1)",
                resource_ids=[rid],
                suggestion="lower its allocation_ratio in this or another VPP so the sum is <= 1",
            )
        )
    down = [m.resource_id for m in members if m.status in {"OFFLINE", "MAINTENANCE", "ERROR"}]
    if down:
        out.append(
            Conflict(
                kind="member_unavailable",
                severity="warning",
                message=f"{len(down)} member(s) are offline, in maintenance or in error",
                resource_ids=sorted(down),
                suggestion="bring them back online or remove them before committing capacity",
            )
        )
    params = aggregate(members)
    capacities = dict(capacity_kw_by_vpp or {})
    capacities.setdefault(vpp_id, params.total_capacity)
    by_period: dict[str, list[Commitment]] = defaultdict(list)
    for c in commitments:
        if c.vpp_id == vpp_id:
            by_period[c.period].append(c)
    for period, items in sorted(by_period.items()):
        markets = {c.market_type for c in items}
        committed = sum(c.quantity_kw for c in items)
        if len(markets) > 1 and committed > capacities[vpp_id] + EPS:
            out.append(
                Conflict(
                    kind="double_commitment",
                    severity="error",
                    message=f"period {period}: {committed:.6g} kW committed to "
                    f"{', '.join(sorted(markets))} but the VPP has {capacities[vpp_id]:.6g} kW",
                    suggestion="withdraw or reduce one of the bids for this period",
                )
            )
    if requirement is not None:
        available = params.available_up_capacity + params.available_down_capacity
        offered = max(params.available_up_capacity, params.available_down_capacity)
        if offered + EPS < requirement.min_capacity_kw:
            out.append(
                Conflict(
                    kind="below_qualification",
                    severity="error",
                    message=f"{requirement.market_type} needs >= {requirement.min_capacity_kw:.6g}"
                    f" kW, the VPP offers {offered:.6g} kW (up+down {available:.6g})",
                    suggestion="add resources or raise allocation ratios",
                )
            )
        if requirement.min_duration_h > 0:
            storage = [m for m in members if m.category == "STORAGE" and m.energy_kwh]
            power = sum(m.capacity_kw * m.allocation_ratio for m in storage)
            energy = sum((m.energy_kwh or 0.0) * m.allocation_ratio for m in storage)
            others = [m for m in members if m.category != "STORAGE"]
            if (
                storage
                and not others
                and power > 0
                and energy / power + EPS < (requirement.min_duration_h)
            ):
                out.append(
                    Conflict(
                        kind="below_qualification",
                        severity="error",
                        message=f"{requirement.market_type} needs {requirement.min_duration_h:g}"
                        f" h at full power, the storage lasts {energy / power:.3g} h",
                        resource_ids=sorted(m.resource_id for m in storage),
                        suggestion="add energy capacity or offer less power",
                    )
                )
        limit = requirement.max_response_time_s
        if limit is not None:
            slow = sorted(m.resource_id for m in members if m.response_time_s > limit)
            if slow:
                out.append(
                    Conflict(
                        kind="response_time_mismatch",
                        severity="error" if len(slow) == len(members) else "warning",
                        message=f"{requirement.market_type} needs a response within {limit:g} s;"
                        f" {len(slow)} member(s) are slower",
                        resource_ids=slow,
                        suggestion="move slow members to a VPP for a slower product",
                    )
                )
    return out
