"""Request and response bodies of dispatch (seed 4.3.2): instructions and execution status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from hub._dto import In, Kw, Out, Uuid

# --------------------------------------------------------------------------- dispatch


class InstructionIn(In, kw_only=True):
    """One instruction. Without ``resource_id`` (or with the VPP's own id) the target is
    the VPP's total output and is disaggregated over its members."""

    resource_id: Uuid | None = None
    target_power: Kw
    duration: Annotated[int, Meta(ge=1, le=7 * 86400)]
    start_time: dt.datetime | None = None
    """None: now (by the hub's clock, which runs accelerated in the demo)."""


class ExecuteDispatch(In, kw_only=True):
    vpp_id: Uuid
    dispatch_instructions: Annotated[list[InstructionIn], Meta(min_length=1, max_length=500)]
    max_offline_s: Annotated[float, Meta(gt=0, le=86_400 * 366)] | None = None
    """None (the default, right for market awards and day plans): the edges follow these
    instructions through a hub or broker outage until they end. A value (signals such as
    regulation that must not outlive the link): an edge stops following them once it has
    not heard from the hub for that many seconds, and falls back to its default control."""


class MemberInstruction(Out, kw_only=True):
    instruction_id: str
    resource_id: str
    target_power: float
    edge_tenant: str | None
    edge_id: str | None
    device_id: str | None


class InstructionOut(Out, kw_only=True):
    instruction_id: str
    resource_id: str | None
    target_power: float
    feasible_power: float
    infeasible_power: float
    start_time: dt.datetime
    end_time: dt.datetime
    members: list[MemberInstruction]


class DispatchAccepted(Out, kw_only=True):
    vpp_id: str
    instructions: list[InstructionOut]
    published_edges: list[str]


class ExecutionStatus(Out, kw_only=True):
    """What the devices did with an instruction, from the edges' execution reports.

    Units as everywhere in the API: kW, kWh, s. ``actual_power``: measured power in the
    latest reports; ``deviation``: actual minus target; ``applied_power``: the setpoint
    the devices accepted (after their register rounding); ``delivered_energy``: energy
    delivered while the instruction was in force (generator convention: discharge > 0),
    integrated at the edge from measured power, final once ``status`` is ``done``;
    ``started_time``: the first accepted write. ``status``: ``pending``, ``accepted``,
    ``executing``, ``clamped``, ``failed`` (the device refused or the write failed,
    ``reason`` says why), ``rejected``, ``superseded``, ``expired`` or ``done``; for a
    VPP-level instruction the least advanced member status.
    """

    instruction_id: str
    status: str
    actual_power: float | None
    deviation: float | None
    timestamp: dt.datetime
    target_power: float
    reason: str = ""
    applied_power: float | None = None
    delivered_energy: float | None = None
    started_time: dt.datetime | None = None
