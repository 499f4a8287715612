"""Dispatch: VPP targets -> member instructions -> per-edge retained schedules, and the
execution status read back from ``dispatch/status`` and telemetry."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Principal, audit
from hub.errors import ConflictError, InvalidInputError, NotFoundError
from hub.store import DispatchExecution, DispatchInstruction, Edge, new_id
from hub.vpps import PowerRange, get_vpp, member_range, member_state, vpp_members
from protocol import DispatchSchedule

from ._disaggregate import disaggregate
from ._schedule import PendingTarget, build_intervals
from ._schemas import (
    DispatchAccepted,
    ExecuteDispatch,
    ExecutionStatus,
    InstructionIn,
    InstructionOut,
    MemberInstruction,
)

if TYPE_CHECKING:
    from hub._context import HubContext


def _ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def _max_intervals() -> int:
    """How many intervals an edge accepts in one schedule, read off the wire type itself
    (``protocol`` bounds ``DispatchSchedule.intervals``; a longer one would not decode)."""
    info = msgspec.inspect.type_info(DispatchSchedule)
    assert isinstance(info, msgspec.inspect.StructType)
    intervals = next(f.type for f in info.fields if f.name == "intervals")
    assert isinstance(intervals, msgspec.inspect.ListType)
    assert intervals.max_length is not None
    return intervals.max_length


MAX_INTERVALS: Final = _max_intervals()
START_WINDOW: Final = dt.timedelta(days=366)
"""How far from now an instruction may start (and the schedule timestamps stay valid)."""


async def ensure_edge(session: AsyncSession, edge_id: str, tenant: str) -> Edge:
    """The edge row, created on first sight for edges never registered with ``edge add``."""
    edge = await session.get(Edge, edge_id)
    if edge is None:
        edge = Edge(
            id=edge_id,
            tenant=tenant,
            name="",
            mqtt_username=f"edge-{edge_id}",
            mqtt_password_hash="",
            online=False,
            schedule_version=0,
        )
        session.add(edge)
        await session.flush()
    return edge


def _shares(
    item: InstructionIn,
    vpp_id: str,
    vpp_level: bool,
    members: set[str],
    ranges: dict[str, PowerRange],
    field: str,
) -> tuple[dict[str, float], float]:
    """Member shares (kW) of one instruction and the part nobody can take."""
    if vpp_level:
        result = disaggregate(item.target_power, list(ranges.values()))
        shares = {a.resource_id: a.target_kw for a in result.allocations}
        infeasible = result.infeasible_kw
    else:
        member_id = item.resource_id or ""
        if member_id not in members:
            raise InvalidInputError(
                f"resource {member_id} is not a member of VPP {vpp_id}",
                field=f"{field}.resource_id",
            )
        rng = ranges.get(member_id)
        if rng is None:
            raise ConflictError(
                f"resource {member_id} is not available for dispatch (status, binding)"
            )
        clamped = min(max(item.target_power, rng.lo_kw), rng.hi_kw)
        shares = {member_id: clamped}
        infeasible = item.target_power - clamped
    return shares, infeasible


def _period(item: InstructionIn, now_ms: int, field: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of one instruction; the start within a year of now (an edge cannot
    decode timestamps beyond the protocol's range, and datetime overflows near 9999)."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    if item.start_time is None:
        start = now
    elif item.start_time.tzinfo is None:
        start = item.start_time.replace(tzinfo=dt.UTC)
    else:
        start = item.start_time
    if not now - START_WINDOW <= start <= now + START_WINDOW:
        raise InvalidInputError(
            "start_time must be within 366 days of now", field=f"{field}.start_time"
        )
    end = start + dt.timedelta(seconds=item.duration)
    if end <= now:
        raise InvalidInputError("the instruction ends in the past", field=f"{field}.start_time")
    return start, end


async def _check_schedule_sizes(session: AsyncSession, edges: set[str], now_ms: int) -> None:
    """409 when an edge's schedule would hold more intervals than an edge accepts."""
    for edge_id in sorted(edges):
        count = len(build_intervals(await _pending(session, edge_id, now_ms), now_ms))
        if count > MAX_INTERVALS:
            raise ConflictError(
                f"the schedule of edge {edge_id} would have {count} intervals, more than "
                f"the {MAX_INTERVALS} an edge accepts: dispatch fewer or longer instructions "
                "or wait for some to end"
            )


