"""Settlement of a VPP's day in one market (pure): per slot, the cleared position, its
delivery and the payments the market's :class:`~hub.markets.TradingRules` attach to them.

Per line (one slot, and one product in ancillary markets), by market:

``SPOT``
    energy = cleared kWh x clearing price; deviation d = delivered - cleared kWh, settled
    at the slot's real-time (balancing) price (d > 0 sold, d < 0 bought back); the part of
    ``|d|`` beyond ``deviation_tolerance`` x ``|cleared|`` pays ``deviation_penalty_yuan_mwh``
    on top (a charge, negative).
``ANCILLARY``
    availability = capacity held (MW) x slot hours x the cleared capacity price (yuan/MW·h;
    the rules' ``regulation_``/``reserve_availability_yuan_mw_h`` when the market cleared
    none); regulation also earns mileage MW x ``regulation_mileage_yuan_mw``.
``CAPACITY``
    availability as above at the cleared price.
``DEMAND_RESPONSE``
    compensation = curtailed kWh against the baseline x ``dr_compensation_yuan_kwh``, paid
    on at most committed x (1 + tolerance); a shortfall below committed x (1 - tolerance)
    pays the deviation penalty.

Quantities follow the seed's REST units: ``cleared_kwh`` is the slot's cleared energy
(for capacity products: capacity kW x slot hours). A slot whose delivery (or mileage) was
not metered is settled for what is known (the cleared energy, the availability) and its
unknown parts are left unsettled and flagged (``meter_missing``, ``realtime_price_missing``,
``mileage_missing``): no value is ever invented. Money: :mod:`._money`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from hub.markets import AncillaryProduct, MarketType, TradingRules

from ._money import ROUNDING_RULE, ZERO, dec, money

COMPONENTS = ("energy", "deviation", "penalty", "availability", "mileage", "dr")
"""The money components of a line, in the order of :attr:`SlotLine.components`."""
FLAG_METER = "meter_missing"
FLAG_PRICE = "realtime_price_missing"
FLAG_MILEAGE = "mileage_missing"
_KILO = Decimal(1000)


class SlotInput(msgspec.Struct, frozen=True, kw_only=True):
    """What is known of one slot (and product) of a VPP's day."""

    slot: int
    cleared_kwh: float
    """Cleared energy (SPOT, sell positive), committed curtailment (DEMAND_RESPONSE), or
    capacity held x slot hours (ANCILLARY, CAPACITY)."""
    clearing_price_yuan_mwh: float
    delivered_kwh: float | None = None
    """Metered delivery (SPOT: net energy delivered; DEMAND_RESPONSE: curtailment against
    the baseline); None: not metered (a gap)."""
    realtime_price_yuan_mwh: float | None = None
    product: AncillaryProduct | None = None
    mileage_mw: float | None = None
    """Regulation mileage followed in the slot (sum of |signal steps|, MW); None: unknown."""


class SlotLine(msgspec.Struct, frozen=True, kw_only=True):
    """One settled line; money in yuan (two places), energy in kWh."""

    slot: int
    product: AncillaryProduct | None
    cleared_kwh: float
    clearing_price_yuan_mwh: float
    delivered_kwh: float | None
    deviation_kwh: float | None
    realtime_price_yuan_mwh: float | None
    energy_yuan: Decimal = ZERO
    deviation_yuan: Decimal = ZERO
    penalty_yuan: Decimal = ZERO
    availability_yuan: Decimal = ZERO
    mileage_yuan: Decimal = ZERO
    dr_yuan: Decimal = ZERO
    total_yuan: Decimal = ZERO
    flags: tuple[str, ...] = ()

    @property
    def components(self) -> tuple[Decimal, ...]:
        return (
            self.energy_yuan,
            self.deviation_yuan,
            self.penalty_yuan,
            self.availability_yuan,
            self.mileage_yuan,
            self.dr_yuan,
        )


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    energy_yuan: Decimal = ZERO
    deviation_yuan: Decimal = ZERO
    penalty_yuan: Decimal = ZERO
    availability_yuan: Decimal = ZERO
    mileage_yuan: Decimal = ZERO
    dr_yuan: Decimal = ZERO
    total_yuan: Decimal = ZERO
    cleared_kwh: float = 0.0
    delivered_kwh: float = 0.0
    """Sum over the lines whose delivery was metered."""


class DayStatement(msgspec.Struct, frozen=True, kw_only=True):
    vpp_id: str
    market_type: MarketType
    trading_date: dt.date
    lines: Sequence[SlotLine]
    totals: Totals
    gap_slots: tuple[int, ...]
    """Slots with a flag (something left unsettled for want of data)."""
    complete: bool
    rounding: str = ROUNDING_RULE


def slot_hours(rules: TradingRules) -> Decimal:
    return Decimal(rules.slot_minutes) / Decimal(60)


class _Parts:
    """The money components of a line being built, its deviation and its flags."""

    def __init__(self) -> None:
        self.money = dict.fromkeys(COMPONENTS, ZERO)
        self.deviation_kwh: float | None = None
        self.flags: list[str] = []


