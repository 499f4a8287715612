"""What the trading service holds for one hub process: the strategy resolver and the
breaker's alert hooks (made by the app's lifespan; tests make their own)."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from ._strategy import BidStrategy, StorageArbitrage, StrategyResolver, StrategySpec


def default_resolver(spec: StrategySpec) -> BidStrategy | None:
    """A config with an ``arbitrage`` key bids with the built-in
    :class:`~hub.trading.StorageArbitrage`; any other through the strategy engine
    (``hub.strategy.strategy_resolver``: RULE_BASED / AI_DRIVEN / HYBRID via plan_day)."""
    if "arbitrage" in spec.config:
        try:
            return StorageArbitrage.from_spec(spec)
        except msgspec.ValidationError:
            return None
    from hub.strategy._bidder import strategy_resolver

    return strategy_resolver(spec)


class BreakerAlert(msgspec.Struct, frozen=True, kw_only=True):
    """A VPP's breaker tripped or was reset (what an alert hook gets)."""

    vpp_id: str
    event: str
    """``trip`` or ``reset``."""
    trigger: str | None
    reason: str
    at: dt.datetime
    actor: str
    safe_dispatch: str = ""
    """What was done to the VPP's dispatch (e.g. how many slots were set to 0 kW)."""


AlertHook = Callable[[BreakerAlert], Awaitable[None] | None]
"""A function others route to webhooks, mail or the console; sync or async. A hook that
raises is logged and counted, never stops the breaker."""


@dataclass(slots=True)
class TradingRuntime:
    resolver: StrategyResolver = default_resolver
    alert_hooks: list[AlertHook] = field(default_factory=list)
    _strategies: dict[tuple[str, bytes], BidStrategy | None] = field(default_factory=dict)

    def strategy_for(self, spec: StrategySpec) -> BidStrategy | None:
        """The strategy object of a row, kept while its config is unchanged (a rule
        engine carries state such as ``crosses_*`` from one day to the next)."""
        key = (spec.strategy_id, msgspec.json.encode([spec.strategy_type, spec.config]))
        if key not in self._strategies:
            self._strategies = {k: v for k, v in self._strategies.items() if k[0] != key[0]}
            self._strategies[key] = self.resolver(spec)
        return self._strategies[key]

    def add_alert_hook(self, hook: AlertHook) -> None:
        self.alert_hooks.append(hook)

    async def alert(self, alert: BreakerAlert) -> list[BaseException]:
        """Call every hook; returns what they raised (the caller logs and counts it)."""
        failures: list[BaseException] = []
        for hook in list(self.alert_hooks):
            try:
                result = hook(alert)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                failures.append(exc)
        return failures
