"""The strategy engine behind the trading loop's interface: :class:`StrategyBidder`.

The trading loop (``hub.trading``) asks a :class:`~hub.trading.BidStrategy` for a VPP's
bids with a :class:`~hub.trading.BidRequest` holding only what is known at gate closure.
:class:`StrategyBidder` answers it with :func:`~hub.strategy.plan_day`, and the backtest
(``_backtest``) calls the very same :meth:`StrategyBidder.plan` with requests it builds
from history, so live and backtest run the same code on the same kind of input.

From a request to a day plan (:func:`request_contexts`, :func:`request_problem`):

* one :class:`SlotContext` per slot: ``known_at`` = the request's gate closure,
  ``price_forecast`` = the request's forecast, ``available_up`` / ``available_down`` its
  capacities, ``soc`` = the storage envelope's start SoC in % (None without storage),
  ``day_type`` from the trading date (Saturday/Sunday = weekend). The request carries no
  published price, load, PV forecast or frequency, so rules on those read *unknown* and
  never fire (the same live and in backtest);
* AI_DRIVEN / HYBRID: a :class:`DayAheadProblem` with the forecast as the expected price
  and the storage envelope as one battery (power limits = the largest available
  capacity of the day, degradation ``degradation_yuan_kwh``);
* :class:`MarketRules` from the request's :class:`~hub.markets.TradingRules` (offer floor
  and cap, minimum bid); quantities are rounded down to the bid step.

The rule state (``crosses_*``) is carried from one day to the next inside the bidder, in
memory: a day is always planned from the state after the latest earlier day planned (so a
day asked for twice gets the same plan). :class:`EngineResolver` keeps one bidder per
strategy (and config) for the trading loop, so live the state lasts as long as the hub
process; after a restart the first slot of a day has no previous value (``crosses_*``
reads unknown there).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import msgspec

from hub.markets import MarketBid, TradingRules, day_start
from hub.trading import BidRequest, BidStrategy, StrategySpec

from ._context import SlotContext
from ._engine import RuleState
from ._optimise import Battery, DayAheadProblem, OptimiserError
from ._plan import DayPlan, MarketRules, plan_day
from ._rules import DayType, StrategyConfig
from ._validate import StrategyType, validate_config

DEGRADATION_YUAN_KWH = 0.02
_EPS = 1e-9


def day_type_of(trading_date: dt.date) -> DayType:
    return "weekend" if trading_date.weekday() >= 5 else "workday"


def market_rules(rules: TradingRules) -> MarketRules:
    return MarketRules(
        mode=rules.mode,
        floor_yuan_mwh=rules.offer_floor_yuan_mwh,
        cap_yuan_mwh=rules.offer_cap_yuan_mwh,
        min_bid_kw=rules.min_bid_kw,
    )


def _ms(instant: dt.datetime) -> int:
    return int(instant.timestamp() * 1000)


def request_contexts(request: BidRequest) -> list[SlotContext]:
    """The slot contexts of a request (module docstring): what a rule may read."""
    rules = request.rules
    n = rules.slots_per_day
    day_ms = _ms(day_start(rules, request.trading_date))
    slot_ms = rules.slot_minutes * 60_000
    known = _ms(request.known_at)
    storage = request.storage
    soc = (
        None
        if storage is None or storage.energy_kwh <= 0
        else 100.0 * storage.soc_start_kwh / storage.energy_kwh
    )
    day_type = day_type_of(request.trading_date)
    forecast = request.price_forecast_yuan_mwh
    up, down = request.available_up_kw, request.available_down_kw
    return [
        SlotContext(
            slot_start_ms=day_ms + t * slot_ms,
            known_at_ms=known,
            slot=t,
            day_type=day_type,
            price_forecast_yuan_mwh=float(forecast[t]),
            soc_pct=soc,
            available_up_kw=float(up[t]),
            available_down_kw=float(down[t]),
        )
        for t in range(min(n, 96))
    ]


def request_problem(
    request: BidRequest, *, degradation_yuan_kwh: float = DEGRADATION_YUAN_KWH
) -> DayAheadProblem:
    """The optimiser's day (module docstring): the forecast and the storage as one battery."""
    storage = request.storage
    batteries: list[Battery] = []
    if storage is not None and storage.energy_kwh > 0:
        cap = storage.energy_kwh
        soc_max = cap if storage.soc_max_kwh is None else min(storage.soc_max_kwh, cap)
        start = min(max(storage.soc_start_kwh, storage.soc_min_kwh), soc_max)
        batteries.append(
            Battery(
                id="storage",
                capacity_kwh=cap,
                max_charge_kw=max([0.0, *map(float, request.available_down_kw)]),
                max_discharge_kw=max([0.0, *map(float, request.available_up_kw)]),
                soc_pct=100.0 * start / cap,
                soc_min_pct=100.0 * storage.soc_min_kwh / cap,
                soc_max_pct=100.0 * soc_max / cap,
                eta_charge=storage.charge_efficiency,
                eta_discharge=storage.discharge_efficiency,
                degradation_yuan_kwh=degradation_yuan_kwh,
            )
        )
    return DayAheadProblem(
        prices_yuan_mwh=[float(p) for p in request.price_forecast_yuan_mwh],
        batteries=batteries,
        slot_hours=request.slot_hours,
        day_start_ms=_ms(day_start(request.rules, request.trading_date)),
    )


