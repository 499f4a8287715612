"""Execution status: the edges' reports recorded against the instructions they execute
(:func:`record_status`, called by ingest for every ``dispatch/status``), and read back
(:func:`execution_status`).

A device that several VPPs dispatch executes the sum of their targets and reports against
one instruction (the newest contributing one): the report is recorded for every member
instruction in that sum, its power and energy split in proportion to their targets.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFoundError
from hub.store import DispatchExecution, DispatchInstruction, DispatchStatusEvent, dialect_insert
from protocol import DispatchStatus

from ._schedule import PendingTarget, device_sums
from ._schemas import ExecutionStatus

if TYPE_CHECKING:
    from hub._context import HubContext


def _ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


async def record_status(session: AsyncSession, st: DispatchStatus) -> bool:
    """Store one ``dispatch/status`` report and update the executions it is about, in the
    caller's transaction. False when it was a duplicate (already stored)."""
    result = await session.execute(
        dialect_insert(session, DispatchStatusEvent)
        .values(
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
    if instruction is None or instruction.edge_id != st.edge:
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
