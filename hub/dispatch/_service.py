"""Dispatch: a :class:`DispatchPlan` -> member instructions -> per-edge schedules staged in
the outbox (published by :mod:`hub.dispatch._outbox`), and the execution status read back
from the edges' reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import SYSTEM, Principal, audit
from hub.errors import ConflictError, InvalidInputError
from hub.store import DispatchExecution, DispatchInstruction, DispatchOutbox, Edge, new_id
from hub.vpps import PowerRange, get_vpp, member_range, member_state, vpp_members
from protocol import DispatchInterval, DispatchSchedule, encode

from ._disaggregate import disaggregate
from ._plan import DispatchPlan, MemberShare, PlannedTarget, PlanOutcome, PlanTarget
from ._schedule import BandViolation, PendingTarget, band_violations, build_intervals

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
    item: PlanTarget,
    vpp_id: str,
    vpp_level: bool,
    members: set[str],
    ranges: dict[str, PowerRange],
    field: str,
) -> tuple[dict[str, float], float]:
    """Member shares (kW) of one target and the part nobody can take."""
    if vpp_level:
        result = disaggregate(item.target_kw, list(ranges.values()))
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
        clamped = min(max(item.target_kw, rng.lo_kw), rng.hi_kw)
        shares = {member_id: clamped}
        infeasible = item.target_kw - clamped
    return shares, infeasible


def _period(item: PlanTarget, now_ms: int, field: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of one target; the start within a year of now (an edge cannot
    decode timestamps beyond the protocol's range, and datetime overflows near 9999)."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    if item.start is None:
        start = now
    elif item.start.tzinfo is None:
        start = item.start.replace(tzinfo=dt.UTC)
    else:
        start = item.start
    if not now - START_WINDOW <= start <= now + START_WINDOW:
        raise InvalidInputError("start must be within 366 days of now", field=f"{field}.start")
    end = start + dt.timedelta(seconds=item.duration_s)
    if end <= now:
        raise InvalidInputError("the target ends in the past", field=f"{field}.start")
    return start, end


def _principal(plan: DispatchPlan, actor: Principal | None) -> Principal:
    """Who the audit log names: the REST caller, else the plan's source (a machine)."""
    if actor is not None:
        return actor
    name = plan.created_by or plan.source
    return Principal(user_id=SYSTEM.user_id, username=name, role=SYSTEM.role)


async def submit_plan(
    ctx: HubContext, plan: DispatchPlan, *, actor: Principal | None = None
) -> PlanOutcome:
    """The one dispatch seam: validate ``plan``, disaggregate its VPP-level targets over
    the members, store the instructions and stage each changed edge schedule in the outbox,
    all in one transaction; then wake the publisher. Manual REST dispatch, market awards,
    strategies, demand response and the backtest all call this.

    Refused (nothing stored): an unknown VPP (404) or an inactive one (409), a target
    outside the time window or of a non-member (422), a member not available (409), a
    schedule longer than an edge accepts (409), and targets of several VPPs on one device
    that add up outside its band (409, naming the device, its band and the VPPs).
    """
    async with ctx.sessions() as session:
        outcome = await _store_plan(session, ctx, plan, _principal(plan, actor))
        await session.commit()
    if ctx.publisher is not None:
        for edge in outcome.changed_edges:
            ctx.publisher.schedule_changed(edge)
    return outcome


