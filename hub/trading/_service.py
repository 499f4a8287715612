"""Trading use cases (I/O): submit bids, read the clearing, turn awards into dispatch,
follow their execution, and the circuit breaker's state, one transaction per step.

A submission goes through :func:`submit_bids` whoever makes it (a trader's submit-bid or
the trading loop): checks that store nothing when they refuse (VPP active, connector,
the market's rules, duplicates, risk limits), then a PENDING ``bid_submissions`` row under
its idempotency key (unique per VPP, market, day and slot set) is committed *before* the
market is called. A restart or a retry therefore resends the same key (the market answers
``duplicate``) and never makes a second submission. On the market's answer the row turns
SUBMITTED and one ``trading_records`` row per bid is written (SUBMITTED); the market
refusing by its rules deletes the row again (nothing stored); a timeout or garbage leaves
it PENDING for the retry and counts against the VPP's breaker.

Every trading_records transition (created SUBMITTED, -> CLEARED, -> CANCELLED) is one
audit entry per record.

Safe dispatch (the breaker tripped): every awarded slot of the VPP still ahead is covered
by a VPP-level 0 kW plan at priority 1000 (``source="strategy"``, created by
``circuit-breaker``) through :func:`hub.dispatch.submit_plan`: the storage idles instead of
following its market plans, which stay stored (the position in the market is not undone;
its deviation settles at the balancing price).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import SYSTEM, Principal, audit
from hub.dispatch import DispatchPlan, PlanTarget, submit_plan
from hub.errors import ConflictError, HubError, InvalidInputError, NotFoundError, UnavailableError
from hub.markets import (
    BidRejectedError,
    BidSubmission,
    ClearingResult,
    ConnectorError,
    MarketBid,
    MarketType,
    StorageEnvelope,
    SubmissionReceipt,
    TradingRules,
)
from hub.markets._service import call_connector, rules_of
from hub.markets._validation import bid_rule_problems, day_start, gate_closure_at, slot_start
from hub.store import (
    BidSubmissionRow,
    BreakerEvent,
    BreakerStateRow,
    DispatchExecution,
    DispatchInstruction,
    MarketConnectorRow,
    MarketDataPoint,
    RiskLimitRow,
    TradingRecord,
    TradingStrategy,
    new_id,
)
from hub.vpps import MemberState, get_vpp, member_range, member_state, vpp_members

from ._risk import (
    BreakerCounters,
    Finding,
    RiskContext,
    RiskDecision,
    RiskLimits,
    Trip,
    breaker_trigger,
    pre_trade,
    record_call,
    slot_deviates,
)
from ._runtime import BreakerAlert, TradingRuntime
from ._units import format_time_slot, kw_to_kwh

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

LIVE = ("PENDING", "SUBMITTED", "CLEARED")
LOOP = Principal(user_id=SYSTEM.user_id, username="trading-loop", role="admin")
SAFE_PRIORITY = 1000
FOLLOW_GRACE_S = 120.0
"""How long after a slot ends the loop waits for the edges' final energy reports."""


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    """What a VPP can offer now (kW) and its storage's energy limits."""

    up_kw: float
    down_kw: float
    storage: StorageEnvelope | None


class SubmitRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A submission in hub units (kW, yuan/MWh)."""

    vpp_id: str
    market_type: MarketType
    trading_date: dt.date
    bids: Sequence[MarketBid]
    strategy_id: str | None = None
    market_id: str | None = None
    origin: Literal["api", "auto"] = "api"
    field_names: Sequence[str] = ()
    """The REST body's path of each bid (``bids[3]``), for problems naming the field."""


class SubmitOutcome(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    status: str
    duplicate: bool
    market_submission_id: str | None
    findings: list[Finding]
    bids: list[MarketBid]


def now_of(ctx: HubContext) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock.now(), dt.UTC)


def runtime_of(ctx: HubContext) -> TradingRuntime:
    if ctx.trading is None:
        ctx.trading = TradingRuntime()
    return ctx.trading


def idempotency_key(
    vpp_id: str, connector_id: str, trading_date: dt.date, bids: Sequence[MarketBid]
) -> str:
    """One key per VPP, market, day and set of (slot, side, product)."""
    slots = sorted({f"{b.slot}:{b.side}:{b.product or ''}" for b in bids})
    text = f"{vpp_id}|{connector_id}|{trading_date.isoformat()}|{','.join(slots)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _bid_dict(bid: MarketBid, record_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(bid)
    if record_id is not None:
        out["record_id"] = record_id
    return out


def _bids_of(row: BidSubmissionRow) -> list[MarketBid]:
    return [
        msgspec.convert({k: v for k, v in b.items() if k != "record_id"}, MarketBid)
        for b in row.bids
    ]


# --------------------------------------------------------------------------- context


