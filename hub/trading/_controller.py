"""Seed 4.3.2 trading routes (``submit-bid``, ``results``) plus risk limits and the
circuit breaker, thin callers of :mod:`hub.trading._service`.

REST units (seed): ``price`` yuan/kWh, ``quantity`` kWh over the slot, signed (positive
sells, negative buys); ``time_slot`` ``"HH:MM-HH:MM"`` local market time or a slot index
(see :mod:`hub.trading._units`). Traders and admins write; every role reads.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Meta
from sqlalchemy import select

from hub._deps import Caller, Ctx, Session
from hub._dto import In, Out, Uuid
from hub.auth import TRADERS, requires
from hub.errors import InvalidInputError
from hub.markets import MarketBid, MarketType, TradingRules
from hub.markets._service import rules_of
from hub.store import BreakerEvent, TradingRecord
from hub.vpps import get_vpp

from ._risk import RiskLimits
from ._service import (
    SubmitRequest,
    breaker_state,
    choose_connector,
    load_limits,
    reset_breaker,
    save_limits,
    submit_bids,
)
from ._units import kwh_to_kw, parse_time_slot, yuan_kwh_to_mwh


class BidIn(In):
    time_slot: Annotated[str, Meta(max_length=20)] | int
    """``"00:15-00:30"`` (local market time), ``"00:15"`` or a slot index (0..95)."""
    quantity: float
    """kWh over the slot: positive sells (the VPP delivers), negative buys."""
    price: float | None = None
    """yuan/kWh (a limit: sell at least, buy at most); none in a quantity-only market."""


class SubmitBidIn(In):
    vpp_id: Uuid
    market_type: MarketType
    trading_date: dt.date
    bids: Annotated[list[BidIn], Meta(min_length=1, max_length=1000)]
    strategy_id: Uuid | None = None
    market_id: Uuid | None = None
    """Which connector (default: the first ACTIVE one trading ``market_type``)."""


class RecordOut(Out):
    id: str
    vpp_id: str
    strategy_id: str | None
    market_type: str | None
    trading_date: dt.date | None
    time_slot: str | None
    bid_price: float | None
    bid_quantity: float | None
    cleared_price: float | None
    cleared_quantity: float | None
    revenue: float | None
    status: str | None
    created_at: dt.datetime
    submission_id: str | None


class SubmitBidOut(Out):
    submission_id: str
    status: str
    market_submission_id: str | None
    duplicate: bool
    """The market had this submission already (a retry): nothing new was sent."""
    records: list[RecordOut]


class BreakerEventOut(Out):
    ts: dt.datetime
    event: str
    trigger: str | None
    actor: str
    detail: dict[str, object] | None


class BreakerOut(Out):
    vpp_id: str
    state: str
    trigger: str | None
    reason: str | None
    tripped_at: dt.datetime | None
    reset_at: dt.datetime | None
    reset_by: str | None
    deviation_run: int
    recent_errors: int
    day_pnl_yuan: float
    events: list[BreakerEventOut]


class ResetIn(In):
    note: Annotated[str, Meta(max_length=500)] = ""


def record_out(r: TradingRecord) -> RecordOut:
    return RecordOut(
        id=r.id,
        vpp_id=r.vpp_id,
        strategy_id=r.strategy_id,
        market_type=r.market_type,
        trading_date=r.trading_date,
        time_slot=r.time_slot,
        bid_price=r.bid_price,
        bid_quantity=r.bid_quantity,
        cleared_price=r.cleared_price,
        cleared_quantity=r.cleared_quantity,
        revenue=r.revenue,
        status=r.status,
        created_at=r.created_at,
        submission_id=r.submission_id,
    )


def _problem(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": message}


def hub_bids(data: SubmitBidIn, rules: TradingRules) -> list[MarketBid]:
    """The REST bids in hub units (422 naming each bad field and its rule)."""
    problems: list[dict[str, str]] = []
    out: list[MarketBid] = []
    for i, b in enumerate(data.bids):
        at = f"bids[{i}]"
        try:
            slot = parse_time_slot(b.time_slot, rules)
        except ValueError as exc:
            problems.append(_problem(f"{at}.time_slot", "slot_range", str(exc)))
            continue
        if not math.isfinite(b.quantity) or b.quantity == 0:
            problems.append(
                _problem(f"{at}.quantity", "quantity", "quantity must be a non-zero kWh figure")
            )
            continue
        if b.price is not None and not math.isfinite(b.price):
            problems.append(_problem(f"{at}.price", "offer_cap", "price must be a finite number"))
            continue
        out.append(
            MarketBid(
                slot=slot,
                side="sell" if b.quantity > 0 else "buy",
                quantity_kw=kwh_to_kw(abs(b.quantity), rules.slot_minutes),
                price_yuan_mwh=None if b.price is None else yuan_kwh_to_mwh(b.price),
            )
        )
    if problems:
        detail = "; ".join(f"{p['field']}: {p['message']} (rule {p['rule']})" for p in problems)
        raise InvalidInputError(detail, field=problems[0]["field"], errors=problems)
    return out


class TradingController(Controller):
    path = "/api/v1/vpp/trading"
    tags = ("trading",)

    @post("/submit-bid", guards=[requires(*TRADERS)])
    async def submit_bid(
        self, session: Session, ctx: Ctx, principal: Caller, data: JSONBody[SubmitBidIn]
    ) -> SubmitBidOut:
        """Send a VPP's bids for one market day. Refused with problem details naming the
        rule, nothing stored: late (gate_closure), slots that do not exist (slot_range),
        prices outside the offer limits (offer_floor/offer_cap), quantities beyond the
        available capacity (available_capacity) or other risk limits, slots already bid
        (duplicate_submission, 409), an inactive VPP (vpp_inactive, 409)."""
        connector = await choose_connector(session, data.market_type, data.market_id)
        rules, connector_id = rules_of(connector), connector.id
        await session.rollback()
        bids = hub_bids(data, rules)
        outcome = await submit_bids(
            ctx,
            SubmitRequest(
                vpp_id=data.vpp_id,
                market_type=data.market_type,
                trading_date=data.trading_date,
                bids=bids,
                strategy_id=data.strategy_id,
                market_id=connector_id,
                origin="api",
                field_names=[f"bids[{i}]" for i in range(len(bids))],
            ),
            who=principal,
        )
        records = await session.scalars(
            select(TradingRecord)
            .where(TradingRecord.submission_id == outcome.submission_id)
            .order_by(TradingRecord.time_slot, TradingRecord.bid_quantity)
        )
        return SubmitBidOut(
            submission_id=outcome.submission_id,
            status=outcome.status,
            market_submission_id=outcome.market_submission_id,
            duplicate=outcome.duplicate,
            records=[record_out(r) for r in records],
        )

    @get("/results", opt={"cached": True})
    async def results(
        self,
        session: Session,
        vpp_id: FromQuery[str | None] = None,
        trading_date: FromQuery[dt.date | None] = None,
        market_type: FromQuery[str | None] = None,
        status: Annotated[
            Literal["SUBMITTED", "CLEARED", "SETTLED", "CANCELLED"] | None,
            QueryParameter(description="only records in this state"),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 2000,
    ) -> list[RecordOut]:
        """Trading records (seed 3.1.6 fields; bid/cleared price yuan/kWh, quantities
        kWh signed: positive sold, negative bought; revenue yuan, a cost negative)."""
        query = select(TradingRecord)
        if vpp_id is not None:
            query = query.where(TradingRecord.vpp_id == vpp_id)
        if trading_date is not None:
            query = query.where(TradingRecord.trading_date == trading_date)
        if market_type is not None:
            query = query.where(TradingRecord.market_type == market_type)
        if status is not None:
            query = query.where(TradingRecord.status == status)
        rows = await session.scalars(
            query.order_by(
                TradingRecord.trading_date,
                TradingRecord.vpp_id,
                TradingRecord.time_slot,
                TradingRecord.id,
            ).limit(limit)
        )
        return [record_out(r) for r in rows]

    @get("/risk-limits/{vpp_id:str}", opt={"cached": True})
    async def get_limits(self, session: Session, vpp_id: FromPath[str]) -> RiskLimits:
        """The VPP's risk limits (the defaults until set)."""
        await get_vpp(session, vpp_id)
        return await load_limits(session, vpp_id)

    @put("/risk-limits/{vpp_id:str}", guards=[requires(*TRADERS)])
    async def put_limits(
        self, session: Session, principal: Caller, vpp_id: FromPath[str], data: JSONBody[RiskLimits]
    ) -> RiskLimits:
        """Replace the VPP's risk limits (audited with before and after)."""
        return await save_limits(session, vpp_id, data, principal)

    @get("/breaker/{vpp_id:str}", opt={"cached": True})
    async def breaker(self, session: Session, vpp_id: FromPath[str]) -> BreakerOut:
        """The VPP's circuit breaker, its counters and latest events."""
        await get_vpp(session, vpp_id)
        state = await breaker_state(session, vpp_id)
        events = await session.scalars(
            select(BreakerEvent)
            .where(BreakerEvent.vpp_id == vpp_id)
            .order_by(BreakerEvent.ts.desc(), BreakerEvent.id.desc())
            .limit(20)
        )
        out = BreakerOut(
            vpp_id=vpp_id,
            state=state.state,
            trigger=state.trigger,
            reason=state.reason,
            tripped_at=state.tripped_at,
            reset_at=state.reset_at,
            reset_by=state.reset_by,
            deviation_run=state.deviation_run,
            recent_errors=sum(state.recent_calls or []),
            day_pnl_yuan=round(state.day_pnl_yuan, 2),
            events=[
                BreakerEventOut(
                    ts=e.ts, event=e.event, trigger=e.trigger, actor=e.actor, detail=e.detail
                )
                for e in events
            ],
        )
        await session.rollback()
        return out

    @post("/breaker/{vpp_id:str}/reset", guards=[requires(*TRADERS)], status_code=200)
    async def reset(
        self, ctx: Ctx, principal: Caller, vpp_id: FromPath[str], data: JSONBody[ResetIn]
    ) -> dict[str, str]:
        """Close a tripped breaker by hand (trader or admin): automated bidding resumes
        (the safe 0 kW plans already staged run until they end)."""
        state = await reset_breaker(ctx, vpp_id, principal, data.note)
        return {"vpp_id": vpp_id, "state": state.state, "reset_by": principal.username}