def _round_down(quantity_kw: float, rules: TradingRules) -> float:
    if rules.bid_step_kw > 0:
        quantity_kw = math.floor(quantity_kw / rules.bid_step_kw + _EPS) * rules.bid_step_kw
    return quantity_kw if quantity_kw >= max(rules.min_bid_kw, _EPS) else 0.0


def market_bids(
    plan: DayPlan, contexts: Sequence[SlotContext], rules: TradingRules
) -> list[MarketBid]:
    """The plan's bids as the market takes them (slot of the day, the bid step)."""
    slot_of = {c.slot_start_ms: c.slot for c in contexts}
    out: list[MarketBid] = []
    for bid in plan.bids:
        quantity = _round_down(bid.quantity_kw, rules)
        if quantity > 0:
            out.append(
                MarketBid(
                    slot=slot_of[bid.slot_start_ms],
                    side=bid.side,
                    quantity_kw=quantity,
                    price_yuan_mwh=bid.price_yuan_mwh,
                )
            )
    return out


class StrategyBidder:
    """A strategy row (RULE_BASED / AI_DRIVEN / HYBRID) as the trading loop's
    :class:`~hub.trading.BidStrategy`; :meth:`plan` is what the backtest calls."""

    def __init__(
        self,
        strategy_type: StrategyType,
        config: StrategyConfig,
        *,
        name: str = "strategy_engine",
        state: RuleState | None = None,
        degradation_yuan_kwh: float = DEGRADATION_YUAN_KWH,
    ) -> None:
        self.name = name
        self.strategy_type = strategy_type
        self.config = config
        self.state = state
        """The rule state after the latest day planned."""
        self.degradation_yuan_kwh = degradation_yuan_kwh
        self.last_plan: DayPlan | None = None
        """The last day planned (decisions per slot, with provenance)."""
        self._after: dict[dt.date, RuleState] = {}
        self._initial = state

    @classmethod
    def from_spec(cls, spec: StrategySpec) -> StrategyBidder:
        """Raises :class:`~hub.strategy.ConfigError` (ValueError for an unknown type)."""
        if spec.strategy_type not in ("RULE_BASED", "AI_DRIVEN", "HYBRID"):
            raise ValueError(f"unknown strategy type {spec.strategy_type!r}")
        strategy_type: StrategyType = spec.strategy_type  # type: ignore[assignment]
        config = validate_config(dict(spec.config), strategy_type)
        return cls(strategy_type, config, name=f"strategy:{spec.strategy_id}")

    async def bids(self, request: BidRequest) -> Sequence[MarketBid]:
        return self.plan(request)[0]

    def plan(self, request: BidRequest) -> tuple[list[MarketBid], DayPlan | None]:
        """The day's bids and the plan behind them (None when the request is unusable or
        the optimiser finds the day infeasible: no bids, the rule state unchanged)."""
        if request.problems():
            return [], None
        contexts = request_contexts(request)
        problem = None
        if self.strategy_type != "RULE_BASED":
            problem = request_problem(request, degradation_yuan_kwh=self.degradation_yuan_kwh)
        # The state after the latest day planned before this one: asking for a day twice
        # (a submission that failed and is retried) plans it from the same state.
        before = [d for d in self._after if d < request.trading_date]
        state = self._after[max(before)] if before else self._initial
        try:
            plan = plan_day(
                self.strategy_type,
                self.config,
                contexts,
                market=market_rules(request.rules),
                state=state,
                problem=problem,
            )
        except OptimiserError:
            return [], None
        self._after[request.trading_date] = plan.state
        for old in sorted(self._after)[:-7]:
            del self._after[old]
        self.state = plan.state
        self.last_plan = plan
        return market_bids(plan, contexts, request.rules), plan


def strategy_resolver(spec: StrategySpec) -> StrategyBidder | None:
    """A :class:`StrategyBidder` for a strategy row whose type and config pass validation;
    None (the loop skips the VPP and says so) otherwise."""
    try:
        return StrategyBidder.from_spec(spec)
    except ValueError:  # ConfigError too
        return None


class EngineResolver:
    """The hub's ``hub.trading.StrategyResolver``: a strategy row whose type and config
    pass validation bids through its :class:`StrategyBidder` (one per strategy and config,
    kept so the rule state carries from day to day); any other row goes to ``fallback``
    (the trading package's built-in resolver: StorageArbitrage from an ``arbitrage`` key)."""

    def __init__(
        self, fallback: Callable[[StrategySpec], BidStrategy | None] | None = None
    ) -> None:
        self._fallback = fallback
        self._bidders: dict[str, tuple[bytes, StrategyBidder]] = {}

    def __call__(self, spec: StrategySpec) -> BidStrategy | None:
        key = msgspec.json.encode([spec.strategy_type, spec.config], order="sorted")
        held = self._bidders.get(spec.strategy_id)
        if held is not None and held[0] == key:
            return held[1]
        bidder = strategy_resolver(spec)
        if bidder is None:
            self._bidders.pop(spec.strategy_id, None)
            return None if self._fallback is None else self._fallback(spec)
        self._bidders[spec.strategy_id] = (key, bidder)
        return bidder