async def choose_connector(
    session: AsyncSession, market_type: str, market_id: str | None
) -> MarketConnectorRow:
    if market_id is not None:
        row = await session.get(MarketConnectorRow, market_id)
        if row is None:
            raise NotFoundError(f"market connector {market_id} not found")
        if row.market_type != market_type:
            raise InvalidInputError(
                f"market connector {row.name} trades {row.market_type}, not {market_type}",
                field="market_type",
            )
    else:
        row = await session.scalar(
            select(MarketConnectorRow)
            .where(
                MarketConnectorRow.market_type == market_type,
                MarketConnectorRow.status == "ACTIVE",
            )
            .order_by(MarketConnectorRow.created_at, MarketConnectorRow.id)
            .limit(1)
        )
        if row is None:
            raise InvalidInputError(
                f"no active market connector trades {market_type} (rule market_connector)",
                field="market_type",
            )
    if row.status != "ACTIVE":
        raise ConflictError(f"market connector {row.name} is {row.status} (rule market_connector)")
    return row


def _storage_of(members: Sequence[MemberState]) -> StorageEnvelope | None:
    """The summed energy limits of the VPP's online storage (None without any). A
    battery whose SoC is unknown counts in the middle of its window."""
    energy = soc = soc_min = soc_max = 0.0
    weighted_eff = 0.0
    found = False
    for m in members:
        if m.category != "STORAGE" or m.status != "ONLINE" or not m.energy_kwh:
            continue
        found = True
        e = m.energy_kwh * m.allocation_ratio
        lo, hi = e * m.soc_min_pct / 100, e * m.soc_max_pct / 100
        pct = m.soc_pct if m.soc_pct is not None else (m.soc_min_pct + m.soc_max_pct) / 2
        energy += e
        soc_min += lo
        soc_max += hi
        soc += min(max(e * pct / 100, lo), hi)
        weighted_eff += e * m.efficiency
    if not found or energy <= 0:
        return None
    eff = min(max(weighted_eff / energy, 0.5), 1.0) ** 0.5  # round trip -> one way
    return StorageEnvelope(
        energy_kwh=energy,
        soc_start_kwh=soc,
        soc_min_kwh=soc_min,
        soc_max_kwh=soc_max,
        charge_efficiency=eff,
        discharge_efficiency=eff,
    )


async def vpp_capacity(session: AsyncSession, ctx: HubContext, vpp_id: str) -> Capacity:
    """The most the VPP can sell (up) and buy (down) in a slot: the sum of its available
    members' bands (a battery's whole band: its SoC is the storage envelope's business)."""
    fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
    members = [
        member_state(i, t, m, ctx.cache, fresh) for m, i, t in await vpp_members(session, vpp_id)
    ]
    up = down = 0.0
    for m in members:
        rng = member_range(msgspec.structs.replace(m, soc_pct=None))
        if rng is None:
            continue
        up += max(rng.hi_kw, 0.0)
        down += max(-rng.lo_kw, 0.0)
    return Capacity(up_kw=up, down_kw=down, storage=_storage_of(members))


async def committed_kw(
    session: AsyncSession, vpp_id: str, connector_id: str, day: dt.date, *, except_key: str = ""
) -> tuple[dict[int, float], dict[int, float], dict[tuple[int, str, str | None], str]]:
    """Sells and buys per slot already bid for the day (live submissions), and which
    submission holds each (slot, side, product)."""
    rows = await session.scalars(
        select(BidSubmissionRow).where(
            BidSubmissionRow.vpp_id == vpp_id,
            BidSubmissionRow.connector_id == connector_id,
            BidSubmissionRow.trading_date == day,
            BidSubmissionRow.status.in_(LIVE),
            BidSubmissionRow.idempotency_key != except_key,
        )
    )
    sells: dict[int, float] = {}
    buys: dict[int, float] = {}
    holders: dict[tuple[int, str, str | None], str] = {}
    for row in rows:
        for bid in _bids_of(row):
            holders[(bid.slot, bid.side, bid.product)] = row.id
            if bid.product is not None:
                continue
            book = sells if bid.side == "sell" else buys
            book[bid.slot] = book.get(bid.slot, 0.0) + bid.quantity_kw
    return sells, buys, holders


async def price_forecast(
    session: AsyncSession, row: MarketConnectorRow, rules: TradingRules, day: dt.date
) -> tuple[list[float | None], dt.datetime | None]:
    """Per slot of ``day``: the market's own figure for it when it has published one,
    else the same slot of the day before (persistence). With the newest fetch time."""
    start = day_start(rules, day - dt.timedelta(days=1))
    end = day_start(rules, day + dt.timedelta(days=1))
    points = await session.scalars(
        select(MarketDataPoint).where(
            MarketDataPoint.connector_id == row.id,
            MarketDataPoint.market_type == row.market_type,
            MarketDataPoint.slot_start >= start,
            MarketDataPoint.slot_start < end,
        )
    )
    by_start = {}
    newest: dt.datetime | None = None
    for p in points:
        by_start[p.slot_start] = p.price_yuan_mwh
        newest = p.fetched_at if newest is None else max(newest, p.fetched_at)
    out: list[float | None] = []
    day_length = dt.timedelta(minutes=rules.slot_minutes * rules.slots_per_day)
    for slot in range(rules.slots_per_day):
        at = slot_start(rules, day, slot)
        out.append(by_start.get(at, by_start.get(at - day_length)))
    return out, newest