async def _store_plan(
    session: AsyncSession, ctx: HubContext, plan: DispatchPlan, who: Principal
) -> PlanOutcome:
    vpp = await get_vpp(session, plan.vpp_id)
    if vpp.status != "ACTIVE":
        raise ConflictError(f"VPP {vpp.id} is {vpp.status}")
    now_ms = ctx.clock.now_ms()
    fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
    rows = await vpp_members(session, vpp.id)
    states = {i.id: member_state(i, t, m, ctx.cache, fresh) for m, i, t in rows}
    instances = {i.id: i for _, i, _ in rows}
    ranges: dict[str, PowerRange] = {}
    bands: dict[tuple[str, str], tuple[float, float, str]] = {}
    for rid, state in states.items():
        rng = member_range(state)
        inst = instances[rid]
        if rng is not None and inst.edge_id is not None and inst.device_id is not None:
            ranges[rid] = rng
            # The device's own band (all of it, whatever share this VPP holds).
            whole = member_range(msgspec.structs.replace(state, allocation_ratio=1.0))
            assert whole is not None
            bands[(inst.edge_id, inst.device_id)] = (whole.lo_kw, whole.hi_kw, rid)
    created_by = plan.created_by or who.username
    out: list[PlannedTarget] = []
    edges: set[str] = set()
    touched: set[tuple[str, str]] = set()
    executions: list[DispatchExecution] = []
    for index, item in enumerate(plan.targets):
        field = f"targets[{index}]"
        start, end = _period(item, now_ms, field)
        parent_id = new_id()
        vpp_level = item.resource_id is None or item.resource_id == vpp.id
        shares, infeasible = _shares(item, vpp.id, vpp_level, set(states), ranges, field)
        common = {
            "vpp_id": vpp.id,
            "start_time": start,
            "end_time": end,
            "created_by": created_by,
            "max_offline_s": plan.max_offline_s,
            "source": plan.source,
            "priority": plan.priority,
        }
        session.add(
            DispatchInstruction(
                id=parent_id,
                parent_id=None,
                resource_id=None if vpp_level else item.resource_id,
                target_power=item.target_kw - infeasible,
                requested_power=item.target_kw,
                **common,
            )
        )
        members: list[MemberShare] = []
        for rid, kw in shares.items():
            inst = instances[rid]
            child = new_id()
            session.add(
                DispatchInstruction(
                    id=child,
                    parent_id=parent_id,
                    resource_id=rid,
                    edge_id=inst.edge_id,
                    device_id=inst.device_id,
                    target_power=kw,
                    requested_power=kw,
                    **common,
                )
            )
            executions.append(DispatchExecution(instruction_id=child, status="pending"))
            assert inst.edge_id is not None
            assert inst.device_id is not None
            edges.add(inst.edge_id)
            touched.add((inst.edge_id, inst.device_id))
            members.append(
                MemberShare(
                    instruction_id=child,
                    resource_id=rid,
                    target_kw=round(kw, 3),
                    edge_id=inst.edge_id,
                    device_id=inst.device_id,
                )
            )
        out.append(
            PlannedTarget(
                instruction_id=parent_id,
                resource_id=None if vpp_level else item.resource_id,
                target_kw=item.target_kw,
                feasible_kw=round(item.target_kw - infeasible, 3),
                infeasible_kw=round(infeasible, 3),
                start=start,
                end=end,
                members=members,
            )
        )
    await session.flush()  # instructions before the executions that reference them
    session.add_all(executions)
    for edge_id in edges:
        await ensure_edge(session, edge_id, ctx.settings.tenant)
    await session.flush()
    changed = await stage_schedules(
        session,
        edges,
        now_ms,
        ctx.settings.schedule_expiry_s,
        bands={k: v for k, v in bands.items() if k in touched},
        for_vpp=vpp.id,
    )
    audit(
        session,
        who,
        "execute_dispatch",
        "vpp",
        vpp.id,
        None,
        {
            "instructions": [i.instruction_id for i in out],
            "source": plan.source,
            "priority": plan.priority,
        },
    )
    return PlanOutcome(vpp_id=vpp.id, targets=out, changed_edges=sorted(changed))


def _violation_message(
    edge_id: str, v: BandViolation, band: tuple[float, float, str], vpp_id: str
) -> str:
    lo, hi, rid = band
    others = sorted(set(v.groups) - {vpp_id})
    return (
        f"device {v.device} on edge {edge_id} (resource {rid}) would be asked for "
        f"{v.p_target_w / 1000:.3f} kW from {_iso(v.start_ts_ms)} to {_iso(v.end_ts_ms)}: "
        f"the targets of VPP {vpp_id} and of VPP(s) {', '.join(others) or '-'} add up "
        f"outside its band [{lo:.3f}, {hi:.3f}] kW; nothing was stored"
    )


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


async def _content(
    session: AsyncSession, edge_id: str, now_ms: int
) -> tuple[list[PendingTarget], float | None]:
    """An edge's schedule content: its pending targets and the strictest ``max_offline_s``
    among them (None, so the edge runs it through any outage, when none sets one)."""
    pending = await _pending(session, edge_id, now_ms)
    strictest = await session.scalar(
        select(func.min(DispatchInstruction.max_offline_s)).where(*_pending_filter(edge_id, now_ms))
    )
    return pending, float(strictest) if strictest is not None else None


def _digest(intervals: list[DispatchInterval], max_offline_s: float | None) -> str:
    return hashlib.sha256(
        msgspec.json.encode({"intervals": intervals, "max_offline_s": max_offline_s})
    ).hexdigest()


