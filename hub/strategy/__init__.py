"""Strategy engine, pure part: rules, their validation and evaluation, and the optimiser.

No I/O here (a test keeps it so): the live trading loop and the backtest import the same
code and differ only in where their :class:`SlotContext` values come from.

* Rules (RULE_BASED): :class:`StrategyConfig` / :class:`Rule` (seed 4.2.1 ``config``),
  :func:`validate_config` (every problem with its path, :class:`ConfigError`),
  :func:`config_schema` (JSON Schema for the console), :class:`RuleEngine` (one pure
  :meth:`~RuleEngine.step` per slot), :class:`ContextFeed` (contexts as known at gate
  closure: the look-ahead barrier).

* Optimiser (AI_DRIVEN / HYBRID): :class:`DayAheadProblem` -> :func:`optimise` (HiGHS
  LP, optionally risk-aware over :class:`PriceScenarios`) -> :class:`Schedule`;
  :func:`derive_bids` for the market's mode; :func:`hybrid_decisions` applies the rules
  as overrides on the plan.

* :func:`plan_day`: the one call for a day of any strategy type, used alike by the
  trading loop and the backtest.

* The backtest (pure, loaded lazily: it imports hub.markets and hub.trading):
  :func:`run_backtest` runs the live engine (:class:`StrategyBidder`, the trading loop's
  ``BidStrategy``) day by day over history; :class:`BacktestPool` (I/O) runs the tasks.

* The strategies API (seed 4.2.1, I/O, loaded lazily): :class:`StrategyController`; the
  lifecycle rules are pure (:func:`transition_problem`), the use cases in ``_service``
  (:func:`suspend_strategy` for the trading loop's circuit breaker).

See docs/strategy.md for the evaluation order and conflict rules.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._context import (
    FIELD_ATTRIBUTES,
    ContextFeed,
    Forecasts,
    GateClosure,
    Published,
    SlotContext,
)
from ._engine import Bid, Notification, RuleEngine, RuleState, SlotDecision, Suppressed
from ._hybrid import PLAN, hybrid_decisions, override, plan_decisions
from ._lifecycle import TRADERS, TRANSITIONS, Status, transition_problem
from ._optimise import (
    Battery,
    DayAheadProblem,
    EvSession,
    HvacZone,
    LinearProgram,
    MarketMode,
    OptimiserError,
    PriceScenarios,
    PvPlant,
    Schedule,
    build_lp,
    derive_bids,
    optimise,
    solve_lp,
)
from ._plan import DayPlan, MarketRules, plan_day
from ._rules import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    Action,
    AllOf,
    AnyOf,
    Between,
    BidAction,
    BidParameters,
    Channel,
    ChargeAction,
    Comparison,
    Condition,
    CrossesAbove,
    CrossesBelow,
    CurtailParameters,
    CurtailPvAction,
    DayType,
    DischargeAction,
    Equal,
    Greater,
    GreaterEqual,
    HvacOffsetAction,
    HvacOffsetParameters,
    In,
    Less,
    LessEqual,
    ModelConfig,
    Not,
    NotEqual,
    NotifyAction,
    NotifyParameters,
    OptimiserConfig,
    PowerParameters,
    Rule,
    ShiftEvAction,
    ShiftEvParameters,
    StrategyConfig,
    channel_of,
)
from ._schema import config_schema, config_schema_text
from ._validate import ConfigError, Problem, StrategyType, rank, validate_config

if TYPE_CHECKING:
    from ._backtest import Backtest, BacktestCancelled, Fleet, Outcome, Progress, run_backtest
    from ._bidder import EngineResolver, StrategyBidder, strategy_resolver
    from ._controller import StrategyController
    from ._service import active_strategies, config_digest, suspend_strategy
    from ._worker import BacktestPool

_LAZY = {
    "Backtest": "._backtest",
    "BacktestCancelled": "._backtest",
    "BacktestPool": "._worker",
    "Fleet": "._backtest",
    "Outcome": "._backtest",
    "Progress": "._backtest",
    "StrategyBidder": "._bidder",
    "EngineResolver": "._bidder",
    "run_backtest": "._backtest",
    "strategy_resolver": "._bidder",
    "StrategyController": "._controller",
    "active_strategies": "._service",
    "config_digest": "._service",
    "suspend_strategy": "._service",
}

__all__ = [
    "FIELD_ATTRIBUTES",
    "PLAN",
    "SLOTS_PER_DAY",
    "SLOT_MINUTES",
    "TRADERS",
    "TRANSITIONS",
    "Action",
    "AllOf",
    "AnyOf",
    "Backtest",
    "BacktestCancelled",
    "BacktestPool",
    "Battery",
    "Between",
    "Bid",
    "BidAction",
    "BidParameters",
    "Channel",
    "ChargeAction",
    "Comparison",
    "Condition",
    "ConfigError",
    "ContextFeed",
    "CrossesAbove",
    "CrossesBelow",
    "CurtailParameters",
    "CurtailPvAction",
    "DayAheadProblem",
    "DayPlan",
    "DayType",
    "DischargeAction",
    "EngineResolver",
    "Equal",
    "EvSession",
    "Fleet",
    "Forecasts",
    "GateClosure",
    "Greater",
    "GreaterEqual",
    "HvacOffsetAction",
    "HvacOffsetParameters",
    "HvacZone",
    "In",
    "Less",
    "LessEqual",
    "LinearProgram",
    "MarketMode",
    "MarketRules",
    "ModelConfig",
    "Not",
    "NotEqual",
    "Notification",
    "NotifyAction",
    "NotifyParameters",
    "OptimiserConfig",
    "OptimiserError",
    "Outcome",
    "PowerParameters",
    "PriceScenarios",
    "Problem",
    "Progress",
    "Published",
    "PvPlant",
    "Rule",
    "RuleEngine",
    "RuleState",
    "Schedule",
    "ShiftEvAction",
    "ShiftEvParameters",
    "SlotContext",
    "SlotDecision",
    "Status",
    "StrategyBidder",
    "StrategyConfig",
    "StrategyController",
    "StrategyType",
    "Suppressed",
    "active_strategies",
    "build_lp",
    "channel_of",
    "config_digest",
    "config_schema",
    "config_schema_text",
    "derive_bids",
    "hybrid_decisions",
    "optimise",
    "override",
    "plan_day",
    "plan_decisions",
    "rank",
    "run_backtest",
    "solve_lp",
    "strategy_resolver",
    "suspend_strategy",
    "transition_problem",
    "validate_config",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