async def load_limits(session: AsyncSession, vpp_id: str) -> RiskLimits:
    row = await session.get(RiskLimitRow, vpp_id)
    return RiskLimits() if row is None else msgspec.convert(row.limits, RiskLimits)


async def save_limits(
    session: AsyncSession, vpp_id: str, limits: RiskLimits, who: Principal
) -> RiskLimits:
    await get_vpp(session, vpp_id)
    row = await session.get(RiskLimitRow, vpp_id)
    before = None if row is None else dict(row.limits)
    after: dict[str, Any] = msgspec.to_builtins(limits)
    if row is None:
        session.add(RiskLimitRow(vpp_id=vpp_id, limits=after, updated_by=who.username))
    else:
        row.limits = after
        row.updated_by = who.username
    audit(session, who, "set_risk_limits", "vpp", vpp_id, before, after)
    await session.commit()
    return limits


# --------------------------------------------------------------------------- submission


def _rule_error(problems: list[dict[str, str]], status: int = 422) -> HubError:
    detail = "; ".join(f"{p['field']}: {p['message']} (rule {p['rule']})" for p in problems)
    exc: HubError = (
        ConflictError(detail, field=problems[0]["field"], errors=problems)
        if status == 409
        else InvalidInputError(detail, field=problems[0]["field"], errors=problems)
    )
    return exc


def _field(req: SubmitRequest, path: str) -> str:
    """A problem path of the hub's submission in the REST body's names."""
    if not path.startswith("bids["):
        return path
    index_text, _, rest = path[5:].partition("]")
    index = int(index_text)
    base = req.field_names[index] if index < len(req.field_names) else f"bids[{index}]"
    names = {".slot": ".time_slot", ".price_yuan_mwh": ".price", ".quantity_kw": ".quantity"}
    return base + names.get(rest, rest)


async def _precheck(
    session: AsyncSession, ctx: HubContext, req: SubmitRequest, now: dt.datetime
) -> tuple[MarketConnectorRow, TradingRules, BidSubmission, RiskDecision, Capacity]:
    vpp = await get_vpp(session, req.vpp_id)
    if vpp.status != "ACTIVE":
        raise _rule_error(
            [
                {
                    "field": "vpp_id",
                    "rule": "vpp_inactive",
                    "message": f"VPP {vpp.id} is {vpp.status}: only an ACTIVE VPP trades",
                }
            ],
            409,
        )
    if req.strategy_id is not None:
        strategy = await session.get(TradingStrategy, req.strategy_id)
        if strategy is None or strategy.vpp_id != vpp.id:
            raise InvalidInputError(
                f"strategy {req.strategy_id} is not a strategy of VPP {vpp.id}",
                field="strategy_id",
            )
    row = await choose_connector(session, req.market_type, req.market_id)
    rules = rules_of(row)
    key = idempotency_key(vpp.id, row.id, req.trading_date, req.bids)
    capacity = await vpp_capacity(session, ctx, vpp.id)
    submission = BidSubmission(
        vpp_id=vpp.id,
        market_type=req.market_type,
        trading_date=req.trading_date,
        bids=list(req.bids),
        idempotency_key=key,
        storage=capacity.storage,
    )
    problems = [
        {"field": _field(req, p.path), "rule": p.rule, "message": p.message}
        for p in bid_rule_problems(rules, submission, now)
        if p.rule != "storage"
    ]
    if problems:
        raise _rule_error(problems)
    sells, buys, holders = await committed_kw(
        session, vpp.id, row.id, req.trading_date, except_key=key
    )
    taken = [
        {
            "field": _field(req, f"bids[{i}]"),
            "rule": "duplicate_submission",
            "message": f"slot {format_time_slot(b.slot, rules)} {b.side} of {req.trading_date} "
            f"is already bid in submission {holders[(b.slot, b.side, b.product)]}",
        }
        for i, b in enumerate(req.bids)
        if (b.slot, b.side, b.product) in holders
    ]
    if taken:
        raise _rule_error(taken, 409)
    limits = await load_limits(session, vpp.id)
    forecast, _ = await price_forecast(session, row, rules, req.trading_date)
    n = rules.slots_per_day
    risk = pre_trade(
        req.bids,
        limits,
        RiskContext(
            available_up_kw=[capacity.up_kw] * n,
            available_down_kw=[capacity.down_kw] * n,
            price_forecast_yuan_mwh=forecast,
            committed_sell_kw=sells,
            committed_buy_kw=buys,
            storage=capacity.storage if req.origin == "auto" else None,
            slot_hours=rules.slot_minutes / 60,
        ),
        mode="trim" if req.origin == "auto" else "reject",
        rules=rules,
    )
    if risk.refused:
        raise _rule_error(
            [
                {
                    "field": _field(req, f"bids[{f.index}]")
                    + (".quantity" if f.limit != "price_deviation" else ".price"),
                    "rule": f.limit,
                    "message": f.message,
                }
                for f in risk.findings
            ]
        )
    return row, rules, submission, risk, capacity


