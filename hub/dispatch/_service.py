"""Dispatch: a :class:`DispatchPlan` -> member instructions -> per-edge schedules staged in
the outbox (published by :mod:`hub.dispatch._outbox`), and the execution status read back
from the edges' reports."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Final, NamedTuple, cast

import msgspec
from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    false,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import SYSTEM, Principal, audit, audit_row
from hub.errors import ConflictError, InvalidInputError
from hub.store import (
    DispatchExecution,
    DispatchInstruction,
    DispatchOutbox,
    Edge,
    dialect_insert,
    new_ids,
)
from hub.vpps import PowerRange, live_state, member_range, status_and_member_rows
from protocol import DispatchInterval, DispatchSchedule, encode

from . import _pg
from ._disaggregate import disaggregate
from ._plan import DispatchPlan, MemberShare, PlannedTarget, PlanOutcome, PlanTarget
from ._schedule import (
    BandViolation,
    PendingTarget,
    band_violations,
    build_intervals,
    sweep,
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


EdgeRef = tuple[str, str]
"""An edge: ``(tenant, edge id)``."""


async def ensure_edge(session: AsyncSession, *, tenant: str, edge_id: str) -> Edge:
    """The edge row, created on first sight for edges never registered with ``edge add``
    (with no MQTT credentials: its user name ``tenant/edge`` cannot log in)."""
    edge = await session.get(Edge, (tenant, edge_id))
    if edge is None:
        edge = Edge(
            id=edge_id,
            tenant=tenant,
            name="",
            mqtt_username=f"{tenant}/{edge_id}",
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


class _Vpp(NamedTuple):
    id: str
    status: str


class _Bound(NamedTuple):
    edge_tenant: str | None
    edge_id: str | None
    device_id: str | None


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
    # the VPP's status and its members' columns in one query (no ORM objects: this runs
    # on every dispatch)
    status, rows = await status_and_member_rows(session, plan.vpp_id)
    vpp = _Vpp(id=plan.vpp_id, status=status)
    if vpp.status != "ACTIVE":
        raise ConflictError(f"VPP {vpp.id} is {vpp.status}")
    now_ms = ctx.clock.now_ms()
    fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
    states = {
        r[0]: live_state(member, ctx.cache, fresh)
        for r, member in zip(rows, ctx.members.of(vpp.id, rows), strict=True)
    }
    instances = {r[0]: _Bound(edge_tenant=r[5], edge_id=r[6], device_id=r[7]) for r in rows}
    ranges: dict[str, PowerRange] = {}
    bands: dict[tuple[str, str, str], tuple[float, float, str]] = {}
    for rid, state in states.items():
        rng = member_range(state)
        inst = instances[rid]
        if (
            rng is not None
            and inst.edge_tenant is not None
            and inst.edge_id is not None
            and inst.device_id is not None
        ):
            ranges[rid] = rng
            # The device's own band (all of it, whatever share this VPP holds).
            whole = member_range(msgspec.structs.replace(state, allocation_ratio=1.0))
            assert whole is not None
            bands[(inst.edge_tenant, inst.edge_id, inst.device_id)] = (
                whole.lo_kw,
                whole.hi_kw,
                rid,
            )
    created_by = plan.created_by or who.username
    plan_columns = {
        "vpp_id": vpp.id,
        "created_by": created_by,
        "max_offline_s": plan.max_offline_s,
        "source": plan.source,
        "priority": plan.priority,
    }
    out: list[PlannedTarget] = []
    edges: set[EdgeRef] = set()
    touched: set[tuple[str, str, str]] = set()
    instructions: list[dict[str, Any]] = []
    executions: list[str] = []
    for index, item in enumerate(plan.targets):
        field = f"targets[{index}]"
        start, end = _period(item, now_ms, field)
        vpp_level = item.resource_id is None or item.resource_id == vpp.id
        shares, infeasible = _shares(item, vpp.id, vpp_level, set(states), ranges, field)
        parent_id, *child_ids = new_ids(1 + len(shares))  # in one go: one per member
        common = {"start_time": start, "end_time": end, **plan_columns}
        created_at = dt.datetime.now(dt.UTC)
        instructions.append(
            {
                "id": parent_id,
                "parent_id": None,
                "resource_id": None if vpp_level else item.resource_id,
                "edge_tenant": None,
                "edge_id": None,
                "device_id": None,
                "target_power": item.target_kw - infeasible,
                "requested_power": item.target_kw,
                "created_at": created_at,
                **common,
            }
        )
        members: list[MemberShare] = []
        for (rid, kw), child in zip(shares.items(), child_ids, strict=True):
            inst = instances[rid]
            instructions.append(
                {
                    "id": child,
                    "parent_id": parent_id,
                    "resource_id": rid,
                    "edge_tenant": inst.edge_tenant,
                    "edge_id": inst.edge_id,
                    "device_id": inst.device_id,
                    "target_power": kw,
                    "requested_power": kw,
                    "created_at": created_at,
                    **common,
                }
            )
            executions.append(child)
            assert inst.edge_tenant is not None
            assert inst.edge_id is not None
            assert inst.device_id is not None
            edges.add((inst.edge_tenant, inst.edge_id))
            touched.add((inst.edge_tenant, inst.edge_id, inst.device_id))
            members.append(
                MemberShare(
                    instruction_id=child,
                    resource_id=rid,
                    target_kw=round(kw, 3),
                    edge_tenant=inst.edge_tenant,
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
    audit_after = {
        "instructions": [i.instruction_id for i in out],
        "source": plan.source,
        "priority": plan.priority,
    }
    changed = await _write_plan(
        session,
        ctx,
        who,
        plan_columns,
        instructions,
        executions,
        audit_after,
        sorted(edges),
        now_ms,
        {k: v for k, v in bands.items() if k in touched},
    )
    return PlanOutcome(vpp_id=vpp.id, targets=out, changed_edges=sorted(changed))


async def _write_plan(
    session: AsyncSession,
    ctx: HubContext,
    who: Principal,
    plan_columns: dict[str, Any],
    instructions: list[dict[str, Any]],
    executions: list[str],
    audit_after: dict[str, Any],
    edges: list[EdgeRef],
    now_ms: int,
    bands: dict[tuple[str, str, str], tuple[float, float, str]],
) -> list[EdgeRef]:
    """Store a plan's rows, lock the ``edges`` (sorted) it touches and stage their
    schedules; the changed edges."""
    vpp_id = plan_columns["vpp_id"]
    postgresql = _postgresql(session)
    stored: dict[EdgeRef, _Locked] | None = None
    if postgresql:
        # One statement: the rows of the three tables, and the edges locked
        stored = await _store_and_lock(
            session,
            plan_columns,
            instructions,
            audit_row(who, "execute_dispatch", "vpp", vpp_id, audit_after),
            edges,
        )
    else:
        # Core inserts, one statement a table (instructions before the executions that
        # reference them): a VPP of 50 members is 100 rows, too many ORM objects to track.
        await session.execute(insert(DispatchInstruction), instructions)
        if executions:
            await session.execute(
                insert(DispatchExecution),
                [{"instruction_id": i, "status": "pending"} for i in executions],
            )
    locked = await _lock_edges(session, edges, create_missing=True, locked=stored)
    changed = await _stage_locked(
        session, locked, now_ms, ctx.settings.schedule_expiry_s, bands=bands, for_vpp=vpp_id
    )
    if not postgresql:
        audit(session, who, "execute_dispatch", "vpp", vpp_id, None, audit_after)
    return changed


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class _Locked(NamedTuple):
    """A locked edge row: its schedule's digest and version."""

    digest: str | None
    version: int


