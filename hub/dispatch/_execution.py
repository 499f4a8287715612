"""Execution status: the edges' reports recorded against the instructions they execute
(:func:`record_status`, called by ingest for every ``dispatch/status``), and read back
(:func:`execution_status`).

A device that several VPPs dispatch executes the sum of their targets and reports against
one instruction (the newest contributing one): the report is recorded for every member
instruction in that sum, its power and energy split in proportion to their targets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFoundError
from hub.store import (
    DispatchExecution,
    DispatchInstruction,
    DispatchStatusEvent,
    dialect_insert,
    remembered,
)
from protocol import DispatchStatus

from ._schedule import PendingTarget, device_sums
from ._schemas import ExecutionStatus

if TYPE_CHECKING:
    from hub._context import HubContext


def _ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


async def record_status(session: AsyncSession, tenant: str, st: DispatchStatus) -> bool:
    """Store one ``dispatch/status`` report of ``tenant``'s edge ``st.edge`` and update the
    executions it is about (only instructions of that edge), in the caller's transaction.
    False when it was a duplicate (already stored)."""
    result = await session.execute(
        dialect_insert(session, DispatchStatusEvent)
        .values(
            tenant=tenant,
            edge_id=st.edge,
            sid=st.sid,
            seq=st.seq,
            ts_ms=st.ts_ms,
            schedule_id=st.schedule_id,
            version=st.version,
            status=st.status,
            reason=st.reason,
            device_id=st.device,
            instruction_id=st.instruction_id,
            p_applied_w=st.p_applied_w,
            p_actual_w=st.p_actual_w,
            deviation_w=st.deviation_w,
            energy_wh=st.energy_wh,
            started_ts_ms=st.started_ts_ms,
        )
        .on_conflict_do_nothing()
    )
    if not getattr(result, "rowcount", 1):
        return False
    if not st.instruction_id:
        return True
    instruction = await session.get(DispatchInstruction, st.instruction_id)
    if instruction is None or (instruction.edge_tenant, instruction.edge_id) != (tenant, st.edge):
        return True
    for instruction_id, share in await _contributors(session, instruction, st.ts_ms):
        await _apply(session, instruction_id, st, share)
    return True


async def _contributors(
    session: AsyncSession, instruction: DispatchInstruction, ts_ms: int
) -> list[tuple[str, float]]:
    """``(instruction id, share)`` of the member instructions whose sum the device held
    when it reported (within the reported instruction's period); the reported one alone
    (share 1) when nothing else was summed with it."""
    alone = [(instruction.id, 1.0)]
    if instruction.parent_id is None or instruction.device_id is None:
        return alone
    start, end = _ms(instruction.start_time), _ms(instruction.end_time)
    at = max(min(ts_ms, end - 1), start)
    rows = await session.scalars(
        select(DispatchInstruction)
        .where(
            DispatchInstruction.edge_tenant == instruction.edge_tenant,
            DispatchInstruction.edge_id == instruction.edge_id,
            DispatchInstruction.device_id == instruction.device_id,
            DispatchInstruction.parent_id.is_not(None),
            DispatchInstruction.start_time <= _utc(at),
            DispatchInstruction.end_time > _utc(at),
        )
        .order_by(DispatchInstruction.created_at, DispatchInstruction.id)
    )
    targets = [
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
    ]
    piece = next((s for s in device_sums(targets, at) if s.start_ts_ms <= at < s.end_ts_ms), None)
    if piece is None or len(piece.parts) < 2:
        return alone
    if instruction.id not in {p.instruction_id for p in piece.parts}:
        return alone
    total = piece.p_target_w
    if abs(total) < 1e-9:
        return [(p.instruction_id, 1.0 / len(piece.parts)) for p in piece.parts]
    return [(p.instruction_id, p.p_target_w / total) for p in piece.parts]


def _part(value: float | None, share: float) -> float | None:
    return None if value is None else value * share


async def _apply(
    session: AsyncSession, instruction_id: str, st: DispatchStatus, share: float
) -> None:
    execution = await session.get(DispatchExecution, instruction_id)
    if execution is None:
        execution = DispatchExecution(instruction_id=instruction_id)
        session.add(execution)
    elif execution.status != "pending" and st.ts_ms < _ms(execution.updated_at):
        return  # replayed backlog (hist) older than what the execution already shows
    execution.status = st.status
    execution.reason = st.reason
    execution.schedule_id = st.schedule_id
    execution.schedule_version = st.version
    if st.p_applied_w is not None:
        execution.p_applied_w = _part(st.p_applied_w, share)
    if st.p_actual_w is not None:
        execution.p_actual_w = _part(st.p_actual_w, share)
    if st.deviation_w is not None:
        execution.deviation_w = _part(st.deviation_w, share)
    if st.energy_wh is not None:
        execution.energy_wh = _part(st.energy_wh, share)
    if st.started_ts_ms is not None:
        execution.started_at = _utc(st.started_ts_ms)
    if st.status in {"failed", "rejected"}:
        # Nothing of this report was applied: what the device holds is not known
        # from it (a refused write leaves the previous value, if any).
        execution.deviation_w = None
    execution.updated_at = _utc(st.ts_ms)


class _Group(NamedTuple):
    """Members of one instruction that share a reported status, an end and a reason, with
    their sums (None when none of them reported the value)."""

    status: str  # "pending" when no edge reported on them yet
    end_time: dt.datetime
    reason: str
    members: int
    p_actual_w: float | None
    p_applied_w: float | None
    energy_wh: float | None
    started_at: dt.datetime | None
    updated_at: dt.datetime | None


class _Facts(NamedTuple):
    """What the database says about one instruction (what :func:`execution_status` reads,
    kept in ``ctx.reads`` until ``dispatch_instructions`` or ``dispatch_executions`` is
    written): everything but the clock."""

    id: str
    target_power: float
    requested_power: float
    created_at: dt.datetime
    groups: tuple[_Group, ...]


_HEADER = select(
    DispatchInstruction.id,
    DispatchInstruction.parent_id,
    DispatchInstruction.target_power,
    DispatchInstruction.requested_power,
    DispatchInstruction.created_at,
).where(DispatchInstruction.id == bindparam("instruction_id"))


_GroupRow = Select[
    str,
    dt.datetime,
    str,
    int,
    float | None,
    float | None,
    float | None,
    dt.datetime | None,
    dt.datetime | None,
]


def _groups_of(member: ColumnElement[bool]) -> _GroupRow:
    """The members (``member``: which instruction rows) grouped by what the status needs,
    their executions summed in the database: one query and a handful of rows, however
    many members a VPP-level instruction has."""
    status = func.coalesce(DispatchExecution.status, "pending")
    reason = func.coalesce(DispatchExecution.reason, "")
    return (
        select(
            status,
            DispatchInstruction.end_time,
            reason,
            func.count(),
            func.sum(DispatchExecution.p_actual_w),
            func.sum(DispatchExecution.p_applied_w),
            func.sum(DispatchExecution.energy_wh),
            func.min(DispatchExecution.started_at),
            func.max(DispatchExecution.updated_at),
        )
        .select_from(DispatchInstruction)
        .outerjoin(DispatchExecution, DispatchExecution.instruction_id == DispatchInstruction.id)
        .where(member)
        .group_by(status, DispatchInstruction.end_time, reason)
    )


_CHILDREN = _groups_of(DispatchInstruction.parent_id == bindparam("instruction_id"))
_ITSELF = _groups_of(DispatchInstruction.id == bindparam("instruction_id"))


async def _facts(session: AsyncSession, ctx: HubContext, instruction_id: str) -> _Facts:
    """The instruction's row and its members' executions, grouped (two statements), kept
    in ``ctx.reads`` until one of their tables is written (404 when there is none)."""

    async def read(on: AsyncSession) -> _Facts:
        params = {"instruction_id": instruction_id}
        row = (await on.execute(_HEADER, params)).first()
        if row is None:
            raise NotFoundError(f"dispatch instruction {instruction_id} not found")
        rid, parent_id, target, requested, created = row
        groups = await on.execute(_CHILDREN if parent_id is None else _ITSELF, params)
        return _Facts(
            id=rid,
            target_power=target,
            requested_power=requested,
            created_at=created,
            groups=tuple(_Group._make(g) for g in groups),
        )

    key = ("execution-facts", instruction_id)
    return await remembered(ctx.reads, key, read, session, volatile=False)


async def execution_status(
    session: AsyncSession, ctx: HubContext, instruction_id: str
) -> ExecutionStatus:
    """A member instruction's latest execution report; a VPP-level one sums its members.

    One source: the execution reports the edges sent (``dispatch/status``, stored in
    ``dispatch_executions``), never the live telemetry cache: what is shown is what the
    device did (the value it accepted, its measured power, the energy it delivered while
    the instruction was in force), as settlement will read it. The rows are read grouped
    (:func:`_facts`, kept until a dispatch table is written); what depends on the hub
    clock (``expired``, the timestamp) is worked out per request.
    """
    facts = await _facts(session, ctx, instruction_id)
    now_ms = ctx.clock.now_ms()
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    if not facts.groups or (facts.target_power == 0 and facts.requested_power != 0):
        # Nobody could take any of it: not "done" with a target of 0.
        return ExecutionStatus(
            instruction_id=facts.id,
            status="rejected",
            actual_power=None,
            deviation=None,
            timestamp=now,
            target_power=facts.requested_power,
            reason="no member could take any of it (offline, unbound or without headroom)",
        )
    statuses: set[str] = set()
    actual = _Sum()
    applied = _Sum()
    energy = _Sum()
    started: dt.datetime | None = None
    latest = facts.created_at
    reasons: set[str] = set()
    for g in facts.groups:
        status = g.status
        if status == "pending" and _ms(g.end_time) <= now_ms:
            status = "expired"  # over, and no edge ever reported on it
        statuses.add(status)
        if g.reason:
            reasons.add(g.reason)
        actual.add(g.p_actual_w)
        applied.add(g.p_applied_w)
        energy.add(g.energy_wh)
        if g.started_at is not None:
            started = g.started_at if started is None else min(started, g.started_at)
        if g.updated_at is not None:
            latest = max(latest, g.updated_at)
    actual_kw = actual.kilo()
    return ExecutionStatus(
        instruction_id=facts.id,
        status=_overall(statuses),
        actual_power=actual_kw,
        deviation=None if actual_kw is None else round(actual_kw - facts.target_power, 3),
        timestamp=max(latest, now),
        target_power=facts.target_power,
        reason="; ".join(sorted(reasons)),
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


def _overall(statuses: Collection[str]) -> str:
    """The least advanced member status speaks for the whole (rejected first)."""
    if not statuses:
        return "done"
    for status in _ORDER:
        if status in statuses:
            return status
    return min(statuses)