Fence = Callable[[AsyncSession], Awaitable[None]]


async def submit_bids(
    ctx: HubContext, req: SubmitRequest, *, who: Principal, fence: Fence | None = None
) -> SubmitOutcome:
    """Check, store (PENDING), send, and record a submission (see the module doc).
    ``fence`` runs in the PENDING row's transaction before it commits (the trading
    loop's lease check: a deposed leader stores and sends nothing)."""
    now = now_of(ctx)
    async with ctx.sessions() as session:
        row, rules, submission, risk, _ = await _precheck(session, ctx, req, now)
        bids = list(risk.bids)
        if not bids:
            raise _rule_error(
                [{"field": "bids", "rule": "no_bids", "message": "risk limits left no bid"}]
            )
        if bids != list(submission.bids):  # trimmed: the key names what is sent
            submission = msgspec.structs.replace(
                submission,
                bids=bids,
                idempotency_key=idempotency_key(req.vpp_id, row.id, req.trading_date, bids),
            )
        existing = await session.scalar(
            select(BidSubmissionRow).where(
                BidSubmissionRow.idempotency_key == submission.idempotency_key
            )
        )
        if existing is not None and existing.status != "PENDING":
            raise _rule_error(
                [
                    {
                        "field": "bids",
                        "rule": "duplicate_submission",
                        "message": f"these slots of {req.trading_date} were submitted already "
                        f"(submission {existing.id}, {existing.status})",
                    }
                ],
                409,
            )
        if existing is None:
            existing = BidSubmissionRow(
                id=new_id(),
                idempotency_key=submission.idempotency_key,
                vpp_id=req.vpp_id,
                connector_id=row.id,
                strategy_id=req.strategy_id,
                market_type=req.market_type,
                trading_date=req.trading_date,
                origin=req.origin,
                status="PENDING",
                bids=[_bid_dict(b) for b in bids],
                storage=None
                if submission.storage is None
                else msgspec.to_builtins(submission.storage),
                created_by=who.username,
                created_at=now,
            )
            session.add(existing)
        if fence is not None:
            await fence(session)
        await session.commit()
        submission_id = existing.id
    return await _send(ctx, submission_id, submission, rules, who, risk.findings)


async def _send(
    ctx: HubContext,
    submission_id: str,
    submission: BidSubmission,
    rules: TradingRules,
    who: Principal,
    findings: list[Finding],
) -> SubmitOutcome:
    registry = ctx.markets
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, submission_id)
        assert sub is not None
        connector_row = await session.get(MarketConnectorRow, sub.connector_id)
        assert connector_row is not None
    try:
        if registry is None:
            raise ConnectorError("no market connectors in this hub process")
        connector = registry.get(connector_row)
        receipt = await call_connector(
            connector, lambda: connector.submit_bids(submission), SubmissionReceipt
        )
    except BidRejectedError as exc:
        async with ctx.sessions() as session:
            sub = await session.get(BidSubmissionRow, submission_id)
            if sub is not None:
                await session.delete(sub)
            await session.commit()
        raise _rule_error(
            [{"field": "bids", "rule": exc.rule, "message": f"the market refused the bids: {exc}"}]
        ) from exc
    except ConnectorError as exc:
        ctx.metrics.trading_connector_errors.labels(connector_row.name, type(exc).__name__).inc()
        async with ctx.sessions() as session:
            sub = await session.get(BidSubmissionRow, submission_id)
            if sub is not None:
                sub.error = f"{type(exc).__name__}: {exc}"[:1000]
            await session.commit()
        await note_call(ctx, submission.vpp_id, error=True)
        raise UnavailableError(
            f"market {connector_row.name} did not take the bids ({exc}); submission "
            f"{submission_id} is kept PENDING and is resent with the same idempotency key"
        ) from exc
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, submission_id)
        assert sub is not None
        if sub.status == "PENDING":
            sub.status = "SUBMITTED"
            sub.market_submission_id = receipt.submission_id
            sub.submitted_at = now_of(ctx)
            sub.error = None
            bids: list[dict[str, Any]] = []
            for bid in _bids_of(sub):
                record = _record(sub, bid, rules)
                session.add(record)
                bids.append(_bid_dict(bid, record.id))
            await session.flush()
            sub.bids = bids
            for bid_dict in bids:
                audit(
                    session,
                    who,
                    "trading_record_submitted",
                    "trading_record",
                    bid_dict["record_id"],
                    None,
                    {"status": "SUBMITTED", "submission_id": sub.id, "slot": bid_dict["slot"]},
                )
            audit(
                session,
                who,
                "submit_bid",
                "bid_submission",
                sub.id,
                None,
                {
                    "vpp_id": sub.vpp_id,
                    "connector_id": sub.connector_id,
                    "trading_date": sub.trading_date.isoformat(),
                    "bids": len(bids),
                    "idempotency_key": sub.idempotency_key,
                    "market_submission_id": receipt.submission_id,
                    "findings": [f.message for f in findings],
                },
            )
        await session.commit()
        ctx.metrics.trading_bids_submitted.labels(sub.origin).inc()
        outcome = SubmitOutcome(
            submission_id=sub.id,
            status=sub.status,
            duplicate=receipt.duplicate,
            market_submission_id=sub.market_submission_id,
            findings=findings,
            bids=_bids_of(sub),
        )
    await note_call(ctx, submission.vpp_id, error=False)
    return outcome


