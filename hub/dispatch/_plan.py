"""The one dispatch seam's input: a :class:`DispatchPlan` (pure, no I/O).

Every source of power targets (manual REST dispatch, a market award, a strategy, a demand
response event, the backtest) states what it wants as a plan: VPP- or resource-level
targets over time slots, where it comes from and how much it counts. The dispatch service
(:func:`hub.dispatch.submit_plan`) validates, disaggregates, stores and publishes it, the
same way for all of them.

Power in kW, generator convention (positive = delivering power into the site bus).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

PlanSource = Literal["manual", "market_award", "strategy", "demand_response"]

SLOT_S = 900
"""A market slot: 15 minutes (96 a day)."""


class PlanTarget(msgspec.Struct, frozen=True, kw_only=True):
    """One target over one time slot: the VPP's total output (``resource_id`` None or the
    VPP's own id, disaggregated over its members) or one member's output."""

    target_kw: Annotated[float, Meta(ge=-1e7, le=1e7)]
    duration_s: Annotated[int, Meta(ge=1, le=7 * 86400)]
    start: dt.datetime | None = None
    """None: now, by the hub's clock."""
    resource_id: str | None = None


class DispatchPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What one caller wants one VPP to do.

    ``priority``: where two plans of the same VPP overlap on a device, the higher priority
    holds and, between equals, the newer one; plans of different VPPs on one device add up
    (within the device's band, else the plan is refused).
    """

    vpp_id: str
    targets: Sequence[PlanTarget]
    source: PlanSource = "manual"
    priority: Annotated[int, Meta(ge=0, le=1000)] = 0
    created_by: str = ""
    """Who or what made it (a user name, ``award:<id>``, a strategy's name); empty: the
    source."""
    max_offline_s: float | None = None
    """None: the edges follow it through a link outage until it ends (market awards, day
    plans); a value: they stop following it after that much silence from the hub."""

    @classmethod
    def day(
        cls,
        vpp_id: str,
        start: dt.datetime,
        targets_kw: Sequence[float],
        *,
        slot_s: int = SLOT_S,
        source: PlanSource = "strategy",
        priority: int = 0,
        created_by: str = "",
        resource_id: str | None = None,
    ) -> DispatchPlan:
        """A plan of consecutive slots from ``start`` (96 fifteen-minute slots for a day).

        >>> import datetime as dt
        >>> plan = DispatchPlan.day("v1", dt.datetime(2026, 12, 2, tzinfo=dt.UTC), [10.0] * 96)
        >>> len(plan.targets), plan.targets[-1].start.hour, plan.targets[-1].start.minute
        (96, 23, 45)
        """
        return cls(
            vpp_id=vpp_id,
            targets=[
                PlanTarget(
                    target_kw=kw,
                    duration_s=slot_s,
                    start=start + dt.timedelta(seconds=i * slot_s),
                    resource_id=resource_id,
                )
                for i, kw in enumerate(targets_kw)
            ],
            source=source,
            priority=priority,
            created_by=created_by,
        )


class MemberShare(msgspec.Struct, frozen=True, kw_only=True):
    """One member's share of a target: the instruction its edge executes."""

    instruction_id: str
    resource_id: str
    target_kw: float
    edge_tenant: str | None
    edge_id: str | None
    device_id: str | None


class PlannedTarget(msgspec.Struct, frozen=True, kw_only=True):
    """How one :class:`PlanTarget` was stored: what of it members could take."""

    instruction_id: str
    resource_id: str | None
    target_kw: float
    feasible_kw: float
    infeasible_kw: float
    start: dt.datetime
    end: dt.datetime
    members: list[MemberShare]


class PlanOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """The stored plan: its targets, and the edges whose schedule changed (a new version
    is in the outbox for each of them)."""

    vpp_id: str
    targets: list[PlannedTarget]
    changed_edges: list[tuple[str, str]]
    """``(tenant, edge id)`` of each edge whose schedule changed."""