def _spot(item: SlotInput, rules: TradingRules, out: _Parts) -> None:
    q = dec(item.cleared_kwh)
    out.money["energy"] = money(q * dec(item.clearing_price_yuan_mwh) / _KILO)
    if item.delivered_kwh is None:
        out.flags.append(FLAG_METER)
        return
    d = dec(item.delivered_kwh) - q
    out.deviation_kwh = float(d)
    if item.realtime_price_yuan_mwh is None:
        out.flags.append(FLAG_PRICE)
    else:
        out.money["deviation"] = money(d * dec(item.realtime_price_yuan_mwh) / _KILO)
    excess = max(abs(d) - dec(rules.deviation_tolerance) * abs(q), Decimal(0))
    out.money["penalty"] = -money(excess * dec(rules.deviation_penalty_yuan_mwh) / _KILO)


def _capacity(market_type: MarketType, item: SlotInput, rules: TradingRules, out: _Parts) -> None:
    q = dec(item.cleared_kwh)
    hours = slot_hours(rules)
    rate = dec(item.clearing_price_yuan_mwh)
    if rate == 0 and market_type == "ANCILLARY":
        rate = dec(
            rules.reserve_availability_yuan_mw_h
            if item.product == "reserve"
            else rules.regulation_availability_yuan_mw_h
        )
    out.money["availability"] = money(q / hours / _KILO * hours * rate)
    if market_type == "ANCILLARY" and item.product != "reserve":
        if item.mileage_mw is None:
            out.flags.append(FLAG_MILEAGE)
        else:
            out.money["mileage"] = money(
                dec(item.mileage_mw) * dec(rules.regulation_mileage_yuan_mw)
            )
    if item.delivered_kwh is not None:
        out.deviation_kwh = float(dec(item.delivered_kwh) - q)


def _demand_response(item: SlotInput, rules: TradingRules, out: _Parts) -> None:
    if item.delivered_kwh is None:
        out.flags.append(FLAG_METER)
        return
    q = dec(item.cleared_kwh)
    tol = dec(rules.deviation_tolerance)
    curtailed = dec(item.delivered_kwh)
    out.deviation_kwh = float(curtailed - q)
    paid = max(curtailed, Decimal(0))
    if q > 0:
        paid = min(paid, q * (1 + tol))
    out.money["dr"] = money(paid * dec(rules.dr_compensation_yuan_kwh))
    shortfall = max(q * (1 - tol) - curtailed, Decimal(0))
    out.money["penalty"] = -money(shortfall * dec(rules.deviation_penalty_yuan_mwh) / _KILO)


def settle_line(market_type: MarketType, item: SlotInput, rules: TradingRules) -> SlotLine:
    """One line by the rules of ``market_type`` (see the module docstring)."""
    out = _Parts()
    if market_type == "SPOT":
        _spot(item, rules, out)
    elif market_type in ("ANCILLARY", "CAPACITY"):
        _capacity(market_type, item, rules, out)
    else:
        _demand_response(item, rules, out)
    parts = {k: v + ZERO for k, v in out.money.items()}  # -0.00 becomes 0.00
    return SlotLine(
        slot=item.slot,
        product=item.product,
        cleared_kwh=item.cleared_kwh,
        clearing_price_yuan_mwh=item.clearing_price_yuan_mwh,
        delivered_kwh=item.delivered_kwh,
        deviation_kwh=out.deviation_kwh,
        realtime_price_yuan_mwh=item.realtime_price_yuan_mwh,
        energy_yuan=parts["energy"],
        deviation_yuan=parts["deviation"],
        penalty_yuan=parts["penalty"],
        availability_yuan=parts["availability"],
        mileage_yuan=parts["mileage"],
        dr_yuan=parts["dr"],
        total_yuan=sum(parts.values(), ZERO),
        flags=tuple(out.flags),
    )


def totals_of(lines: Sequence[SlotLine]) -> Totals:
    sums = [sum((line.components[i] for line in lines), ZERO) for i in range(len(COMPONENTS))]
    return Totals(
        energy_yuan=sums[0],
        deviation_yuan=sums[1],
        penalty_yuan=sums[2],
        availability_yuan=sums[3],
        mileage_yuan=sums[4],
        dr_yuan=sums[5],
        total_yuan=sum((line.total_yuan for line in lines), ZERO),
        cleared_kwh=float(sum((dec(line.cleared_kwh) for line in lines), Decimal(0))),
        delivered_kwh=float(
            sum(
                (dec(line.delivered_kwh) for line in lines if line.delivered_kwh is not None),
                Decimal(0),
            )
        ),
    )


def settle(
    vpp_id: str,
    market_type: MarketType,
    trading_date: dt.date,
    inputs: Sequence[SlotInput],
    rules: TradingRules,
) -> DayStatement:
    """The statement of a VPP's day: lines in (slot, product) order, their totals and gaps."""
    ordered = sorted(inputs, key=lambda i: (i.slot, i.product or ""))
    lines = [settle_line(market_type, item, rules) for item in ordered]
    gaps = tuple(sorted({line.slot for line in lines if line.flags}))
    return DayStatement(
        vpp_id=vpp_id,
        market_type=market_type,
        trading_date=trading_date,
        lines=lines,
        totals=totals_of(lines),
        gap_slots=gaps,
        complete=not gaps,
    )
