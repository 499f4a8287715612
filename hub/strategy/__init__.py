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

See docs/strategy.md for the evaluation order and conflict rules.
"""

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

__all__ = [
    "FIELD_ATTRIBUTES",
    "PLAN",
    "SLOTS_PER_DAY",
    "SLOT_MINUTES",
    "Action",
    "AllOf",
    "AnyOf",
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
    "Equal",
    "EvSession",
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
    "PowerParameters",
    "PriceScenarios",
    "Problem",
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
    "StrategyConfig",
    "StrategyType",
    "Suppressed",
    "build_lp",
    "channel_of",
    "config_schema",
    "config_schema_text",
    "derive_bids",
    "hybrid_decisions",
    "optimise",
    "override",
    "plan_day",
    "plan_decisions",
    "rank",
    "solve_lp",
    "validate_config",
]