async def execute_dispatch(
    session: AsyncSession, ctx: HubContext, principal: Principal, data: ExecuteDispatch
) -> tuple[DispatchAccepted, set[str]]:
    """Store the instructions and return the edges whose schedule changed."""
    vpp = await get_vpp(session, data.vpp_id)
    if vpp.status != "ACTIVE":
        raise ConflictError(f"VPP {vpp.id} is {vpp.status}")
    fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
    rows = await vpp_members(session, vpp.id)
    states = {i.id: member_state(i, t, m, ctx.cache, fresh) for m, i, t in rows}
    instances = {i.id: i for _, i, _ in rows}
    ranges: dict[str, PowerRange] = {}
    for rid, state in states.items():
        rng = member_range(state)
        inst = instances[rid]
        if rng is not None and inst.edge_id is not None and inst.device_id is not None:
            ranges[rid] = rng
    out: list[InstructionOut] = []
    edges: set[str] = set()
    executions: list[DispatchExecution] = []
    for index, item in enumerate(data.dispatch_instructions):
        field = f"dispatch_instructions[{index}]"
        start, end = _period(item, ctx.clock.now_ms(), field)
        parent_id = new_id()
        vpp_level = item.resource_id is None or item.resource_id == vpp.id
        shares, infeasible = _shares(item, vpp.id, vpp_level, set(states), ranges, field)
        session.add(
            DispatchInstruction(
                id=parent_id,
                parent_id=None,
                vpp_id=vpp.id,
                resource_id=None if vpp_level else item.resource_id,
                target_power=item.target_power - infeasible,
                requested_power=item.target_power,
                start_time=start,
                end_time=end,
                created_by=principal.username,
                max_offline_s=data.max_offline_s,
            )
        )
        members: list[MemberInstruction] = []
        for rid, kw in shares.items():
            inst = instances[rid]
            child = new_id()
            session.add(
                DispatchInstruction(
                    id=child,
                    parent_id=parent_id,
                    vpp_id=vpp.id,
                    resource_id=rid,
                    edge_id=inst.edge_id,
                    device_id=inst.device_id,
                    target_power=kw,
                    requested_power=kw,
                    start_time=start,
                    end_time=end,
                    created_by=principal.username,
                    max_offline_s=data.max_offline_s,
                )
            )
            executions.append(DispatchExecution(instruction_id=child, status="pending"))
            assert inst.edge_id is not None
            edges.add(inst.edge_id)
            members.append(
                MemberInstruction(
                    instruction_id=child,
                    resource_id=rid,
                    target_power=round(kw, 3),
                    edge_id=inst.edge_id,
                    device_id=inst.device_id,
                )
            )
        out.append(
            InstructionOut(
                instruction_id=parent_id,
                resource_id=None if vpp_level else item.resource_id,
                target_power=item.target_power,
                feasible_power=round(item.target_power - infeasible, 3),
                infeasible_power=round(infeasible, 3),
                start_time=start,
                end_time=end,
                members=members,
            )
        )
    await session.flush()  # instructions before the executions that reference them
    session.add_all(executions)
    for edge_id in edges:
        await ensure_edge(session, edge_id, ctx.settings.tenant)
    await session.flush()
    await _check_schedule_sizes(session, edges, ctx.clock.now_ms())
    audit(
        session,
        principal,
        "execute_dispatch",
        "vpp",
        vpp.id,
        None,
        {"instructions": [i.instruction_id for i in out]},
    )
    return DispatchAccepted(vpp_id=vpp.id, instructions=out, published_edges=sorted(edges)), edges


async def build_schedule(
    session: AsyncSession, edge_id: str, now_ms: int, expiry_s: float
) -> tuple[DispatchSchedule, str] | None:
    """Bump the edge's schedule version and build its schedule from every member
    instruction that has not ended. Returns the schedule and the edge's tenant.

    The schedule's ``max_offline_s`` is the smallest of its instructions' (the strictest
    wins); None, so the edge runs it through any outage, when none of them sets one.
    """
    edge = await session.get(Edge, edge_id)
    if edge is None:
        return None
    pending = await _pending(session, edge_id, now_ms)
    strictest = await session.scalar(
        select(func.min(DispatchInstruction.max_offline_s)).where(*_pending_filter(edge_id, now_ms))
    )
    max_offline_s = float(strictest) if strictest is not None else None
    intervals = build_intervals(pending, now_ms)
    # execute_dispatch refuses more; this only guards against rows written around it
    intervals = intervals[:MAX_INTERVALS]
    version = await session.scalar(
        update(Edge)
        .where(Edge.id == edge_id)
        .values(schedule_version=Edge.schedule_version + 1)
        .returning(Edge.schedule_version)
    )
    last_end = max((i.end_ts_ms for i in intervals), default=now_ms)
    schedule = DispatchSchedule(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"lingtan:{edge_id}")),
        version=int(version or 1),
        edge=edge_id,
        issued_ts_ms=now_ms,
        expires_ts_ms=max(last_end, now_ms + int(expiry_s * 1000)),
        intervals=intervals,
        max_offline_s=max_offline_s,
    )
    return schedule, edge.tenant


