"""Risk control (pure): limits per VPP, pre-trade checks, and the circuit breaker's triggers.

Pre-trade (:func:`pre_trade`), for each bid of a submission, in this order:

* ``available_capacity``: a sell above the VPP's available up capacity of the slot (a
  buy above its down capacity), less what is already committed there;
* ``capacity_share``: above ``max_capacity_share`` of that capacity;
* ``position_limit``: the net position of the slot (sells - buys, this and earlier
  submissions) beyond ``max_position_kw``;
* ``price_deviation``: a limit price further from the slot's forecast than
  ``max_price_deviation`` x max(|forecast|, ``price_deviation_floor_yuan_mwh``);
* ``storage_envelope``: bids a storage portfolio could not deliver all together within
  its state of charge (:func:`~hub.trading.fit_to_envelope`).

In ``trim`` mode (the trading loop) a quantity is cut to what the limit allows and a bid
whose price breaks the deviation limit is dropped; in ``reject`` mode (a trader's
submit-bid) any finding refuses the submission. Every finding names its limit.

Circuit breaker (:func:`breaker_trigger`), over the counters the trading service keeps:
``daily_loss`` (the day's estimated P&L below -``daily_loss_limit_yuan``), ``deviation``
(``deviation_slots`` consecutive followed slots off their cleared energy by more than
``deviation_band``), ``imbalance`` (the day's summed deviation beyond
``max_imbalance_share`` of its cleared energy), ``connector_errors`` (at least
``connector_error_limit`` errors among the last ``connector_error_window`` calls) and
``stale_market_data`` (no market data newer than ``stale_data_s`` at bidding time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from hub.markets import MarketBid, StorageEnvelope, TradingRules

from ._strategy import fit_to_envelope

_EPS = 1e-9

Limit = Literal[
    "available_capacity",
    "capacity_share",
    "position_limit",
    "price_deviation",
    "storage_envelope",
]
Trigger = Literal["daily_loss", "deviation", "imbalance", "connector_errors", "stale_market_data"]


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of one VPP (kW, yuan/MWh, yuan, shares 0..1). None: no such limit."""

    max_position_kw: Annotated[float, Meta(ge=0)] | None = None
    """Largest net position (|sells - buys|) in one slot."""
    max_capacity_share: Annotated[float, Meta(gt=0, le=1)] = 1.0
    """Share of the available capacity of a slot that bids may commit."""
    max_price_deviation: Annotated[float, Meta(ge=0)] | None = 1.0
    """Largest |limit price - forecast| as a share of max(|forecast|, the floor below)."""
    price_deviation_floor_yuan_mwh: Annotated[float, Meta(gt=0)] = 100.0
    daily_loss_limit_yuan: Annotated[float, Meta(ge=0)] | None = None
    """The breaker trips when the day's estimated P&L falls below minus this."""
    max_imbalance_share: Annotated[float, Meta(ge=0)] | None = 0.5
    """The breaker trips when the day's |delivered - cleared| energy exceeds this share of
    its cleared energy (counted from ``min_imbalance_kwh`` of cleared energy on)."""
    min_imbalance_kwh: Annotated[float, Meta(ge=0)] = 1.0
    deviation_band: Annotated[float, Meta(ge=0)] = 0.1
    """A followed slot deviates when |delivered - cleared| > band x |cleared| (kWh)."""
    deviation_slots: Annotated[int, Meta(ge=1)] = 4
    """Consecutive deviating slots that trip the breaker."""
    connector_error_window: Annotated[int, Meta(ge=1, le=1000)] = 10
    connector_error_limit: Annotated[int, Meta(ge=1)] = 3
    stale_data_s: Annotated[float, Meta(gt=0)] = 2 * 86400.0
    """Market data older than this at bidding time trips the breaker."""


class RiskContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the checks know about the VPP's day (per slot, index = slot)."""

    available_up_kw: Sequence[float]
    available_down_kw: Sequence[float]
    price_forecast_yuan_mwh: Sequence[float | None] | None = None
    committed_sell_kw: Mapping[int, float] = msgspec.field(default_factory=dict)
    """Already bid (other live submissions of the day), per slot."""
    committed_buy_kw: Mapping[int, float] = msgspec.field(default_factory=dict)
    storage: StorageEnvelope | None = None
    slot_hours: float = 0.25


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One bid a limit trimmed or refused."""

    index: int
    """Position of the bid in the submission."""
    slot: int
    side: str
    limit: Limit
    action: Literal["trimmed", "dropped", "rejected"]
    message: str
    allowed_kw: float | None = None


class RiskDecision(msgspec.Struct, frozen=True, kw_only=True):
    bids: list[MarketBid]
    """What may go to the market (trim mode: cut; reject mode: all or nothing)."""
    findings: list[Finding]

    @property
    def refused(self) -> bool:
        return any(f.action == "rejected" for f in self.findings)


def _step_down(quantity: float, rules: TradingRules | None) -> float:
    if rules is None:
        return max(quantity, 0.0)
    if rules.bid_step_kw > 0:
        quantity = math.floor(quantity / rules.bid_step_kw + 1e-6) * rules.bid_step_kw
    return 0.0 if quantity < max(rules.min_bid_kw, _EPS) else float(quantity)


def _at(values: Sequence[float], slot: int) -> float:
    return max(float(values[slot]), 0.0) if 0 <= slot < len(values) else 0.0


def _quantity_limits(
    bid: MarketBid, limits: RiskLimits, ctx: RiskContext, position: dict[int, float]
) -> list[tuple[Limit, float, str]]:
    """(limit, kW allowed, why) of each quantity limit the bid breaks."""
    out: list[tuple[Limit, float, str]] = []
    selling = bid.side == "sell"
    available = _at(ctx.available_up_kw if selling else ctx.available_down_kw, bid.slot)
    committed = (ctx.committed_sell_kw if selling else ctx.committed_buy_kw).get(bid.slot, 0.0)
    word = "up" if selling else "down"
    room = max(available - committed, 0.0)
    if bid.quantity_kw > room + _EPS:
        out.append(
            (
                "available_capacity",
                room,
                f"{bid.side} {bid.quantity_kw:g} kW in slot {bid.slot} is beyond the available "
                f"{word} capacity {available:g} kW"
                + (f" less {committed:g} kW already bid" if committed else ""),
            )
        )
    share_room = max(available * limits.max_capacity_share - committed, 0.0)
    if limits.max_capacity_share < 1 and bid.quantity_kw > share_room + _EPS:
        out.append(
            (
                "capacity_share",
                share_room,
                f"{bid.side} {bid.quantity_kw:g} kW in slot {bid.slot} commits more than "
                f"{limits.max_capacity_share:.0%} of the available {word} capacity "
                f"{available:g} kW",
            )
        )
    if limits.max_position_kw is not None:
        sign = 1.0 if selling else -1.0
        current = position.get(bid.slot, 0.0)
        after = current + sign * bid.quantity_kw
        if abs(after) > limits.max_position_kw + _EPS:
            allowed = max(limits.max_position_kw - sign * current, 0.0)
            out.append(
                (
                    "position_limit",
                    allowed,
                    f"slot {bid.slot} would hold a net position of {after:g} kW, beyond the "
                    f"limit of {limits.max_position_kw:g} kW",
                )
            )
    return out


def _price_problem(bid: MarketBid, limits: RiskLimits, ctx: RiskContext) -> str | None:
    if limits.max_price_deviation is None or bid.price_yuan_mwh is None:
        return None
    forecasts = ctx.price_forecast_yuan_mwh
    if forecasts is None or not 0 <= bid.slot < len(forecasts):
        return None
    forecast = forecasts[bid.slot]
    if forecast is None:
        return None
    scale = max(abs(forecast), limits.price_deviation_floor_yuan_mwh)
    if abs(bid.price_yuan_mwh - forecast) <= limits.max_price_deviation * scale + _EPS:
        return None
    return (
        f"price {bid.price_yuan_mwh:g} yuan/MWh in slot {bid.slot} is more than "
        f"{limits.max_price_deviation:.0%} of {scale:g} from the forecast {forecast:g}"
    )


def pre_trade(
    bids: Sequence[MarketBid],
    limits: RiskLimits,
    ctx: RiskContext,
    *,
    mode: Literal["trim", "reject"],
    rules: TradingRules | None = None,
) -> RiskDecision:
    """Check ``bids`` against ``limits`` (see the module doc)."""
    findings: list[Finding] = []
    kept: list[MarketBid] = []
    index_of: dict[tuple[int, str, str | None], int] = {}
    position: dict[int, float] = {}
    for slot in set(ctx.committed_sell_kw) | set(ctx.committed_buy_kw):
        position[slot] = ctx.committed_sell_kw.get(slot, 0.0) - ctx.committed_buy_kw.get(slot, 0.0)
    for index, bid in enumerate(bids):
        index_of[(bid.slot, bid.side, bid.product)] = index
        price_problem = _price_problem(bid, limits, ctx)
        if price_problem is not None:
            action: Literal["dropped", "rejected"] = "dropped" if mode == "trim" else "rejected"
            findings.append(
                Finding(
                    index=index,
                    slot=bid.slot,
                    side=bid.side,
                    limit="price_deviation",
                    action=action,
                    message=price_problem,
                )
            )
            continue
        quantity = bid.quantity_kw
        broken = _quantity_limits(bid, limits, ctx, position)
        for limit, allowed, message in broken:
            if mode == "reject":
                findings.append(
                    Finding(
                        index=index,
                        slot=bid.slot,
                        side=bid.side,
                        limit=limit,
                        action="rejected",
                        message=message,
                        allowed_kw=allowed,
                    )
                )
            elif allowed < quantity:
                quantity = _step_down(allowed, rules)
                findings.append(
                    Finding(
                        index=index,
                        slot=bid.slot,
                        side=bid.side,
                        limit=limit,
                        action="trimmed" if quantity > 0 else "dropped",
                        message=message,
                        allowed_kw=quantity,
                    )
                )
        if quantity <= _EPS:
            continue
        sent = bid
        if quantity != bid.quantity_kw and mode == "trim":
            sent = msgspec.structs.replace(bid, quantity_kw=quantity)
        sign = 1.0 if sent.side == "sell" else -1.0
        if sent.product is None:
            position[sent.slot] = position.get(sent.slot, 0.0) + sign * sent.quantity_kw
        kept.append(sent)
    if ctx.storage is not None:
        fitted, trimmed = fit_to_envelope(kept, ctx.storage, slot_hours=ctx.slot_hours, rules=rules)
        for bid, removed in trimmed:
            findings.append(
                Finding(
                    index=index_of.get((bid.slot, bid.side, bid.product), -1),
                    slot=bid.slot,
                    side=bid.side,
                    limit="storage_envelope",
                    action="rejected"
                    if mode == "reject"
                    else ("dropped" if removed >= bid.quantity_kw - _EPS else "trimmed"),
                    message=f"{bid.side} {bid.quantity_kw:g} kW in slot {bid.slot} takes the "
                    f"storage outside its state-of-charge window ({removed:g} kW too much "
                    "with every bid cleared)",
                    allowed_kw=max(bid.quantity_kw - removed, 0.0),
                )
            )
        kept = fitted
    if mode == "reject" and findings:
        return RiskDecision(bids=[], findings=sorted(findings, key=lambda f: f.index))
    return RiskDecision(bids=kept, findings=sorted(findings, key=lambda f: f.index))


class BreakerCounters(msgspec.Struct, frozen=True, kw_only=True):
    """What the breaker's triggers read, as the trading service keeps it per VPP."""

    deviation_run: int = 0
    recent_calls: Sequence[bool] = ()
    """Latest connector calls, True = an error, newest last."""
    day_pnl_yuan: float = 0.0
    day_cleared_kwh: float = 0.0
    day_deviation_kwh: float = 0.0
    market_data_age_s: float | None = None
    """Age of the newest market data when the loop last wanted to bid (None: not asked)."""


