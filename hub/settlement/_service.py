"""Settlement service (I/O): gather a VPP's day, settle it, store the statement, its lines
and the members' allocations, and move the day's ``trading_records`` to SETTLED.

:func:`settle_day` is the one use case (the singleton job and ``POST settlement/run`` both
call it), one transaction, idempotent: the inputs are hashed, and a day settled again with
the same inputs changes nothing (no write, no audit). New inputs (late meter data, a
corrected price) make a new revision of the same statement, audited with before/after.

Where the figures come from:

* cleared position: the day's ``trading_records`` (CLEARED or SETTLED) of the VPP and
  market, ``cleared_quantity`` kWh at ``cleared_price`` yuan/kWh (one line per slot, and
  product for ancillary records);
* trading rules and real-time prices: the connector the day was traded on (the records'
  bid submission; else the market type's active connector) and its stored market data
  (``market_data_points.realtime_price_yuan_mwh``); without them the defaults of
  :class:`~hub.markets.TradingRules` and no price (flagged); a run may pass both
  explicitly (``POST settlement/run``: published balancing prices); the ancillary product
  of a record comes from its submission's bid;
* delivery: each member's dispatch instructions in force during the slot and their
  execution reports (``dispatch_executions.energy_wh``, measured at the edge), split by
  time overlap; an instruction without a reported energy falls back to the device's
  metered power (telemetry ``p_w``, see :mod:`._meter`); a member not dispatched in a slot
  takes no part in it (0 committed, 0 delivered). Demand response: a dispatched member's
  delivery is its curtailment against its baseline (5 similar days, :mod:`._baseline`),
  from its metered consumption (telemetry ``p_w``, consumption = -p_w). A member share of
  the cleared position is its dispatch target's share (capacity x allocation ratio when
  nobody was dispatched).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import SYSTEM, Principal, audit
from hub.errors import InvalidInputError, NotFoundError
from hub.markets import MarketType, TradingRules
from hub.store import (
    BidSubmissionRow,
    DispatchExecution,
    DispatchInstruction,
    MarketConnectorRow,
    MarketDataPoint,
    ResourceInstance,
    ResourceMapping,
    SettlementAllocation,
    SettlementLine,
    SettlementStatement,
    Telemetry,
    TradingRecord,
    Vpp,
    new_id,
)

from ._allocate import METHODS, Allocation, MemberInput, allocate, largest_remainder
from ._baseline import LOOKBACK_DAYS, baseline
from ._meter import MAX_GAP_MS, day_start, integrate_kwh
from ._money import ROUNDING_RULE, cents, from_cents
from ._schemas import LineOut, MemberOut, StatementOut
from ._settle import COMPONENTS, DayStatement, SlotInput, SlotLine, Totals, settle

if TYPE_CHECKING:
    from hub._context import HubContext
    from hub.jobs import Lease

SETTLEABLE = ("CLEARED", "SETTLED")
_SLOT = re.compile(r"^(\d{1,2}):(\d{2})(?:\s*-\s*\d{1,2}:\d{2})?$")


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    statement_id: str
    changed: bool
    revision: int
    records_settled: int


def parse_slot(value: str | None, rules: TradingRules) -> int:
    """A ``time_slot`` (``"HH:MM-HH:MM"``, ``"HH:MM"`` or an index) as a slot index."""
    text = (value or "").strip()
    if text.isdigit():
        slot = int(text)
    elif match := _SLOT.match(text):
        minutes = int(match.group(1)) * 60 + int(match.group(2))
        slot = minutes // rules.slot_minutes
    else:
        raise InvalidInputError(f"trading record time_slot {value!r} names no slot")
    if not 0 <= slot < rules.slots_per_day:
        raise InvalidInputError(f"trading record time_slot {value!r} is outside the day")
    return slot


async def connector_of(
    session: AsyncSession, vpp_id: str, market_type: str, day: dt.date
) -> MarketConnectorRow | None:
    """The connector the day was traded on (through its records' bid submission), else
    the active connector of the market type (first by name)."""
    submission_id = await session.scalar(
        select(TradingRecord.submission_id)
        .where(
            TradingRecord.vpp_id == vpp_id,
            TradingRecord.market_type == market_type,
            TradingRecord.trading_date == day,
            TradingRecord.submission_id.is_not(None),
        )
        .limit(1)
    )
    if submission_id is not None:
        submission = await session.get(BidSubmissionRow, submission_id)
        if submission is not None:
            row = await session.get(MarketConnectorRow, submission.connector_id)
            if row is not None:
                return row
    return (
        await session.scalars(
            select(MarketConnectorRow)
            .where(
                MarketConnectorRow.market_type == market_type, MarketConnectorRow.status == "ACTIVE"
            )
            .order_by(MarketConnectorRow.name)
            .limit(1)
        )
    ).first()


def rules_of(connector: MarketConnectorRow | None) -> TradingRules:
    if connector is None or not connector.trading_rules:
        return TradingRules()
    return msgspec.convert(connector.trading_rules, TradingRules, strict=False)


async def realtime_prices(
    session: AsyncSession,
    connector: MarketConnectorRow | None,
    market_type: str,
    start: dt.datetime,
    rules: TradingRules,
) -> dict[int, float]:
    """Slot -> real-time price from the connector's stored market data (empty without)."""
    if connector is None:
        return {}
    end = start + dt.timedelta(minutes=rules.slot_minutes * rules.slots_per_day)
    rows = await session.execute(
        select(MarketDataPoint.slot_start, MarketDataPoint.realtime_price_yuan_mwh).where(
            MarketDataPoint.connector_id == connector.id,
            MarketDataPoint.market_type == market_type,
            MarketDataPoint.slot_start >= start,
            MarketDataPoint.slot_start < end,
            MarketDataPoint.realtime_price_yuan_mwh.is_not(None),
        )
    )
    out: dict[int, float] = {}
    for slot_start, price in rows:
        if price is not None:
            slot = int((slot_start - start).total_seconds() // (rules.slot_minutes * 60))
            out.setdefault(slot, price)
    return out


async def products_of(session: AsyncSession, records: Sequence[TradingRecord]) -> dict[str, str]:
    """Record id -> ancillary product, from the bids of the records' submissions."""
    ids = {r.submission_id for r in records if r.submission_id}
    out: dict[str, str] = {}
    for submission_id in sorted(ids):
        submission = await session.get(BidSubmissionRow, submission_id)
        for bid in (submission.bids if submission is not None else None) or []:
            if bid.get("record_id") and bid.get("product"):
                out[str(bid["record_id"])] = str(bid["product"])
    return out


class _Member:
    def __init__(self, resource: ResourceInstance, ratio: float, width: int) -> None:
        self.resource = resource
        self.weight = max(resource.capacity or 0.0, 0.0) * ratio
        self.raw = [0.0] * width
        self.delivered: list[float | None] = [0.0] * width
        self.dispatched = [False] * width


async def _telemetry_kwh(
    session: AsyncSession, resource: ResourceInstance, start: dt.datetime, end: dt.datetime
) -> float | None:
    if not resource.edge_id or not resource.device_id:
        return None
    s_ms, e_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    rows = await session.execute(
        select(Telemetry.ts_ms, Telemetry.value)
        .where(
            Telemetry.tenant == resource.edge_tenant,
            Telemetry.edge_id == resource.edge_id,
            Telemetry.device_id == resource.device_id,
            Telemetry.name == "p_w",
            Telemetry.ts_ms >= s_ms - 120_000,
            Telemetry.ts_ms < e_ms,
            Telemetry.value.is_not(None),
        )
        .order_by(Telemetry.ts_ms)
    )
    return integrate_kwh([(t, v) for t, v in rows if v is not None], s_ms, e_ms)


async def _members(
    session: AsyncSession,
    vpp_id: str,
    keys: Sequence[tuple[int, str]],
    start: dt.datetime,
    rules: TradingRules,
) -> list[_Member]:
    width = len(keys)
    slot_s = rules.slot_minutes * 60
    rows = await session.execute(
        select(ResourceInstance, ResourceMapping.allocation_ratio)
        .join(ResourceMapping, ResourceMapping.resource_id == ResourceInstance.id)
        .where(ResourceMapping.vpp_id == vpp_id)
    )
    members = {r.id: _Member(r, ratio, width) for r, ratio in rows}
    end = start + dt.timedelta(seconds=slot_s * rules.slots_per_day)
    instructions = await session.execute(
        select(DispatchInstruction, DispatchExecution)
        .outerjoin(DispatchExecution, DispatchExecution.instruction_id == DispatchInstruction.id)
        .where(
            DispatchInstruction.vpp_id == vpp_id,
            DispatchInstruction.parent_id.is_not(None),
            DispatchInstruction.start_time < end,
            DispatchInstruction.end_time > start,
        )
    )
    by_slot: dict[int, list[int]] = defaultdict(list)
    for i, (slot, _) in enumerate(keys):
        by_slot[slot].append(i)
    for instruction, execution in instructions:
        member = members.get(instruction.resource_id or "")
        if member is None:
            continue
        total_s = (instruction.end_time - instruction.start_time).total_seconds()
        first = int((instruction.start_time - start).total_seconds() // slot_s)
        last = math.ceil((instruction.end_time - start).total_seconds() / slot_s)
        for slot in range(max(first, 0), min(last, rules.slots_per_day)):
            indexes = by_slot.get(slot)
            if not indexes:
                continue
            s0 = start + dt.timedelta(seconds=slot * slot_s)
            s1 = s0 + dt.timedelta(seconds=slot_s)
            lo, hi = max(s0, instruction.start_time), min(s1, instruction.end_time)
            overlap = (hi - lo).total_seconds()
            if overlap <= 0 or total_s <= 0:
                continue
            if execution is not None and execution.energy_wh is not None:
                kwh: float | None = execution.energy_wh / 1000 * overlap / total_s
            else:
                kwh = await _telemetry_kwh(session, member.resource, lo, hi)
            for i in indexes:
                member.raw[i] += instruction.target_power * overlap / 3600
                member.dispatched[i] = True
                previous = member.delivered[i]
                member.delivered[i] = None if kwh is None or previous is None else previous + kwh
    for member in members.values():  # undispatched slots take no part
        for i, dispatched in enumerate(member.dispatched):
            if not dispatched:
                member.delivered[i] = 0.0
    return sorted(members.values(), key=lambda m: m.resource.id)


async def _power_points(
    session: AsyncSession, resource: ResourceInstance, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, float]]:
    if not resource.edge_id or not resource.device_id:
        return []
    s_ms, e_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    rows = await session.execute(
        select(Telemetry.ts_ms, Telemetry.value)
        .where(
            Telemetry.tenant == resource.edge_tenant,
            Telemetry.edge_id == resource.edge_id,
            Telemetry.device_id == resource.device_id,
            Telemetry.name == "p_w",
            Telemetry.ts_ms >= s_ms - MAX_GAP_MS,
            Telemetry.ts_ms < e_ms,
            Telemetry.value.is_not(None),
        )
        .order_by(Telemetry.ts_ms)
    )
    return [(t, v) for t, v in rows if v is not None]


async def _curtailments(
    session: AsyncSession,
    members: Sequence[_Member],
    vpp_id: str,
    day: dt.date,
    keys: Sequence[tuple[int, str]],
    rules: TradingRules,
) -> None:
    """Demand response: each dispatched member's delivery is its curtailment, baseline
    (:func:`~._baseline.baseline`, from its metered consumption on the previous similar
    days) - metered consumption, consumption = -p_w (generator convention); None where
    either is unknown."""
    events: set[dt.date] = {
        d
        for d in await session.scalars(
            select(TradingRecord.trading_date)
            .where(
                TradingRecord.vpp_id == vpp_id,
                TradingRecord.market_type == "DEMAND_RESPONSE",
                TradingRecord.status.in_(SETTLEABLE),
            )
            .distinct()
        )
        if d is not None
    }
    slot_ms = rules.slot_minutes * 60_000
    days = [day - dt.timedelta(days=back) for back in range(LOOKBACK_DAYS + 1)]
    first = day_start(days[-1], rules.timezone)
    last = day_start(day + dt.timedelta(days=1), rules.timezone)
    needed = sorted({slot for slot, _ in keys})
    for member in members:
        if not any(member.dispatched):
            continue
        points = await _power_points(session, member.resource, first, last)
        history: dict[dt.date, list[float | None]] = {}
        for d in days:
            base_ms = int(day_start(d, rules.timezone).timestamp() * 1000)
            series: list[float | None] = [None] * rules.slots_per_day
            for slot in needed:
                kwh = integrate_kwh(
                    points, base_ms + slot * slot_ms, base_ms + (slot + 1) * slot_ms
                )
                series[slot] = None if kwh is None else -kwh
            history[d] = series
        metered = history.pop(day)
        base = baseline(day, history, slots=rules.slots_per_day, event_days=events - {day})
        for i, (slot, _) in enumerate(keys):
            if member.dispatched[i]:
                b, m = base[slot], metered[slot]
                member.delivered[i] = None if b is None or m is None else b - m


def _split(total: float, weights: Sequence[float]) -> list[float]:
    s = sum(weights)
    if s == 0:
        return [total / len(weights)] * len(weights) if weights else []
    return [total * w / s for w in weights]


def _member_inputs(members: Sequence[_Member], cleared: Sequence[float]) -> list[MemberInput]:
    """Committed share per line (dispatch targets' shares; capacity x ratio when nobody
    was dispatched) and availability = share of the member's dispatched lines that were
    metered (0 for a member never dispatched that day: it took no part)."""
    if not members:
        return []
    width = len(cleared)
    committed = [[0.0] * width for _ in members]
    for i in range(width):
        raw = [m.raw[i] for m in members]
        shares = _split(cleared[i], raw if any(raw) else [m.weight for m in members])
        for j, share in enumerate(shares):
            committed[j][i] = share
    out = []
    for j, m in enumerate(members):
        metered = sum(1 for i in range(width) if m.delivered[i] is not None and m.dispatched[i])
        dispatched = sum(m.dispatched)
        out.append(
            MemberInput(
                resource_id=m.resource.id,
                committed_kwh=committed[j],
                delivered_kwh=m.delivered,
                capacity_kw=m.weight,
                availability=metered / dispatched if dispatched else 0.0,
            )
        )
    return out


async def gather(
    session: AsyncSession,
    vpp_id: str,
    market_type: MarketType,
    day: dt.date,
    rules: TradingRules,
    prices: dict[int, float],
    mileage: dict[int, float],
) -> tuple[list[SlotInput], list[MemberInput], list[TradingRecord], list[tuple[int, str]]]:
    records = list(
        await session.scalars(
            select(TradingRecord)
            .where(
                TradingRecord.vpp_id == vpp_id,
                TradingRecord.market_type == market_type,
                TradingRecord.trading_date == day,
                TradingRecord.status.in_(SETTLEABLE),
                TradingRecord.cleared_quantity.is_not(None),
            )
            .order_by(TradingRecord.id)
        )
    )
    products = await products_of(session, records)
    grouped: dict[tuple[int, str], list[TradingRecord]] = defaultdict(list)
    for record in records:
        grouped[(parse_slot(record.time_slot, rules), products.get(record.id, ""))].append(record)
    keys = sorted(grouped)
    start = day_start(day, rules.timezone)
    members = await _members(session, vpp_id, keys, start, rules)
    if market_type == "DEMAND_RESPONSE":
        await _curtailments(session, members, vpp_id, day, keys, rules)
    cleared = [sum(r.cleared_quantity or 0.0 for r in grouped[k]) for k in keys]
    inputs_members = _member_inputs(members, cleared)
    lines = []
    for i, key in enumerate(keys):
        rs = grouped[key]
        q = cleared[i]
        prices_kwh = [(r.cleared_price or 0.0, abs(r.cleared_quantity or 0.0)) for r in rs]
        weight = sum(w for _, w in prices_kwh)
        price = (
            sum(p * w for p, w in prices_kwh) / weight
            if weight
            else sum(p for p, _ in prices_kwh) / len(prices_kwh)
        )
        delivered = [m.delivered_kwh[i] for m in inputs_members]
        lines.append(
            SlotInput(
                slot=key[0],
                product=key[1] or None,  # type: ignore[arg-type]
                cleared_kwh=q,
                clearing_price_yuan_mwh=round(price * 1000, 6),
                delivered_kwh=None
                if any(d is None for d in delivered)
                else round(sum(d for d in delivered if d is not None), 6),
                realtime_price_yuan_mwh=prices.get(key[0]),
                mileage_mw=mileage.get(key[0]),
            )
        )
    return (
        lines,
        inputs_members,
        records,
        [(parse_slot(r.time_slot, rules), products.get(r.id, "")) for r in records],
    )


def _digest(*parts: Any) -> str:
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()


def _line_row(statement_id: str, line: SlotLine) -> SettlementLine:
    return SettlementLine(
        statement_id=statement_id,
        slot=line.slot,
        product=line.product or "",
        cleared_kwh=line.cleared_kwh,
        clearing_price_yuan_mwh=line.clearing_price_yuan_mwh,
        delivered_kwh=line.delivered_kwh,
        deviation_kwh=line.deviation_kwh,
        realtime_price_yuan_mwh=line.realtime_price_yuan_mwh,
        **{f"{c}_cents": cents(v) for c, v in zip(COMPONENTS, line.components, strict=True)},
        total_cents=cents(line.total_yuan),
        flags=list(line.flags),
    )


def _allocation_rows(statement_id: str, allocation: Allocation) -> list[SettlementAllocation]:
    return [
        SettlementAllocation(
            statement_id=statement_id,
            method=allocation.method,
            resource_id=m.resource_id,
            amount_cents=cents(m.amount_yuan),
            penalty_cents=cents(m.penalty_yuan),
            share=m.share,
            weight=m.weight,
            committed_kwh=m.committed_kwh,
            delivered_kwh=m.delivered_kwh,
            capacity_kw=m.capacity_kw,
            availability=m.availability,
            missing_lines=m.missing_lines,
            standard_error_yuan=m.standard_error_yuan,
            half_width_yuan=m.half_width_yuan,
            explanation=m.explanation,
        )
        for m in allocation.members
    ]


def _summary(row: SettlementStatement) -> dict[str, Any]:
    return {
        "revision": row.revision,
        "total_yuan": str(from_cents(row.total_cents)),
        "penalty_yuan": str(from_cents(row.penalty_cents)),
        "complete": row.complete,
        "gap_slots": row.gap_slots,
    }


def _record_revenue(
    records: list[TradingRecord],
    keys: list[tuple[int, str]],
    statement: DayStatement,
) -> dict[str, Decimal]:
    """Each record's revenue: its line's total split by |cleared quantity| (largest
    remainder, so a line's records add up to it)."""
    by_key: dict[tuple[int, str], SlotLine] = {
        (line.slot, line.product or ""): line for line in statement.lines
    }
    grouped: dict[tuple[int, str], list[TradingRecord]] = defaultdict(list)
    for record, key in zip(records, keys, strict=True):
        grouped[key].append(record)
    out: dict[str, Decimal] = {}
    for key, rs in grouped.items():
        line = by_key[key]
        weights = [Fraction(abs(r.cleared_quantity or 0.0)) for r in rs]
        s = sum(weights, Fraction(0)) or Fraction(len(rs))
        if not any(weights):
            weights = [Fraction(1)] * len(rs)
        total = cents(line.total_yuan)
        for r, c in zip(
            rs, largest_remainder(total, [total * w / s for w in weights]), strict=True
        ):
            out[r.id] = from_cents(c)
    return out


async def settle_day(
    ctx: HubContext,
    vpp_id: str,
    market_type: MarketType,
    day: dt.date,
    *,
    actor: Principal = SYSTEM,
    rules: TradingRules | None = None,
    realtime: dict[int, float] | None = None,
    mileage: dict[int, float] | None = None,
    lease: Lease | None = None,
) -> Outcome:
    """Settle one VPP's day in one market (see the module docstring); idempotent."""
    async with ctx.sessions() as session:
        if await session.get(Vpp, vpp_id) is None:
            raise NotFoundError(f"VPP {vpp_id} not found", field="vpp_id")
        connector = await connector_of(session, vpp_id, market_type, day)
        rules = rules or rules_of(connector)
        start = day_start(day, rules.timezone)
        stored = await realtime_prices(session, connector, market_type, start, rules)
        prices = {**stored, **(realtime or {})}
        lines, members, records, keys = await gather(
            session, vpp_id, market_type, day, rules, prices, mileage or {}
        )
        digest = _digest(lines, members, rules, [r.id for r in records])
        existing = (
            await session.scalars(
                select(SettlementStatement).where(
                    SettlementStatement.vpp_id == vpp_id,
                    SettlementStatement.market_type == market_type,
                    SettlementStatement.trading_date == day,
                )
            )
        ).one_or_none()
        if existing is not None and existing.digest == digest:
            return Outcome(
                statement_id=existing.id, changed=False, revision=existing.revision,
                records_settled=0,
            )  # fmt: skip
        statement = settle(vpp_id, market_type, day, lines, rules)
        allocations = [allocate(statement, lines, members, m, rules) for m in METHODS]
        before = None if existing is None else _summary(existing)
        row = existing or SettlementStatement(id=new_id(), vpp_id=vpp_id, market_type=market_type,
                                              trading_date=day, revision=0)  # fmt: skip
        _fill(row, statement, rules, digest, actor, ctx)
        if existing is None:
            session.add(row)
            await session.flush()
        else:
            await session.execute(
                delete(SettlementLine).where(SettlementLine.statement_id == row.id)
            )
            await session.execute(
                delete(SettlementAllocation).where(SettlementAllocation.statement_id == row.id)
            )
        session.add_all([_line_row(row.id, line) for line in statement.lines])
        for allocation in allocations:
            session.add_all(_allocation_rows(row.id, allocation))
        revenue = _record_revenue(records, keys, statement)
        for record in records:
            record.status = "SETTLED"
            record.revenue = float(revenue[record.id])
        audit(
            session, actor, "settlement.settle", "settlement_statement", row.id, before,
            {**_summary(row), "trading_records": sorted(revenue)},
        )  # fmt: skip
        if lease is not None:
            await lease.check(session)
        await session.commit()
        return Outcome(
            statement_id=row.id, changed=True, revision=row.revision, records_settled=len(records)
        )


def _fill(
    row: SettlementStatement,
    statement: DayStatement,
    rules: TradingRules,
    digest: str,
    actor: Principal,
    ctx: HubContext,
) -> None:
    t: Totals = statement.totals
    row.revision = (row.revision or 0) + 1
    row.digest = digest
    row.complete = statement.complete
    row.gap_slots = list(statement.gap_slots)
    row.energy_cents = cents(t.energy_yuan)
    row.deviation_cents = cents(t.deviation_yuan)
    row.penalty_cents = cents(t.penalty_yuan)
    row.availability_cents = cents(t.availability_yuan)
    row.mileage_cents = cents(t.mileage_yuan)
    row.dr_cents = cents(t.dr_yuan)
    row.total_cents = cents(t.total_yuan)
    row.cleared_kwh = t.cleared_kwh
    row.delivered_kwh = t.delivered_kwh
    row.rules = msgspec.to_builtins(rules)
    row.rounding = ROUNDING_RULE
    row.settled_at = dt.datetime.fromtimestamp(ctx.clock.now_ms() / 1000, dt.UTC)
    row.settled_by = actor.username


# --------------------------------------------------------------------------- reads


def statement_out(
    row: SettlementStatement,
    rules: TradingRules | None = None,
    lines: Sequence[SettlementLine] | None = None,
    allocations: Sequence[SettlementAllocation] | None = None,
) -> StatementOut:
    rules = rules or msgspec.convert(row.rules, TradingRules)
    by_method: dict[str, list[MemberOut]] | None = None
    if allocations is not None:
        by_method = {}
        for a in sorted(allocations, key=lambda a: (a.method, a.resource_id)):
            by_method.setdefault(a.method, []).append(
                MemberOut(
                    resource_id=a.resource_id,
                    method=a.method,
                    amount_yuan=from_cents(a.amount_cents),
                    share=a.share,
                    weight=a.weight,
                    committed_kwh=a.committed_kwh,
                    delivered_kwh=a.delivered_kwh,
                    penalty_yuan=from_cents(a.penalty_cents),
                    capacity_kw=a.capacity_kw,
                    availability=a.availability,
                    missing_lines=a.missing_lines,
                    standard_error_yuan=a.standard_error_yuan,
                    half_width_yuan=a.half_width_yuan,
                    explanation=a.explanation,
                )
            )
    return StatementOut(
        id=row.id,
        vpp_id=row.vpp_id,
        market_type=row.market_type,
        trading_date=row.trading_date,
        revision=row.revision,
        complete=row.complete,
        gap_slots=list(row.gap_slots),
        **_money(row),
        cleared_kwh=row.cleared_kwh,
        delivered_kwh=row.delivered_kwh,
        rounding=row.rounding,
        settled_at=row.settled_at,
        settled_by=row.settled_by,
        lines=None
        if lines is None
        else [
            LineOut(
                slot=line.slot,
                time_slot=_time_slot(line.slot, rules),
                product=line.product or None,
                cleared_kwh=line.cleared_kwh,
                clearing_price_yuan_mwh=line.clearing_price_yuan_mwh,
                delivered_kwh=line.delivered_kwh,
                deviation_kwh=line.deviation_kwh,
                realtime_price_yuan_mwh=line.realtime_price_yuan_mwh,
                **_money(line),
                flags=list(line.flags),
            )
            for line in sorted(lines, key=lambda x: (x.slot, x.product))
        ],
        allocations=by_method,
    )


_MONEY = ("energy", "deviation", "penalty", "availability", "mileage", "dr", "total")
"""The amounts a statement and each of its lines carry, as ``*_cents`` columns."""


def _money(row: Any) -> dict[str, Decimal]:
    """``{energy_yuan: ..., total_yuan: ...}`` of a statement or line row's cents."""
    return {f"{name}_yuan": from_cents(getattr(row, f"{name}_cents")) for name in _MONEY}


def _time_slot(slot: int, rules: TradingRules) -> str:
    start = slot * rules.slot_minutes
    end = start + rules.slot_minutes
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


async def read_statement(session: AsyncSession, statement_id: str) -> StatementOut:
    row = await session.get(SettlementStatement, statement_id)
    if row is None:
        raise NotFoundError(f"statement {statement_id} not found", field="statement_id")
    lines = list(
        await session.scalars(select(SettlementLine).where(SettlementLine.statement_id == row.id))
    )
    allocations = list(
        await session.scalars(
            select(SettlementAllocation).where(SettlementAllocation.statement_id == row.id)
        )
    )
    return statement_out(row, lines=lines, allocations=allocations)


async def list_statements(
    session: AsyncSession,
    *,
    vpp_id: str | None,
    market_type: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> list[StatementOut]:
    query = select(SettlementStatement)
    if vpp_id:
        query = query.where(SettlementStatement.vpp_id == vpp_id)
    if market_type:
        query = query.where(SettlementStatement.market_type == market_type)
    if start:
        query = query.where(SettlementStatement.trading_date >= start)
    if end:
        query = query.where(SettlementStatement.trading_date <= end)
    rows = await session.scalars(
        query.order_by(SettlementStatement.trading_date, SettlementStatement.market_type)
    )
    return [statement_out(r) for r in rows]


# --------------------------------------------------------------------------- the job


async def due_days(session: AsyncSession, today: dt.date) -> list[tuple[str, str, dt.date]]:
    """(VPP, market, day) with CLEARED records on a day before ``today``."""
    rows = await session.execute(
        select(TradingRecord.vpp_id, TradingRecord.market_type, TradingRecord.trading_date)
        .where(
            TradingRecord.status == "CLEARED",
            TradingRecord.trading_date < today,
            TradingRecord.market_type.is_not(None),
        )
        .distinct()
    )
    return sorted((v, m, d) for v, m, d in rows if m and d)


async def settle_due(ctx: HubContext, lease: Lease) -> None:
    """One pass of the settlement job: every day with cleared, unsettled records whose
    day is over (in the market's time zone, by the hub's clock) is settled."""
    async with ctx.sessions() as session:
        now = dt.datetime.fromtimestamp(ctx.clock.now_ms() / 1000, dt.UTC)
        today = now.astimezone(ZoneInfo(TradingRules().timezone)).date()
        days = await due_days(session, today)
    for vpp_id, market_type, day in days:
        if market_type not in ("SPOT", "ANCILLARY", "CAPACITY", "DEMAND_RESPONSE"):
            continue
        await settle_day(ctx, vpp_id, market_type, day, lease=lease)  # type: ignore[arg-type]