async def _store_and_lock(
    session: AsyncSession,
    plan_columns: dict[str, Any],
    instructions: list[dict[str, Any]],
    audit_values: dict[str, Any],
    edges: list[EdgeRef],
) -> dict[EdgeRef, _Locked]:
    """PostgreSQL: a plan's instructions, executions and audit entry stored and the rows
    of ``edges`` (sorted) locked, in one statement (:data:`hub.dispatch._pg.STORE_AND_LOCK`);
    edges without a row are left out."""
    params = _pg.store_and_lock_params(
        plan_columns, instructions, audit_values, edges, dt.datetime.now(dt.UTC)
    )
    rows = await (await session.connection()).execute(_pg.STORE_AND_LOCK, params)
    return {(t, e): _Locked(digest, int(version or 0)) for t, e, digest, version in rows}


def _violation_message(
    edge: EdgeRef, v: BandViolation, band: tuple[float, float, str], vpp_id: str
) -> str:
    lo, hi, rid = band
    others = sorted(set(v.groups) - {vpp_id})
    return (
        f"device {v.device} on edge {edge[1]} of tenant {edge[0]} (resource {rid}) would be "
        f"asked for {v.p_target_w / 1000:.3f} kW from {_iso(v.start_ts_ms)} to "
        f"{_iso(v.end_ts_ms)}: the targets of VPP {vpp_id} and of VPP(s) "
        f"{', '.join(others) or '-'} add up outside its band [{lo:.3f}, {hi:.3f}] kW; "
        "nothing was stored"
    )


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