class Trip(msgspec.Struct, frozen=True, kw_only=True):
    trigger: Trigger
    reason: str


def record_call(calls: Sequence[bool], error: bool, window: int) -> list[bool]:
    """The call history with one more outcome, bounded to ``window``."""
    return [*calls, error][-window:]


def slot_deviates(cleared_kwh: float, delivered_kwh: float, band: float) -> bool:
    """Whether a followed slot's delivery is off its cleared energy beyond the band."""
    return abs(delivered_kwh - cleared_kwh) > band * abs(cleared_kwh) + _EPS


def breaker_trigger(counters: BreakerCounters, limits: RiskLimits) -> Trip | None:
    """The first trigger that fires, or None."""
    c = counters
    if limits.daily_loss_limit_yuan is not None and c.day_pnl_yuan < -limits.daily_loss_limit_yuan:
        return Trip(
            trigger="daily_loss",
            reason=f"the day's estimated P&L {c.day_pnl_yuan:.2f} yuan is below the loss limit "
            f"-{limits.daily_loss_limit_yuan:g} yuan",
        )
    if c.deviation_run >= limits.deviation_slots:
        return Trip(
            trigger="deviation",
            reason=f"{c.deviation_run} consecutive slots delivered more than "
            f"{limits.deviation_band:.0%} off their cleared energy "
            f"(limit {limits.deviation_slots})",
        )
    if (
        limits.max_imbalance_share is not None
        and c.day_cleared_kwh >= limits.min_imbalance_kwh
        and c.day_deviation_kwh > limits.max_imbalance_share * c.day_cleared_kwh + _EPS
    ):
        return Trip(
            trigger="imbalance",
            reason=f"the day's imbalance {c.day_deviation_kwh:.1f} kWh is beyond "
            f"{limits.max_imbalance_share:.0%} of its cleared {c.day_cleared_kwh:.1f} kWh",
        )
    window = c.recent_calls[-limits.connector_error_window :]
    errors = sum(window)
    if errors >= limits.connector_error_limit:
        return Trip(
            trigger="connector_errors",
            reason=f"{errors} of the last {len(window)} market calls failed "
            f"(limit {limits.connector_error_limit})",
        )
    if c.market_data_age_s is not None and c.market_data_age_s > limits.stale_data_s:
        return Trip(
            trigger="stale_market_data",
            reason=f"the newest market data is {c.market_data_age_s:.0f} s old "
            f"(limit {limits.stale_data_s:g} s)",
        )
    return None
