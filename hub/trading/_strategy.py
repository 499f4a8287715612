"""The strategy interface the trading loop calls, and one built-in strategy (pure, no I/O).

Before each gate closure the loop builds a :class:`BidRequest` per VPP with an ACTIVE
strategy and asks its :class:`BidStrategy` for the day's :class:`~hub.markets.MarketBid` s.
A request carries only what is known at gate closure (``known_at``): the market's rules,
the VPP's capacity per slot, its storage envelope and the price forecast per slot issued
by then; never a clearing price of the day being traded.

Units are the hub's (see :mod:`hub.markets`): kW with the generator convention (``sell`` =
the VPP delivers, ``buy`` = it absorbs), yuan/MWh, ``rules.slot_minutes`` per slot.

* :class:`BidStrategy`: ``async def bids(request) -> Sequence[MarketBid]``. Async so that a
  strategy may run a solver in a worker thread; the built-in one does not need to.
* :class:`StrategySpec`: a ``trading_strategies`` row as the loop hands it to a
  :data:`StrategyResolver`, which picks the :class:`BidStrategy` for it (the strategy
  engine plugs its ``plan_day`` adapter in there).
* :class:`StorageArbitrage`: charge-buy in the cheapest forecast slots and discharge-sell
  in the dearest, paired so that every pair earns at least ``min_spread_yuan_mwh`` after
  round-trip losses and the state of charge stays in the envelope across the day.
* :func:`fit_to_envelope`: trims bids chronologically so a storage portfolio can deliver
  them all; the built-in strategy and the pre-trade risk checks both use it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Protocol, runtime_checkable

import msgspec
from msgspec import Meta

from hub.markets import MarketBid, MarketType, Side, StorageEnvelope, TradingRules

_EPS = 1e-9


class BidRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a strategy may use to bid one VPP into one market day."""

    vpp_id: str
    strategy_id: str | None = None
    market_type: MarketType
    trading_date: dt.date
    rules: TradingRules
    known_at: dt.datetime
    """Gate closure (aware): every figure below was known at or before it."""
    price_forecast_yuan_mwh: Sequence[float]
    """One per slot of the day (``rules.slots_per_day``)."""
    available_up_kw: Sequence[float]
    """Per slot: the most the VPP can deliver (the largest ``sell``), >= 0."""
    available_down_kw: Sequence[float]
    """Per slot: the most the VPP can absorb (the largest ``buy``), >= 0."""
    storage: StorageEnvelope | None = None
    """The energy limits of the VPP's storage, None when it has none."""

    @property
    def slot_hours(self) -> float:
        return self.rules.slot_minutes / 60.0

    def problems(self) -> list[str]:
        """What makes the request unusable (lengths that do not match the day)."""
        n = self.rules.slots_per_day
        out = []
        for name in ("price_forecast_yuan_mwh", "available_up_kw", "available_down_kw"):
            if len(getattr(self, name)) != n:
                out.append(f"{name} has {len(getattr(self, name))} values, the day has {n} slots")
        return out


@runtime_checkable
class BidStrategy(Protocol):
    """What the trading loop asks for a VPP's bids. Returns bids for the request's day
    only, at most one per slot, side and product; the loop's risk checks trim or refuse
    what breaks a limit, so a strategy need not know them."""

    name: str

    async def bids(self, request: BidRequest) -> Sequence[MarketBid]: ...


class StrategySpec(msgspec.Struct, frozen=True, kw_only=True):
    """A ``trading_strategies`` row (seed 3.1.5) as the loop hands it to a resolver."""

    strategy_id: str
    vpp_id: str
    name: str
    strategy_type: str | None
    """RULE_BASED, AI_DRIVEN or HYBRID (seed); None when unset."""
    config: Mapping[str, object]
    model_version: str | None = None


StrategyResolver = Callable[[StrategySpec], BidStrategy | None]
"""Picks the strategy object for a row; None: the loop skips that VPP (and says so)."""


class ArbitrageConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of :class:`StorageArbitrage` (the ``arbitrage`` key of a strategy config)."""

    min_spread_yuan_mwh: Annotated[float, Meta(ge=0)] = 50.0
    """A pair is traded only if it earns at least this per MWh discharged, after losses."""
    max_power_share: Annotated[float, Meta(gt=0, le=1)] = 1.0
    """Share of the available capacity per slot the strategy uses."""
    price_margin: Annotated[float, Meta(ge=0, le=1)] = 0.1
    """Limit prices: sell at the forecast less this share of its magnitude, buy at the
    forecast plus it (so a forecast a little off still clears), within the offer limits."""


def _round_down(quantity_kw: float, rules: TradingRules) -> float:
    if rules.bid_step_kw > 0:
        quantity_kw = float(math.floor(quantity_kw / rules.bid_step_kw + _EPS) * rules.bid_step_kw)
    if quantity_kw < max(rules.min_bid_kw, _EPS):
        return 0.0
    return quantity_kw


def _limit_price(
    side: Side, forecast: float, config: ArbitrageConfig, rules: TradingRules
) -> float | None:
    if rules.mode == "quantity_only":
        return None
    margin = abs(forecast) * config.price_margin
    price = forecast - margin if side == "sell" else forecast + margin
    return min(max(price, rules.offer_floor_yuan_mwh), rules.offer_cap_yuan_mwh)


def _energy_change(bid: MarketBid, storage: StorageEnvelope, slot_hours: float) -> float:
    """What a bid does to the stored energy (kWh): charging stores less than it buys,
    discharging draws more than it sells."""
    if bid.side == "buy":
        return bid.quantity_kw * slot_hours * storage.charge_efficiency
    return -bid.quantity_kw * slot_hours / storage.discharge_efficiency


def fit_to_envelope(
    bids: Sequence[MarketBid],
    storage: StorageEnvelope,
    *,
    slot_hours: float,
    rules: TradingRules | None = None,
) -> tuple[list[MarketBid], list[tuple[MarketBid, float]]]:
    """Walk the day in slot order and trim each energy bid so the state of charge stays
    within ``[soc_min, soc_max]`` when every bid is cleared in full. Returns the bids kept
    (possibly smaller) and ``(bid, quantity_kw removed)`` for each one trimmed.

    Ancillary capacity (``product`` set) moves no energy and is kept as is. Trimmed
    quantities are rounded down to the rules' bid step and dropped under the minimum.
    """
    soc_max = storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh
    soc = storage.soc_start_kwh
    kept: list[MarketBid] = []
    trimmed: list[tuple[MarketBid, float]] = []
    for original in sorted(bids, key=lambda b: (b.slot, b.side)):
        bid = original
        if bid.product is not None:
            kept.append(bid)
            continue
        change = _energy_change(bid, storage, slot_hours)
        if bid.side == "buy":
            room = max(soc_max - soc, 0.0)
            allowed = room / (slot_hours * storage.charge_efficiency)
        else:
            room = max(soc - storage.soc_min_kwh, 0.0)
            allowed = room * storage.discharge_efficiency / slot_hours
        quantity = bid.quantity_kw
        if quantity > allowed + _EPS:
            quantity = allowed
            if rules is not None:
                quantity = _round_down(quantity, rules)
            trimmed.append((bid, bid.quantity_kw - quantity))
            if quantity <= _EPS:
                continue
            bid = msgspec.structs.replace(bid, quantity_kw=quantity)
            change = _energy_change(bid, storage, slot_hours)
        soc += change
        kept.append(bid)
    return kept, trimmed


class StorageArbitrage:
    """Built-in strategy for a storage portfolio: buy to charge in the cheapest forecast
    slots, sell to discharge in the dearest.

    Pairs (charge slot, discharge slot) are taken in order of their spread per MWh
    discharged, ``p_dis - p_ch / (eta_ch * eta_dis)``, while it is at least
    ``min_spread_yuan_mwh``. Each pair moves as much energy as the two slots' remaining
    capacity and the state of charge between them allow (the envelope is checked over the
    whole trajectory, so the charge may come before or after the discharge when the start
    SoC permits), and a slot is used for one side only. Every pair returns the energy it
    took, so the day ends at the start SoC. A VPP without storage gets no bids.
    """

    name = "storage_arbitrage"

    def __init__(self, config: ArbitrageConfig | None = None) -> None:
        self.config = ArbitrageConfig() if config is None else config

    @classmethod
    def from_spec(cls, spec: StrategySpec) -> StorageArbitrage:
        """From a strategy row: its config's ``arbitrage`` object (defaults when absent)."""
        raw = spec.config.get("arbitrage", {})
        return cls(msgspec.convert(raw, ArbitrageConfig))

    async def bids(self, request: BidRequest) -> Sequence[MarketBid]:
        return self.plan(request)

    def plan(self, request: BidRequest) -> list[MarketBid]:
        """The synchronous body of :meth:`bids` (for the backtest and tests)."""
        storage = request.storage
        if storage is None or request.market_type != "SPOT" or request.problems():
            return []
        rules, n = request.rules, min(request.rules.slots_per_day, 96)
        prices = [float(p) for p in request.price_forecast_yuan_mwh[:n]]
        bids = []
        for t, (chosen, planned_kw) in sorted(self._pairs(request, storage, prices).items()):
            quantity = _round_down(planned_kw, rules)
            if quantity > 0:
                price = _limit_price(chosen, prices[t], self.config, rules)
                bids.append(
                    MarketBid(slot=t, side=chosen, quantity_kw=quantity, price_yuan_mwh=price)
                )
        # Rounding to the bid step may unbalance a pair by a step: trim what no longer fits.
        kept, _ = fit_to_envelope(bids, storage, slot_hours=request.slot_hours, rules=rules)
        return kept

    def _pairs(
        self, request: BidRequest, storage: StorageEnvelope, prices: list[float]
    ) -> dict[int, tuple[Side, float]]:
        """Slot -> (side, kW) of the paired trades, before rounding to the rules' step."""
        cfg, h, n = self.config, request.slot_hours, len(prices)
        share = cfg.max_power_share
        sell_room = [max(float(x), 0.0) * share for x in request.available_up_kw[:n]]
        buy_room = [max(float(x), 0.0) * share for x in request.available_down_kw[:n]]
        eta_c, eta_d = storage.charge_efficiency, storage.discharge_efficiency
        soc_max = storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh
        # soc[t]: stored energy at the start of slot t (t = n is the end of the day).
        soc = [storage.soc_start_kwh] * (n + 1)
        chosen: dict[int, tuple[Side, float]] = {}
        # Best spread first; ties go to the earlier charge slot, then the earlier discharge.
        pairs = sorted(
            (-(prices[d] - prices[c] / (eta_c * eta_d)), c, d)
            for c in range(n)
            for d in range(n)
            if c != d
        )
        for negative_spread, c, d in pairs:
            if -negative_spread < cfg.min_spread_yuan_mwh:
                break
            if chosen.get(c, ("buy",))[0] != "buy" or chosen.get(d, ("sell",))[0] != "sell":
                continue
            # Energy stored (kWh) that the pair moves, limited by both slots' power...
            energy = min(buy_room[c] * h * eta_c, sell_room[d] * h / eta_d)
            # ...and by the envelope over the slots between them.
            if c < d:
                energy = min(energy, soc_max - max(soc[c + 1 : d + 1]))
            else:
                energy = min(energy, min(soc[d + 1 : c + 1]) - storage.soc_min_kwh)
            if energy <= _EPS:
                continue
            lo, hi, delta = (c + 1, d + 1, energy) if c < d else (d + 1, c + 1, -energy)
            for t in range(lo, hi):
                soc[t] += delta
            buy_kw, sell_kw = energy / (h * eta_c), energy * eta_d / h
            buy_room[c] -= buy_kw
            sell_room[d] -= sell_kw
            chosen[c] = ("buy", chosen.get(c, ("buy", 0.0))[1] + buy_kw)
            chosen[d] = ("sell", chosen.get(d, ("sell", 0.0))[1] + sell_kw)
        return chosen


def builtin_resolver(spec: StrategySpec) -> BidStrategy | None:
    """The resolver the hub ships: every ACTIVE strategy bids with :class:`StorageArbitrage`
    (configured by its ``arbitrage`` key). The strategy engine replaces it with one that
    plans RULE_BASED/AI_DRIVEN/HYBRID days through ``hub.strategy.plan_day``."""
    try:
        return StorageArbitrage.from_spec(spec)
    except msgspec.ValidationError:
        return None