def _record(sub: BidSubmissionRow, bid: MarketBid, rules: TradingRules) -> TradingRecord:
    sign = 1.0 if bid.side == "sell" else -1.0
    return TradingRecord(
        id=new_id(),
        vpp_id=sub.vpp_id,
        strategy_id=sub.strategy_id,
        market_type=sub.market_type,
        trading_date=sub.trading_date,
        time_slot=format_time_slot(bid.slot, rules),
        bid_price=None if bid.price_yuan_mwh is None else round(bid.price_yuan_mwh / 1000, 4),
        bid_quantity=round(sign * kw_to_kwh(bid.quantity_kw, rules.slot_minutes), 2),
        status="SUBMITTED",
        submission_id=sub.id,
    )


async def resend_pending(ctx: HubContext, sub_id: str) -> SubmitOutcome | None:
    """Send a PENDING submission again under its own key (after a timeout or a crash)."""
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        if sub is None or sub.status != "PENDING":
            return None
        connector_row = await session.get(MarketConnectorRow, sub.connector_id)
        assert connector_row is not None
        rules = rules_of(connector_row)
        submission = BidSubmission(
            vpp_id=sub.vpp_id,
            market_type=sub.market_type,  # type: ignore[arg-type]
            trading_date=sub.trading_date,
            bids=_bids_of(sub),
            idempotency_key=sub.idempotency_key,
            storage=None if sub.storage is None else msgspec.convert(sub.storage, StorageEnvelope),
        )
        if now_of(ctx) >= gate_closure_at(rules, sub.trading_date):
            sub.status = "FAILED"
            sub.error = (sub.error or "") + " | gate closed before the market confirmed"
            await session.commit()
            return None
    return await _send(ctx, sub_id, submission, rules, LOOP, [])


# --------------------------------------------------------------------------- clearing


async def collect_clearing(ctx: HubContext, sub_id: str) -> bool:
    """Read the market's clearing of a SUBMITTED submission; on a result, move its records
    to CLEARED (:func:`dispatch_awards` then makes the plan). False while the market has
    not cleared."""
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        if sub is None or sub.status != "SUBMITTED":
            return False
        connector_row = await session.get(MarketConnectorRow, sub.connector_id)
        assert connector_row is not None
        vpp_id, market_type, day = sub.vpp_id, sub.market_type, sub.trading_date
    if ctx.markets is None:
        return False
    try:
        connector = ctx.markets.get(connector_row)
        results = await call_connector(
            connector,
            lambda: connector.clearing_results(vpp_id, market_type, day),  # type: ignore[arg-type]
            list[ClearingResult],
        )
    except ConnectorError as exc:
        ctx.metrics.trading_connector_errors.labels(connector_row.name, type(exc).__name__).inc()
        _log.warning("clearing of %s from %s failed: %s", sub_id, connector_row.name, exc)
        await note_call(ctx, vpp_id, error=True)
        return False
    await note_call(ctx, vpp_id, error=False)
    result = next((r for r in results if r.submission_id == sub.market_submission_id), None)
    if result is None:
        if results:  # the market cleared the day on another submission of the VPP's
            await cancel_submission(
                ctx,
                sub_id,
                LOOP,
                "the market cleared the day on a later submission of this VPP "
                f"({', '.join(r.submission_id for r in results)})",
            )
        return False
    rules = rules_of(connector_row)
    cleared = {(c.slot, c.side, c.product): c for c in result.bids}
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        assert sub is not None
        if sub.status != "SUBMITTED":
            return False
        for bid_dict in sub.bids:
            record = await session.get(TradingRecord, bid_dict.get("record_id"))
            if record is None or record.status != "SUBMITTED":
                continue
            c = cleared.get((bid_dict["slot"], bid_dict["side"], bid_dict.get("product")))
            sign = 1.0 if bid_dict["side"] == "sell" else -1.0
            kw = 0.0 if c is None else min(max(c.cleared_kw, 0.0), float(bid_dict["quantity_kw"]))
            price = None if c is None else c.clearing_price_yuan_mwh / 1000
            record.cleared_quantity = round(sign * kw_to_kwh(kw, rules.slot_minutes), 2)
            record.cleared_price = None if price is None else round(price, 4)
            record.revenue = round((record.cleared_quantity or 0.0) * (price or 0.0), 2)
            record.status = "CLEARED"
            audit(
                session,
                LOOP,
                "trading_record_cleared",
                "trading_record",
                record.id,
                {"status": "SUBMITTED"},
                {
                    "status": "CLEARED",
                    "cleared_quantity": record.cleared_quantity,
                    "cleared_price": record.cleared_price,
                    "revenue": record.revenue,
                },
            )
        sub.status = "CLEARED"
        sub.cleared_at = now_of(ctx)
        await session.commit()
    return True


