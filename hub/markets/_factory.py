"""Open the connector an ``api_endpoint`` names (I/O: a replay reads its file, an HTTP
connector opens a client)."""

from __future__ import annotations

from collections.abc import Mapping

from protocol.clock import Clock

from ._connector import MarketConnector
from ._endpoints import parse_endpoint
from ._presets import PRESETS
from ._rules import TradingRules
from ._sim import SimulatedExchange


def open_connector(
    api_endpoint: str,
    *,
    clock: Clock,
    rules: TradingRules | None = None,
    name: str = "",
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> MarketConnector:
    """The connector of ``api_endpoint`` (see :mod:`hub.markets._endpoints`), with the
    connector's ``trading_rules`` (default: the sim preset's, or Shandong). ``headers`` are
    sent by an HTTP connector (its ``auth_config``); :class:`ValueError` for an endpoint
    that names none, :class:`~hub.markets.PriceHistoryError` for an unreadable history."""
    endpoint = parse_endpoint(api_endpoint)
    if endpoint.kind == "http":
        from ._http import HttpMarketConnector

        return HttpMarketConnector(
            endpoint.url, name=name or "http", headers=headers, timeout_s=timeout_s
        )
    chosen = rules or PRESETS[endpoint.preset]
    if endpoint.kind == "replay":
        from ._history import replay_from_file

        return replay_from_file(endpoint.path, clock, rules=chosen, name=name or "replay")
    return SimulatedExchange(
        clock, rules=chosen, seed=endpoint.seed, name=name or "sim", timeout_s=timeout_s
    )