def _pending_filter(edge_id: str, now_ms: int) -> tuple[ColumnElement[bool], ...]:
    """The member instructions of ``edge_id`` that have not ended (a schedule's content)."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    return (
        DispatchInstruction.edge_id == edge_id,
        DispatchInstruction.end_time > now,
        DispatchInstruction.parent_id.is_not(None),
        DispatchInstruction.device_id.is_not(None),
    )


async def _pending(session: AsyncSession, edge_id: str, now_ms: int) -> list[PendingTarget]:
    """The member instructions of ``edge_id`` that have not ended, oldest first."""
    rows = await session.scalars(
        select(DispatchInstruction)
        .where(*_pending_filter(edge_id, now_ms))
        .order_by(DispatchInstruction.created_at, DispatchInstruction.id)
    )
    return [
        PendingTarget(
            instruction_id=r.id,
            device=r.device_id or "",
            p_target_w=r.target_power * 1000.0,
            start_ts_ms=_ms(r.start_time),
            end_ts_ms=_ms(r.end_time),
            created_order=order,
        )
        for order, r in enumerate(rows)
        if r.device_id
    ]


async def execution_status(
    session: AsyncSession, ctx: HubContext, instruction_id: str
) -> ExecutionStatus:
    """A member instruction's latest execution report; a VPP-level one sums its members.

    One source: the execution reports the edges sent (``dispatch/status``, stored in
    ``dispatch_executions``), never the live telemetry cache: what is shown is what the
    device did (the value it accepted, its measured power, the energy it delivered while
    the instruction was in force), as settlement will read it.
    """
    row = await session.get(DispatchInstruction, instruction_id)
    if row is None:
        raise NotFoundError(f"dispatch instruction {instruction_id} not found")
    children = (
        [row]
        if row.parent_id is not None
        else list(
            await session.scalars(
                select(DispatchInstruction).where(DispatchInstruction.parent_id == row.id)
            )
        )
    )
    now_ms = ctx.clock.now_ms()
    if not children or (row.target_power == 0 and row.requested_power != 0):
        # Nobody could take any of it: not "done" with a target of 0.
        return ExecutionStatus(
            instruction_id=row.id,
            status="rejected",
            actual_power=None,
            deviation=None,
            timestamp=dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC),
            target_power=row.requested_power,
            reason="no member could take any of it (offline, unbound or without headroom)",
        )
    statuses: list[str] = []
    actual = _Sum()
    applied = _Sum()
    energy = _Sum()
    started: dt.datetime | None = None
    latest = row.created_at
    reasons: list[str] = []
    for child in children:
        execution = await session.get(DispatchExecution, child.id)
        status = execution.status if execution is not None else "pending"
        if execution is not None:
            latest = max(latest, execution.updated_at)
            if execution.reason:
                reasons.append(execution.reason)
            actual.add(execution.p_actual_w)
            applied.add(execution.p_applied_w)
            energy.add(execution.energy_wh)
            if execution.started_at is not None:
                started = min(started or execution.started_at, execution.started_at)
        if _ms(child.end_time) <= now_ms and status == "pending":
            status = "expired"  # over, and no edge ever reported on it
        statuses.append(status)
    overall = _overall(statuses)
    actual_kw = actual.kilo()
    return ExecutionStatus(
        instruction_id=row.id,
        status=overall,
        actual_power=actual_kw,
        deviation=None if actual_kw is None else round(actual_kw - row.target_power, 3),
        timestamp=max(latest, dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)),
        target_power=row.target_power,
        reason="; ".join(sorted(set(reasons))),
        applied_power=applied.kilo(),
        delivered_energy=energy.kilo(),
        started_time=started,
    )


class _Sum:
    """A sum over members that is None until one of them reported a value (W or Wh)."""

    def __init__(self) -> None:
        self.total: float | None = None

    def add(self, value: float | None) -> None:
        if value is not None:
            self.total = (self.total or 0.0) + value

    def kilo(self) -> float | None:
        """The sum in kW / kWh, rounded to the watt (watt-hour)."""
        return None if self.total is None else round(self.total / 1000.0, 3)


_ORDER = (
    "rejected",
    "failed",
    "clamped",
    "pending",
    "accepted",
    "executing",
    "superseded",
    "expired",
    "done",
)


def _overall(statuses: list[str]) -> str:
    """The least advanced member status speaks for the whole (rejected first)."""
    if not statuses:
        return "done"
    for status in _ORDER:
        if status in statuses:
            return status
    return statuses[0]