_instructions = cast(Table, DispatchInstruction.__table__)


def _pending_filter() -> tuple[ColumnElement[bool], ...]:
    """The member instructions of the edge ``:tenant``/``:edge`` that have not ended at
    ``:now`` (a schedule's content)."""
    return (
        _instructions.c.edge_tenant == bindparam("tenant"),
        _instructions.c.edge_id == bindparam("edge"),
        _instructions.c.end_time > bindparam("now", type_=_instructions.c.end_time.type),
        _instructions.c.parent_id.is_not(None),
        _instructions.c.device_id.is_not(None),
    )


_CONTENT = (
    select(
        _instructions.c.id,
        _instructions.c.device_id,
        _instructions.c.target_power,
        _instructions.c.start_time,
        _instructions.c.end_time,
        _instructions.c.vpp_id,
        _instructions.c.priority,
        # over every unfinished instruction, superseded or not (as before they were marked)
        select(func.min(_instructions.c.max_offline_s)).where(*_pending_filter()).scalar_subquery(),
    )
    .where(*_pending_filter(), _instructions.c.superseded == false())
    .order_by(_instructions.c.created_at, _instructions.c.id)
)
"""An edge's schedule content (see :func:`_content`): built once, so neither the
statement nor its cache key is made again on every dispatch."""

_CONTENT_PG = _CONTENT.add_columns(
    select(func.set_config("plan_cache_mode", "force_custom_plan", True)).scalar_subquery()
)
""":data:`_CONTENT` on PostgreSQL, which also sets ``plan_cache_mode`` to
``force_custom_plan`` for the rest of the transaction (``SET LOCAL``, undone at its end;
no round trip of its own), so the statements after it (:data:`hub.dispatch._pg.FINISH`)
are planned for the table as it is now. Measured: a connection's cached generic plan of
the ``superseded`` marks (``id = ANY(...)``), made while ``dispatch_instructions`` was
small (a new database, or before autovacuum's next ``ANALYZE``), scans the whole table,
which grows by a plan's rows with every plan: 2.5 -> 64 ms a plan over 600 plans. Only
from here on: forced from the start of the plan, the custom plans of the 50 foreign key
checks of the store cost ~3 ms of PostgreSQL CPU a plan."""


async def _content(
    session: AsyncSession, edge: EdgeRef, now_ms: int
) -> tuple[list[PendingTarget], float | None]:
    """An edge's schedule content: its pending targets (the member instructions that have
    not ended, oldest first) and the strictest ``max_offline_s`` among them (None, so the
    edge runs it through any outage, when none sets one).

    One Core statement of plain columns (:data:`_CONTENT`; no ORM objects nor ORM result
    processing: this runs under the edge's lock on every dispatch, over every unfinished
    instruction of the edge); the strictest ``max_offline_s`` comes along as an
    uncorrelated subquery, computed once."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    conn = await session.connection()
    statement = _CONTENT_PG if conn.dialect.name == "postgresql" else _CONTENT
    params = {"tenant": edge[0], "edge": edge[1], "now": now}
    rows = (await conn.execute(statement, params)).all()
    targets = [
        PendingTarget(
            instruction_id=iid,
            device=device,
            p_target_w=power * 1000.0,
            start_ts_ms=_ms(start),
            end_ts_ms=_ms(end),
            created_order=order,
            group=vpp_id,
            priority=priority,
        )
        for order, (iid, device, power, start, end, vpp_id, priority, *_) in enumerate(rows)
        if device
    ]
    max_offline_s = rows[0][7] if rows else None
    return targets, float(max_offline_s) if max_offline_s is not None else None


def _digest(intervals: list[DispatchInterval], max_offline_s: float | None) -> str:
    """What an edge's schedule says, for "has it changed". The first interval's start is
    left out: it is the earliest live instruction's start, or now once that has passed
    (the time line is cut from now on), so it moves with the clock alone; the targets,
    the instruction ids they carry and every other bound say the rest. With it, the
    schedule repair staged a new version of every edge with an instruction under way
    each time it ran."""
    content = intervals[:1] and [msgspec.structs.replace(intervals[0], start_ts_ms=0)]
    return hashlib.sha256(
        msgspec.json.encode(
            {"intervals": [*content, *intervals[1:]], "max_offline_s": max_offline_s}
        )
    ).hexdigest()


async def _lock(session: AsyncSession, keys: list[EdgeRef]) -> dict[EdgeRef, _Locked]:
    """Lock the rows of ``keys`` in key order: each one's schedule digest and version."""
    rows = await session.execute(
        select(Edge.tenant, Edge.id, Edge.schedule_digest, Edge.schedule_version)
        .where(tuple_(Edge.tenant, Edge.id).in_(keys))
        .order_by(Edge.tenant, Edge.id)
        .with_for_update()
    )
    return {(t, e): _Locked(digest, int(version or 0)) for t, e, digest, version in rows}