async def dispatch_awards(ctx: HubContext, sub_id: str) -> int:
    """Turn a CLEARED submission's net cleared power per slot into one market-award
    DispatchPlan (VPP-level, ``max_offline_s`` None: delivered through link outages).
    Returns the number of slots dispatched; idempotent (done once per submission)."""
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        if sub is None or sub.status != "CLEARED" or sub.award_instructions is not None:
            return 0
        connector_row = await session.get(MarketConnectorRow, sub.connector_id)
        assert connector_row is not None
        rules = rules_of(connector_row)
        net: dict[int, float] = {}
        for bid_dict in sub.bids:
            if bid_dict.get("product"):
                continue  # capacity products are dispatched by their activation, not here
            record = await session.get(TradingRecord, bid_dict.get("record_id"))
            if record is None or not record.cleared_quantity:
                continue
            kw = record.cleared_quantity * 60 / rules.slot_minutes
            net[bid_dict["slot"]] = net.get(bid_dict["slot"], 0.0) + kw
        slots = sorted(s for s, kw in net.items() if abs(kw) > 1e-9)
        targets = [
            PlanTarget(
                target_kw=round(net[s], 3),
                duration_s=rules.slot_minutes * 60,
                start=slot_start(rules, sub.trading_date, s),
            )
            for s in slots
        ]
        vpp_id = sub.vpp_id
    awards: dict[str, Any] = {}
    error: str | None = None
    if targets:
        plan = DispatchPlan(
            vpp_id=vpp_id,
            targets=targets,
            source="market_award",
            created_by=f"award:{sub_id}",
            max_offline_s=None,
        )
        try:
            outcome = await submit_plan(ctx, plan, actor=LOOP)
            awards = {
                str(s): {"instruction_id": t.instruction_id, "target_kw": t.target_kw}
                for s, t in zip(slots, outcome.targets, strict=True)
            }
        except HubError as exc:
            error = f"award dispatch refused: {exc.detail}"
            _log.warning("award of submission %s not dispatched: %s", sub_id, exc.detail)
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        assert sub is not None
        sub.award_instructions = awards
        if error:
            sub.error = error[:1000]
        await session.commit()
    return len(awards)


async def cancel_submission(ctx: HubContext, sub_id: str, who: Principal, reason: str) -> int:
    """Mark a submission's SUBMITTED records CANCELLED (e.g. the market never cleared it)."""
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        if sub is None or sub.status not in {"PENDING", "SUBMITTED"}:
            return 0
        count = 0
        for bid_dict in sub.bids:
            record = await session.get(TradingRecord, bid_dict.get("record_id"))
            if record is None or record.status != "SUBMITTED":
                continue
            record.status = "CANCELLED"
            count += 1
            audit(
                session,
                who,
                "trading_record_cancelled",
                "trading_record",
                record.id,
                {"status": "SUBMITTED"},
                {"status": "CANCELLED", "reason": reason},
            )
        sub.status = "CANCELLED"
        sub.error = reason[:1000]
        await session.commit()
    return count


# --------------------------------------------------------------------------- execution


async def _delivered_kwh(session: AsyncSession, parent_id: str) -> float:
    total = await session.scalar(
        select(func.sum(DispatchExecution.energy_wh))
        .join(DispatchInstruction, DispatchInstruction.id == DispatchExecution.instruction_id)
        .where(DispatchInstruction.parent_id == parent_id)
    )
    return float(total or 0.0) / 1000.0


