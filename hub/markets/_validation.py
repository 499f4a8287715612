"""Checks of trading rules and of bids against them (pure, no I/O).

* :func:`rule_problems`: cross-field checks of a :class:`TradingRules` that its field
  constraints cannot express (floor below cap, clearing limits containing offer limits, a
  day of slots, a time zone that exists, a minimum size the step can reach).
* :func:`bid_problems`: what a market would refuse in a :class:`BidSubmission` before it
  reaches the market (late, slot, price, size, step, duplicates), each problem naming the
  field (``bids[3].price_yuan_mwh``) and the rule (``offer_cap``). :func:`bid_rule_problems`
  returns the same as :class:`BidProblem` records for a caller that needs the rule apart
  (the simulated exchange raises :class:`BidRejectedError` with it).
* :func:`gate_closure_at`, :func:`slot_start`, :func:`slot_at`: the calendar of a market
  (local time of its ``timezone``; slot 0 starts at local midnight of the trading day).

Problems are ``(path, message)`` pairs so that the API turns them into 4xx problem
details naming the field without knowing the rules.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Sequence

import msgspec

from ._connector import BidSubmission, MarketBid, StorageEnvelope
from ._rules import TradingRules

STEP_TOLERANCE = 1e-6
"""Relative tolerance of the multiple-of-step check (kW quantities come from floats)."""

_PRICE_FIELDS = (
    "offer_floor_yuan_mwh",
    "offer_cap_yuan_mwh",
    "clearing_floor_yuan_mwh",
    "clearing_cap_yuan_mwh",
)


class BidProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One reason a market would refuse a submission."""

    path: str
    """The field, as in a request body: ``trading_date``, ``bids[3].slot``."""
    rule: str
    """The rule broken: ``gate_closure``, ``slot_range``, ``offer_floor``, ``offer_cap``,
    ``price_required``, ``quantity_only``, ``quantity``, ``min_bid``, ``bid_step``,
    ``duplicate_bid``, ``product``, ``no_bids``, ``storage``."""
    message: str