async def _create_and_lock(session: AsyncSession, missing: list[EdgeRef]) -> dict[EdgeRef, _Locked]:
    """Create the rows of edges never seen (as :func:`ensure_edge` does; ``ON CONFLICT DO
    NOTHING``, so two plans creating one edge at once both go on) and lock them."""
    await session.execute(
        dialect_insert(session, Edge)
        .values(
            [
                {
                    "tenant": tenant,
                    "id": edge_id,
                    "name": "",
                    "mqtt_username": f"{tenant}/{edge_id}",
                    "mqtt_password_hash": "",
                    "online": False,
                    "schedule_version": 0,
                }
                for tenant, edge_id in missing
            ]
        )
        .on_conflict_do_nothing()
    )
    return await _lock(session, missing)


async def _lock_edges(
    session: AsyncSession,
    edges: list[EdgeRef],
    *,
    create_missing: bool,
    locked: dict[EdgeRef, _Locked] | None = None,
) -> dict[EdgeRef, _Locked]:
    """Lock the rows of ``edges`` (sorted) in key order and return each one's schedule
    digest and version, in one ``SELECT ... FOR UPDATE`` (``locked``: the rows a statement
    of this transaction already locked, :func:`_store_and_lock`, so not again); with
    ``create_missing``, the edges never seen are created and locked too
    (:func:`_create_and_lock`). Edges without a row are left out."""
    if locked is None:
        locked = await _lock(session, edges) if edges else {}
    missing = [key for key in edges if key not in locked]
    if missing and create_missing:
        # Locked after the edges that existed (every caller locks those first, so no
        # two plans wait on each other's new rows); only on an edge's first plan
        locked |= await _create_and_lock(session, missing)
    return locked


async def stage_schedules(
    session: AsyncSession,
    edges: set[EdgeRef],
    now_ms: int,
    expiry_s: float,
    *,
    bands: dict[tuple[str, str, str], tuple[float, float, str]] | None = None,
    for_vpp: str = "",
    create_missing: bool = False,
) -> list[EdgeRef]:
    """Stage the schedule of each of ``edges`` (tenant, edge id) whose content changed: a
    new version (allocated in the database, so two hub processes never hand out the same
    one) and its payload in the outbox, in the caller's transaction. Returns the changed
    edges.

    The edges' rows are locked first (in key order), so concurrent plans on one edge are
    checked and versioned one after the other; with ``create_missing`` an edge never seen
    gets its row (:func:`ensure_edge`), else it is skipped. 409 when a schedule would hold
    more intervals than an edge accepts, or a device in ``bands`` (``(tenant, edge,
    device)`` -> ``(lo_kw, hi_kw, resource_id)``) would be asked for a sum outside its band.
    """
    if not edges:
        return []
    locked = await _lock_edges(session, sorted(edges), create_missing=create_missing)
    return await _stage_locked(session, locked, now_ms, expiry_s, bands=bands, for_vpp=for_vpp)