async def follow_execution(ctx: HubContext, sub_id: str) -> int:
    """Compare each awarded slot that has ended (plus a grace for the edges' final
    reports) with its cleared energy; update the VPP's breaker counters and trip it when
    a trigger fires. Returns how many slots were followed now."""
    now = now_of(ctx)
    trip: Trip | None = None
    async with ctx.sessions() as session:
        sub = await session.get(BidSubmissionRow, sub_id)
        if sub is None or sub.status != "CLEARED" or sub.award_instructions is None:
            return 0
        connector_row = await session.get(MarketConnectorRow, sub.connector_id)
        assert connector_row is not None
        rules = rules_of(connector_row)
        limits = await load_limits(session, sub.vpp_id)
        state = await breaker_state(session, sub.vpp_id)
        if state.pnl_date != sub.trading_date:
            state.pnl_date = sub.trading_date
            state.day_pnl_yuan = state.day_cleared_kwh = state.day_deviation_kwh = 0.0
        records = {
            b["slot"]: await session.get(TradingRecord, b.get("record_id"))
            for b in sub.bids
            if not b.get("product")
        }
        followed = 0
        slot = sub.executed_slots
        grace = dt.timedelta(seconds=FOLLOW_GRACE_S)
        step = dt.timedelta(minutes=rules.slot_minutes)
        while (
            slot < rules.slots_per_day
            and slot_start(rules, sub.trading_date, slot) + step + grace <= now
        ):
            award = sub.award_instructions.get(str(slot))
            if award is not None:
                cleared_kwh = kw_to_kwh(float(award["target_kw"]), rules.slot_minutes)
                delivered = await _delivered_kwh(session, award["instruction_id"])
                record = records.get(slot)
                price = (record.cleared_price or 0.0) if record else 0.0
                rt = await session.scalar(
                    select(MarketDataPoint.realtime_price_yuan_mwh).where(
                        MarketDataPoint.connector_id == connector_row.id,
                        MarketDataPoint.market_type == connector_row.market_type,
                        MarketDataPoint.slot_start == slot_start(rules, sub.trading_date, slot),
                    )
                )
                rt_price = price if rt is None else rt / 1000
                deviation = delivered - cleared_kwh
                excess = max(abs(deviation) - rules.deviation_tolerance * abs(cleared_kwh), 0.0)
                state.day_pnl_yuan += (
                    cleared_kwh * price
                    + deviation * rt_price
                    - excess * rules.deviation_penalty_yuan_mwh / 1000
                )
                state.day_cleared_kwh += abs(cleared_kwh)
                state.day_deviation_kwh += abs(deviation)
                deviates = slot_deviates(cleared_kwh, delivered, limits.deviation_band)
                state.deviation_run = state.deviation_run + 1 if deviates else 0
                followed += 1
            slot += 1
        sub.executed_slots = slot
        if followed and state.state == "CLOSED":
            trip = breaker_trigger(_counters(state), limits)
        vpp_id = sub.vpp_id
        await session.commit()
    if trip is not None:
        await trip_breaker(ctx, vpp_id, trip)
    return followed


# --------------------------------------------------------------------------- breaker


def _counters(state: BreakerStateRow, market_data_age_s: float | None = None) -> BreakerCounters:
    return BreakerCounters(
        deviation_run=state.deviation_run,
        recent_calls=list(state.recent_calls or []),
        day_pnl_yuan=state.day_pnl_yuan,
        day_cleared_kwh=state.day_cleared_kwh,
        day_deviation_kwh=state.day_deviation_kwh,
        market_data_age_s=market_data_age_s,
    )


async def breaker_state(session: AsyncSession, vpp_id: str) -> BreakerStateRow:
    """The VPP's breaker row (created CLOSED on first use, in the caller's transaction)."""
    row = await session.get(BreakerStateRow, vpp_id)
    if row is None:
        row = BreakerStateRow(
            vpp_id=vpp_id,
            state="CLOSED",
            deviation_run=0,
            recent_calls=[],
            day_pnl_yuan=0.0,
            day_cleared_kwh=0.0,
            day_deviation_kwh=0.0,
        )
        session.add(row)
        await session.flush()
    return row


async def note_call(ctx: HubContext, vpp_id: str, *, error: bool) -> Trip | None:
    """Count one connector call of the VPP; trip the breaker on its error rate."""
    async with ctx.sessions() as session:
        limits = await load_limits(session, vpp_id)
        state = await breaker_state(session, vpp_id)
        state.recent_calls = record_call(
            state.recent_calls or [], error, limits.connector_error_window
        )
        trip = breaker_trigger(_counters(state), limits) if state.state == "CLOSED" else None
        await session.commit()
    if trip is not None:
        await trip_breaker(ctx, vpp_id, trip)
    return trip


async def check_market_data(ctx: HubContext, vpp_id: str, age_s: float) -> Trip | None:
    """Trip the breaker when the market data the loop would bid on is stale."""
    async with ctx.sessions() as session:
        limits = await load_limits(session, vpp_id)
        state = await breaker_state(session, vpp_id)
        trip = None
        if state.state == "CLOSED" and age_s > limits.stale_data_s:
            trip = breaker_trigger(BreakerCounters(market_data_age_s=age_s), limits)
        await session.commit()
    if trip is not None:
        await trip_breaker(ctx, vpp_id, trip)
    return trip


