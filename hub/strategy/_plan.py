"""One entry point for a strategy's day: what the trading loop and the backtest both call.

``plan_day(strategy_type, config, contexts, market=..., ...)`` returns the day's bids and
per-slot decisions for any strategy type, from slot contexts built as of gate closure
(:class:`ContextFeed`) and, for the optimiser, the day's :class:`DayAheadProblem`:

* RULE_BASED: the rule engine steps over the contexts; bids come from the ``bid`` actions.
* AI_DRIVEN: the optimiser plans the day (risk-aware when price scenarios are given, with
  the config's risk weight); bids follow the plan (:func:`derive_bids`).
* HYBRID: the plan, then the rules as overrides (:func:`hybrid_decisions`); bids are the
  merged decisions' bids.

Bids always respect the market: prices are dropped in a quantity-only market and clipped
to ``[floor, cap]`` in a price-quantity one, and bids under the minimum size are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec
from msgspec import Meta

from ._context import SlotContext
from ._engine import Bid, RuleEngine, RuleState, SlotDecision
from ._hybrid import hybrid_decisions, plan_decisions
from ._optimise import DayAheadProblem, MarketMode, PriceScenarios, Schedule, derive_bids, optimise
from ._rules import OptimiserConfig, StrategyConfig
from ._validate import StrategyType


class MarketRules(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy must know of the market it bids into (the markets issue owns the
    full trading rules)."""

    mode: MarketMode = "price_quantity"
    floor_yuan_mwh: float
    cap_yuan_mwh: float
    min_bid_kw: Annotated[float, Meta(ge=0)] = 0.0


class DayPlan(msgspec.Struct, frozen=True, kw_only=True):
    bids: list[Bid]
    decisions: list[SlotDecision]
    state: RuleState
    """Hand it back with the next day's contexts (``crosses_*`` carry across days)."""
    schedule: Schedule | None = None


def _fit(bid: Bid, market: MarketRules) -> Bid | None:
    if bid.quantity_kw < max(market.min_bid_kw, 1e-9):
        return None
    if market.mode == "quantity_only":
        price = None
    elif bid.price_yuan_mwh is None:
        # A price taker in a price-quantity market: sell at the floor, buy at the cap.
        price = market.floor_yuan_mwh if bid.side == "sell" else market.cap_yuan_mwh
    else:
        price = min(max(bid.price_yuan_mwh, market.floor_yuan_mwh), market.cap_yuan_mwh)
    return msgspec.structs.replace(bid, price_yuan_mwh=price)


def plan_day(
    strategy_type: StrategyType,
    config: StrategyConfig,
    contexts: Sequence[SlotContext],
    *,
    market: MarketRules,
    state: RuleState | None = None,
    problem: DayAheadProblem | None = None,
    price_scenarios: list[list[float]] | None = None,
    scenario_probabilities: list[float] | None = None,
) -> DayPlan:
    """The day's bids and decisions for a validated ``config`` (see the module doc)."""
    engine = RuleEngine(config.rules)
    state = engine.initial_state() if state is None else state
    schedule: Schedule | None = None
    if strategy_type == "RULE_BASED":
        decisions, state = engine.run(contexts, state)
    else:
        if problem is None:
            raise ValueError(f"a {strategy_type} strategy needs the day's DayAheadProblem")
        settings = config.optimiser or OptimiserConfig()
        scenarios = (
            None
            if price_scenarios is None
            else PriceScenarios(
                prices_yuan_mwh=price_scenarios,
                probabilities=scenario_probabilities,
                risk_weight=settings.risk_weight,
                alpha=settings.cvar_alpha,
            )
        )
        schedule = optimise(problem, scenarios)
        planned = derive_bids(
            schedule,
            problem,
            market.mode,
            floor_yuan_mwh=market.floor_yuan_mwh,
            cap_yuan_mwh=market.cap_yuan_mwh,
        )
        decisions = plan_decisions(schedule, problem, planned)
        if strategy_type == "HYBRID":
            decisions, state = hybrid_decisions(decisions, engine, contexts, state)
    bids = [fit for d in decisions if d.bid is not None and (fit := _fit(d.bid, market))]
    return DayPlan(bids=bids, decisions=decisions, state=state, schedule=schedule)