async def _stage_locked(
    session: AsyncSession,
    locked: dict[EdgeRef, _Locked],
    now_ms: int,
    expiry_s: float,
    *,
    bands: dict[tuple[str, str, str], tuple[float, float, str]] | None,
    for_vpp: str,
) -> list[EdgeRef]:
    """:func:`stage_schedules` of the edges in ``locked`` (their rows locked by this
    transaction). On PostgreSQL the marks, versions and outbox rows of every edge are one
    statement at the end (:data:`hub.dispatch._pg.FINISH`; a version is the locked row's
    plus one); on SQLite a statement each as they come (``UPDATE ... RETURNING``)."""
    postgresql = _postgresql(session)
    changed: list[EdgeRef] = []
    staged: list[dict[str, Any]] = []
    marks: list[str] = []
    created_at = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    for key in sorted(locked):
        tenant, edge_id = key
        pending, max_offline_s = await _content(session, key, now_ms)
        # one sweep for the marks, the band check and the intervals
        swept = sweep(pending, now_ms)
        if swept.superseded:
            # Marked in this transaction (rolled back with it when the plan is refused):
            # the edge's next plans no longer read them.
            if postgresql:
                marks += sorted(swept.superseded)
            else:
                await session.execute(
                    update(DispatchInstruction)
                    .where(DispatchInstruction.id.in_(sorted(swept.superseded)))
                    .values(superseded=True)
                    .execution_options(synchronize_session=False)
                )
        edge_bands = {
            device: (lo * 1000.0, hi * 1000.0)
            for (t, e, device), (lo, hi, _) in (bands or {}).items()
            if (t, e) == key
        }
        sums = swept.sums
        violations = band_violations(pending, edge_bands, now_ms, sums=sums)
        if violations and bands is not None:
            v = violations[0]
            band = bands[(tenant, edge_id, v.device)]
            raise ConflictError(_violation_message(key, v, band, for_vpp))
        intervals = build_intervals(pending, now_ms, sums=sums)
        if len(intervals) > MAX_INTERVALS:
            raise ConflictError(
                f"the schedule of edge {edge_id} of tenant {tenant} would have "
                f"{len(intervals)} intervals, more than the {MAX_INTERVALS} an edge accepts: "
                "dispatch fewer or longer instructions or wait for some to end"
            )
        digest = _digest(intervals, max_offline_s)
        if locked[key].digest == digest:
            continue
        if postgresql:
            version = locked[key].version + 1
        else:
            version = await _next_version(session, key, digest)
        schedule = _schedule(key, version, intervals, max_offline_s, now_ms, expiry_s)
        staged.append(
            {
                "edge_id": edge_id,
                "tenant": tenant,
                "version": schedule.version,
                "payload": encode(schedule),
                "created_at": created_at,
                "digest": digest,
            }
        )
        changed.append(key)
    if postgresql:
        if staged or marks:
            await (await session.connection()).execute(
                _pg.FINISH,
                {
                    "dropped": marks,
                    "tenants": [s["tenant"] for s in staged],
                    "edge_ids": [s["edge_id"] for s in staged],
                    "versions": [s["version"] for s in staged],
                    "digests": [s["digest"] for s in staged],
                    "payloads": [s["payload"] for s in staged],
                    "created_at": created_at,
                },
            )
    elif staged:
        await session.execute(
            insert(DispatchOutbox), [{k: v for k, v in s.items() if k != "digest"} for s in staged]
        )
    return changed


async def _next_version(session: AsyncSession, edge: EdgeRef, digest: str | None) -> int:
    """Allocate the edge's next schedule version (``UPDATE ... RETURNING``), storing the
    digest of its content (None: left as it is)."""
    tenant, edge_id = edge
    values: dict[str, Any] = {"schedule_version": Edge.schedule_version + 1}
    if digest is not None:
        values["schedule_digest"] = digest
    version = await session.scalar(
        update(Edge)
        .where(Edge.tenant == tenant, Edge.id == edge_id)
        .values(**values)
        .returning(Edge.schedule_version)
        .execution_options(synchronize_session=False)
    )
    return int(version or 1)


@functools.lru_cache(maxsize=4096)
def _schedule_id(edge_id: str) -> str:
    """The id of an edge's schedules (an edge only sees its own; kept from before edges
    were tenant-qualified, so an upgrade does not look like a new schedule). Kept: a
    SHA-1 and a UUID made on every plan."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lingtan:{edge_id}"))


def _schedule(
    edge: EdgeRef,
    version: int,
    intervals: list[DispatchInterval],
    max_offline_s: float | None,
    now_ms: int,
    expiry_s: float,
) -> DispatchSchedule:
    edge_id = edge[1]
    last_end = max((i.end_ts_ms for i in intervals), default=now_ms)
    return DispatchSchedule(
        id=_schedule_id(edge_id),
        version=version,
        edge=edge_id,
        issued_ts_ms=now_ms,
        expires_ts_ms=max(last_end, now_ms + int(expiry_s * 1000)),
        intervals=intervals,
        max_offline_s=max_offline_s,
    )


async def build_schedule(
    session: AsyncSession, edge: EdgeRef, now_ms: int, expiry_s: float
) -> DispatchSchedule | None:
    """Bump the schedule version of ``edge`` (tenant, edge id) and build its schedule from
    every member instruction that has not ended (whether or not it changed). None for an
    unknown edge.

    The schedule's ``max_offline_s`` is the smallest of its instructions' (the strictest
    wins); None, so the edge runs it through any outage, when none of them sets one.
    """
    exists = await session.scalar(select(Edge.id).where(Edge.tenant == edge[0], Edge.id == edge[1]))
    if exists is None:
        return None
    pending, max_offline_s = await _content(session, edge, now_ms)
    # stage_schedules refuses more; this only guards against rows written around it
    intervals = build_intervals(pending, now_ms)[:MAX_INTERVALS]
    version = await _next_version(session, edge, None)
    return _schedule(edge, version, intervals, max_offline_s, now_ms, expiry_s)