async def trip_breaker(
    ctx: HubContext, vpp_id: str, trip: Trip, *, actor: Principal = LOOP
) -> BreakerAlert | None:
    """Open the VPP's breaker: automated bidding stops, safe dispatch, an audit entry,
    the metric, and the alert hooks. None when it was open already."""
    now = now_of(ctx)
    async with ctx.sessions() as session:
        state = await breaker_state(session, vpp_id)
        if state.state == "TRIPPED":
            await session.commit()
            return None
        state.state = "TRIPPED"
        state.trigger = trip.trigger
        state.reason = trip.reason[:1000]
        state.tripped_at = now
        session.add(
            BreakerEvent(
                vpp_id=vpp_id,
                ts=now,
                event="trip",
                trigger=trip.trigger,
                detail={"reason": trip.reason},
                actor=actor.username,
            )
        )
        audit(
            session,
            actor,
            "breaker_trip",
            "vpp",
            vpp_id,
            {"breaker": "CLOSED"},
            {"breaker": "TRIPPED", "trigger": trip.trigger, "reason": trip.reason},
        )
        await session.commit()
    ctx.metrics.trading_breaker_trips.labels(trip.trigger).inc()
    ctx.metrics.trading_breaker_open.labels(vpp_id).set(1)
    _log.warning("breaker of VPP %s tripped (%s): %s", vpp_id, trip.trigger, trip.reason)
    safe = await safe_dispatch(ctx, vpp_id)
    alert = BreakerAlert(
        vpp_id=vpp_id,
        event="trip",
        trigger=trip.trigger,
        reason=trip.reason,
        at=now,
        actor=actor.username,
        safe_dispatch=safe,
    )
    await _alert(ctx, alert)
    return alert


async def _alert(ctx: HubContext, alert: BreakerAlert) -> None:
    for failure in await runtime_of(ctx).alert(alert):
        ctx.metrics.trading_alert_failures.inc()
        _log.warning("breaker alert hook failed: %r", failure)


async def safe_dispatch(ctx: HubContext, vpp_id: str) -> str:
    """Hold the VPP at 0 kW over every awarded slot still ahead (see the module doc)."""
    now = now_of(ctx)
    async with ctx.sessions() as session:
        rows = await session.scalars(
            select(DispatchInstruction).where(
                DispatchInstruction.vpp_id == vpp_id,
                DispatchInstruction.parent_id.is_(None),
                DispatchInstruction.source == "market_award",
                DispatchInstruction.end_time > now,
            )
        )
        spans = sorted((max(r.start_time, now), r.end_time) for r in rows)
    merged: list[list[dt.datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    targets = [
        PlanTarget(
            target_kw=0.0, duration_s=max(int((end - start).total_seconds()), 1), start=start
        )
        for start, end in merged
    ]
    if not targets:
        return "no market plans ahead"
    plan = DispatchPlan(
        vpp_id=vpp_id,
        targets=targets,
        source="strategy",
        priority=SAFE_PRIORITY,
        created_by="circuit-breaker",
        max_offline_s=None,
    )
    try:
        await submit_plan(ctx, plan, actor=LOOP)
    except HubError as exc:
        _log.error("safe dispatch of VPP %s refused: %s", vpp_id, exc.detail)
        return f"safe dispatch refused: {exc.detail}"
    hours = sum((end - start).total_seconds() for start, end in merged) / 3600
    return f"0 kW at priority {SAFE_PRIORITY} over {len(targets)} span(s), {hours:.2f} h of awards"


async def reset_breaker(
    ctx: HubContext, vpp_id: str, who: Principal, note: str = ""
) -> BreakerStateRow:
    """Close a tripped breaker (a trader or an admin): bidding resumes and every counter
    restarts from the reset (deviation run, connector errors, the day's P&L and imbalance).
    The safe 0 kW plans already staged stay until they end."""
    now = now_of(ctx)
    async with ctx.sessions() as session:
        await get_vpp(session, vpp_id)
        state = await breaker_state(session, vpp_id)
        if state.state != "TRIPPED":
            raise ConflictError(f"the breaker of VPP {vpp_id} is not tripped")
        before = {"breaker": "TRIPPED", "trigger": state.trigger}
        trigger = state.trigger
        state.state = "CLOSED"
        state.reset_at = now
        state.reset_by = who.username
        state.deviation_run = 0
        state.recent_calls = []
        state.day_pnl_yuan = state.day_cleared_kwh = state.day_deviation_kwh = 0.0
        session.add(
            BreakerEvent(
                vpp_id=vpp_id,
                ts=now,
                event="reset",
                trigger=trigger,
                detail={"note": note},
                actor=who.username,
            )
        )
        audit(
            session,
            who,
            "breaker_reset",
            "vpp",
            vpp_id,
            before,
            {"breaker": "CLOSED", "note": note},
        )
        await session.commit()
        await session.refresh(state)
    ctx.metrics.trading_breaker_open.labels(vpp_id).set(0)
    await _alert(
        ctx,
        BreakerAlert(
            vpp_id=vpp_id, event="reset", trigger=trigger, reason=note, at=now, actor=who.username
        ),
    )
    return state
