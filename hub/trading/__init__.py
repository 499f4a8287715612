"""Trading: bids, risk control, circuit breaker and the automated trading loop.

Pure (no I/O, importable by the backtest): the strategy interface the loop calls
(:class:`BidStrategy`, :class:`BidRequest`, :class:`StrategySpec`, a
:data:`StrategyResolver`) and the built-in :class:`StorageArbitrage` strategy, with
:func:`fit_to_envelope` keeping storage bids feasible for the state of charge; risk
limits, pre-trade checks and the breaker's triggers (:func:`pre_trade`,
:func:`breaker_trigger`); REST units and slot names (:func:`parse_time_slot`).

Loaded lazily (I/O): the controller (submit-bid, results, risk limits, breaker), the
service (submissions, clearing, awards to dispatch, execution, the breaker's state) and
the :class:`TradingLoop`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
from ._runtime import AlertHook, BreakerAlert, TradingRuntime
from ._strategy import (
    ArbitrageConfig,
    BidRequest,
    BidStrategy,
    StorageArbitrage,
    StrategyResolver,
    StrategySpec,
    builtin_resolver,
    fit_to_envelope,
)
from ._units import format_time_slot, kw_to_kwh, kwh_to_kw, parse_time_slot

if TYPE_CHECKING:
    from ._controller import TradingController
    from ._loop import TradingLoop
    from ._service import (
        SubmitRequest,
        collect_clearing,
        reset_breaker,
        submit_bids,
        trip_breaker,
    )

_LAZY = {
    "TradingController": "._controller",
    "TradingLoop": "._loop",
    "SubmitRequest": "._service",
    "collect_clearing": "._service",
    "reset_breaker": "._service",
    "submit_bids": "._service",
    "trip_breaker": "._service",
}

__all__ = [
    "AlertHook",
    "ArbitrageConfig",
    "BidRequest",
    "BidStrategy",
    "BreakerAlert",
    "BreakerCounters",
    "Finding",
    "RiskContext",
    "RiskDecision",
    "RiskLimits",
    "StorageArbitrage",
    "StrategyResolver",
    "StrategySpec",
    "SubmitRequest",
    "TradingController",
    "TradingLoop",
    "TradingRuntime",
    "Trip",
    "breaker_trigger",
    "builtin_resolver",
    "collect_clearing",
    "fit_to_envelope",
    "format_time_slot",
    "kw_to_kwh",
    "kwh_to_kw",
    "parse_time_slot",
    "pre_trade",
    "record_call",
    "reset_breaker",
    "slot_deviates",
    "submit_bids",
    "trip_breaker",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