async def stage_schedules(
    session: AsyncSession,
    edges: set[str],
    now_ms: int,
    expiry_s: float,
    *,
    bands: dict[tuple[str, str], tuple[float, float, str]] | None = None,
    for_vpp: str = "",
) -> list[str]:
    """Stage the schedule of each of ``edges`` whose content changed: a new version
    (allocated in the database, so two hub processes never hand out the same one) and its
    payload in the outbox, in the caller's transaction. Returns the changed edges.

    The edges' rows are locked first (in id order), so concurrent plans on one edge are
    checked and versioned one after the other. 409 when a schedule would hold more
    intervals than an edge accepts, or a device in ``bands`` (``(edge, device)`` ->
    ``(lo_kw, hi_kw, resource_id)``) would be asked for a sum outside its band.
    """
    if not edges:
        return []
    ordered = sorted(edges)
    await session.execute(
        select(Edge.id).where(Edge.id.in_(ordered)).order_by(Edge.id).with_for_update()
    )
    changed: list[str] = []
    for edge_id in ordered:
        pending, max_offline_s = await _content(session, edge_id, now_ms)
        edge_bands = {
            device: (lo * 1000.0, hi * 1000.0)
            for (e, device), (lo, hi, _) in (bands or {}).items()
            if e == edge_id
        }
        violations = band_violations(pending, edge_bands, now_ms)
        if violations and bands is not None:
            v = violations[0]
            raise ConflictError(_violation_message(edge_id, v, bands[(edge_id, v.device)], for_vpp))
        intervals = build_intervals(pending, now_ms)
        if len(intervals) > MAX_INTERVALS:
            raise ConflictError(
                f"the schedule of edge {edge_id} would have {len(intervals)} intervals, more "
                f"than the {MAX_INTERVALS} an edge accepts: dispatch fewer or longer "
                "instructions or wait for some to end"
            )
        digest = _digest(intervals, max_offline_s)
        edge = await session.get(Edge, edge_id, populate_existing=True)
        if edge is None or edge.schedule_digest == digest:
            continue
        schedule, tenant = await _versioned(
            session, edge, intervals, max_offline_s, now_ms, expiry_s, digest
        )
        session.add(
            DispatchOutbox(
                edge_id=edge_id,
                tenant=tenant,
                version=schedule.version,
                payload=encode(schedule),
                created_at=dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC),
            )
        )
        changed.append(edge_id)
    await session.flush()
    return changed


async def _versioned(
    session: AsyncSession,
    edge: Edge,
    intervals: list[DispatchInterval],
    max_offline_s: float | None,
    now_ms: int,
    expiry_s: float,
    digest: str | None,
) -> tuple[DispatchSchedule, str]:
    """Allocate the edge's next schedule version (``UPDATE ... RETURNING``) and build it."""
    values: dict[str, Any] = {"schedule_version": Edge.schedule_version + 1}
    if digest is not None:
        values["schedule_digest"] = digest
    version = await session.scalar(
        update(Edge)
        .where(Edge.id == edge.id)
        .values(**values)
        .returning(Edge.schedule_version)
        .execution_options(synchronize_session=False)
    )
    last_end = max((i.end_ts_ms for i in intervals), default=now_ms)
    schedule = DispatchSchedule(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"lingtan:{edge.id}")),
        version=int(version or 1),
        edge=edge.id,
        issued_ts_ms=now_ms,
        expires_ts_ms=max(last_end, now_ms + int(expiry_s * 1000)),
        intervals=intervals,
        max_offline_s=max_offline_s,
    )
    return schedule, edge.tenant


async def build_schedule(
    session: AsyncSession, edge_id: str, now_ms: int, expiry_s: float
) -> tuple[DispatchSchedule, str] | None:
    """Bump the edge's schedule version and build its schedule from every member
    instruction that has not ended (whether or not it changed). Returns the schedule and
    the edge's tenant; None for an unknown edge.

    The schedule's ``max_offline_s`` is the smallest of its instructions' (the strictest
    wins); None, so the edge runs it through any outage, when none of them sets one.
    """
    edge = await session.get(Edge, edge_id)
    if edge is None:
        return None
    pending, max_offline_s = await _content(session, edge_id, now_ms)
    # stage_schedules refuses more; this only guards against rows written around it
    intervals = build_intervals(pending, now_ms)[:MAX_INTERVALS]
    return await _versioned(session, edge, intervals, max_offline_s, now_ms, expiry_s, None)


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
            group=r.vpp_id,
            priority=r.priority,
        )
        for order, r in enumerate(rows)
        if r.device_id
    ]