def zone(rules: TradingRules) -> zoneinfo.ZoneInfo:
    """The market's time zone (:class:`ValueError` when it does not exist)."""
    try:
        return zoneinfo.ZoneInfo(rules.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {rules.timezone!r}") from exc


def gate_closure_at(rules: TradingRules, trading_date: dt.date) -> dt.datetime:
    """When bids for ``trading_date`` close: ``rules.gate_closure`` local time on D-1
    (aware, in the market's time zone)."""
    return dt.datetime.combine(
        trading_date - dt.timedelta(days=1), rules.gate_closure.replace(tzinfo=None), zone(rules)
    )


def day_start(rules: TradingRules, trading_date: dt.date) -> dt.datetime:
    """Local midnight of ``trading_date`` as an aware UTC instant."""
    return dt.datetime.combine(trading_date, dt.time(0), zone(rules)).astimezone(dt.UTC)


def slot_start(rules: TradingRules, trading_date: dt.date, slot: int) -> dt.datetime:
    """Start of ``slot`` of ``trading_date`` (aware, UTC). Slots count elapsed time from
    local midnight (on a day a clock changes, the last slots fall on the next day)."""
    if not 0 <= slot < rules.slots_per_day:
        raise ValueError(f"slot {slot} is outside 0..{rules.slots_per_day - 1}")
    return day_start(rules, trading_date) + dt.timedelta(minutes=slot * rules.slot_minutes)


def slot_at(rules: TradingRules, instant: dt.datetime) -> tuple[dt.date, int]:
    """The trading date and slot an aware instant falls in."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local_date = instant.astimezone(zone(rules)).date()
    for day in (local_date, local_date - dt.timedelta(days=1)):
        minutes = (instant - day_start(rules, day)).total_seconds() / 60
        if 0 <= minutes < rules.slot_minutes * rules.slots_per_day:
            return day, int(minutes // rules.slot_minutes)
    raise ValueError(f"{instant} is in no slot of {local_date}")  # pragma: no cover


def rule_problems(rules: TradingRules) -> list[tuple[str, str]]:
    """Cross-field problems of ``rules`` as ``(path, message)``; empty when they hold."""
    problems: list[tuple[str, str]] = []
    for name in _PRICE_FIELDS:
        if not math.isfinite(getattr(rules, name)):
            problems.append((name, "must be a finite number"))
    if problems:
        return problems
    if not rules.offer_floor_yuan_mwh < rules.offer_cap_yuan_mwh:
        problems.append(
            (
                "offer_floor_yuan_mwh",
                f"offer floor {rules.offer_floor_yuan_mwh:g} must be below the offer cap "
                f"{rules.offer_cap_yuan_mwh:g}",
            )
        )
    if not rules.clearing_floor_yuan_mwh < rules.clearing_cap_yuan_mwh:
        problems.append(
            (
                "clearing_floor_yuan_mwh",
                f"clearing floor {rules.clearing_floor_yuan_mwh:g} must be below the clearing "
                f"cap {rules.clearing_cap_yuan_mwh:g}",
            )
        )
    if rules.clearing_floor_yuan_mwh > rules.offer_floor_yuan_mwh:
        problems.append(
            (
                "clearing_floor_yuan_mwh",
                f"clearing floor {rules.clearing_floor_yuan_mwh:g} is above the offer floor "
                f"{rules.offer_floor_yuan_mwh:g}: an offer at the floor could never set the price",
            )
        )
    if rules.clearing_cap_yuan_mwh < rules.offer_cap_yuan_mwh:
        problems.append(
            (
                "clearing_cap_yuan_mwh",
                f"clearing cap {rules.clearing_cap_yuan_mwh:g} is below the offer cap "
                f"{rules.offer_cap_yuan_mwh:g}: an offer at the cap could never set the price",
            )
        )
    if rules.slot_minutes * rules.slots_per_day != 1440:
        problems.append(
            (
                "slots_per_day",
                f"{rules.slots_per_day} slots of {rules.slot_minutes} min make "
                f"{rules.slot_minutes * rules.slots_per_day} min, not a day (1440)",
            )
        )
    try:
        zone(rules)
    except ValueError as exc:
        problems.append(("timezone", f"{exc} (an IANA name such as Asia/Shanghai)"))
    if rules.gate_closure.tzinfo is not None:
        problems.append(("gate_closure", "is local time of `timezone`: give it without offset"))
    step, minimum = rules.bid_step_kw, rules.min_bid_kw
    if step > 0 and minimum > 0 and not _is_multiple(minimum, step):
        problems.append(
            (
                "min_bid_kw",
                f"minimum bid {minimum:g} kW is not a multiple of the bid step {step:g} kW",
            )
        )
    qual = rules.qualification
    if qual.min_capacity_kw > 0 and minimum > qual.min_capacity_kw:
        problems.append(
            (
                "min_bid_kw",
                f"minimum bid {minimum:g} kW exceeds the qualification capacity "
                f"{qual.min_capacity_kw:g} kW",
            )
        )
    return problems


def _is_multiple(quantity: float, step: float) -> bool:
    ratio = quantity / step
    return abs(ratio - round(ratio)) <= STEP_TOLERANCE * max(1.0, abs(ratio))


def _price_problem(rules: TradingRules, price: float | None) -> tuple[str, str] | None:
    """``(rule, message)`` of a bid's price, or None when the market takes it."""
    if rules.mode == "quantity_only":
        quantity_only = "this market is quantity-only (报量不报价): give no price"
        return None if price is None else ("quantity_only", quantity_only)
    if price is None:
        return "price_required", "this market takes price and quantity: give a price"
    if not math.isfinite(price):
        return "offer_cap", f"price {price} is not a finite number"
    if price < rules.offer_floor_yuan_mwh:
        return (
            "offer_floor",
            f"price {price:g} yuan/MWh is below the offer floor {rules.offer_floor_yuan_mwh:g}",
        )
    if price > rules.offer_cap_yuan_mwh:
        return (
            "offer_cap",
            f"price {price:g} yuan/MWh is above the offer cap {rules.offer_cap_yuan_mwh:g}",
        )
    return None


def _bid_problems(
    rules: TradingRules, index: int, bid: MarketBid, ancillary: bool
) -> list[BidProblem]:
    at = f"bids[{index}]"
    found: list[BidProblem] = []

    def add(field: str, rule: str, message: str) -> None:
        found.append(BidProblem(path=f"{at}.{field}" if field else at, rule=rule, message=message))

    if not 0 <= bid.slot < rules.slots_per_day:
        add("slot", "slot_range", f"slot {bid.slot} does not exist (0..{rules.slots_per_day - 1})")
    quantity = bid.quantity_kw
    if not (math.isfinite(quantity) and quantity > 0):
        add("quantity_kw", "quantity", f"quantity {quantity} kW must be a positive number")
    else:
        if quantity < rules.min_bid_kw:
            add(
                "quantity_kw",
                "min_bid",
                f"quantity {quantity:g} kW is below the minimum bid {rules.min_bid_kw:g} kW",
            )
        if rules.bid_step_kw > 0 and not _is_multiple(quantity, rules.bid_step_kw):
            add(
                "quantity_kw",
                "bid_step",
                f"quantity {quantity:g} kW is not a multiple of the bid step "
                f"{rules.bid_step_kw:g} kW",
            )
    price_problem = _price_problem(rules, bid.price_yuan_mwh)
    if price_problem is not None:
        add("price_yuan_mwh", *price_problem)
    if ancillary and bid.product is None:
        add("product", "product", "an ancillary bid names its product (regulation or reserve)")
    elif not ancillary and bid.product is not None:
        add("product", "product", "only ancillary bids carry a product")
    return found


def _storage_problems(storage: StorageEnvelope) -> list[BidProblem]:
    soc_max = storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh
    found = []
    if not storage.soc_min_kwh <= soc_max <= storage.energy_kwh:
        found.append(
            BidProblem(
                path="storage.soc_max_kwh",
                rule="storage",
                message=f"need soc_min {storage.soc_min_kwh:g} <= soc_max {soc_max:g} <= "
                f"energy {storage.energy_kwh:g} kWh",
            )
        )
    elif not storage.soc_min_kwh <= storage.soc_start_kwh <= soc_max:
        found.append(
            BidProblem(
                path="storage.soc_start_kwh",
                rule="storage",
                message=f"start {storage.soc_start_kwh:g} kWh is outside "
                f"{storage.soc_min_kwh:g}..{soc_max:g} kWh",
            )
        )
    return found


def bid_rule_problems(
    rules: TradingRules, submission: BidSubmission, now: dt.datetime
) -> list[BidProblem]:
    """Everything a market with ``rules`` would refuse in ``submission`` at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    found: list[BidProblem] = []
    closure = gate_closure_at(rules, submission.trading_date)
    if now >= closure:
        found.append(
            BidProblem(
                path="trading_date",
                rule="gate_closure",
                message=f"late bid: bids for {submission.trading_date} closed at "
                f"{closure.isoformat()} (D-1 {rules.gate_closure.isoformat('minutes')} "
                f"{rules.timezone})",
            )
        )
    bids: Sequence[MarketBid] = submission.bids
    if not bids:
        found.append(
            BidProblem(path="bids", rule="no_bids", message="a submission holds at least one bid")
        )
    ancillary = submission.market_type == "ANCILLARY"
    seen: dict[tuple[int, str, str | None], int] = {}
    for index, bid in enumerate(bids):
        found.extend(_bid_problems(rules, index, bid, ancillary))
        key = (bid.slot, bid.side, bid.product)
        if key in seen:
            found.append(
                BidProblem(
                    path=f"bids[{index}]",
                    rule="duplicate_bid",
                    message=f"slot {bid.slot} {bid.side}"
                    + (f" {bid.product}" if bid.product else "")
                    + f" is already bid in bids[{seen[key]}]",
                )
            )
        else:
            seen[key] = index
    if submission.storage is not None:
        found.extend(_storage_problems(submission.storage))
    return found


def bid_problems(
    rules: TradingRules, submission: BidSubmission, now: dt.datetime
) -> list[tuple[str, str]]:
    """:func:`bid_rule_problems` as ``(path, message)``, the message ending with
    ``(rule <name>)``; empty when the market would take the submission."""
    return [
        (p.path, f"{p.message} (rule {p.rule})") for p in bid_rule_problems(rules, submission, now)
    ]
