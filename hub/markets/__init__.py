"""Markets: the connector interface every market plug-in speaks, and the connectors.

Pure (no I/O, importable by the backtest): the contract types in ``_connector`` and the
trading rules in ``_rules``, the OpenADR event logic in ``_openadr_events`` and the VEN
configuration in ``_openadr_config``. Connectors that do I/O load lazily (the OpenADR 2.0b
VEN: :func:`start_ven`, :class:`OpenAdrVen`; the HTTP connector :class:`HttpMarketConnector`
and the simulator's server :class:`SimServer`; reading history files), as do the
``market-connectors``/``market-data`` controller and the service behind it (credentials
encrypted at rest, the registry of live connectors, calls bounded at one seam).
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._clearing import (
    BookClearing,
    DayClearing,
    OrderBook,
    StackShape,
    accept_at_prices,
    background_book,
    clear_book,
    clear_day,
    storage_trim,
    storage_trim_many,
)
from ._connector import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    AncillaryProduct,
    BidRejectedError,
    BidSubmission,
    ClearedBid,
    ClearingResult,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidRequestError,
    MarketBid,
    MarketConnector,
    MarketMode,
    MarketStatement,
    MarketStatus,
    MarketType,
    MarketUnavailableError,
    PricePoint,
    Side,
    StatementLine,
    StorageEnvelope,
    SubmissionReceipt,
)
from ._endpoints import Endpoint, endpoint_problems, parse_endpoint
from ._openadr_config import OpenAdrVenConfig, ven_config_from_connector
from ._openadr_events import MalformedEventError
from ._presets import PRESETS
from ._prices import (
    PriceHistoryError,
    PriceSeries,
    PriceShape,
    parse_price_csv,
    price_csv,
    reference_year,
    synthetic_prices,
)
from ._rules import Qualification, TradingRules
from ._sim import (
    DemandResponseCall,
    ReplayMarket,
    SimConfig,
    SimFaults,
    SimulatedExchange,
)
from ._validation import (
    BidProblem,
    bid_problems,
    bid_rule_problems,
    day_start,
    gate_closure_at,
    rule_problems,
    slot_at,
    slot_start,
)

if TYPE_CHECKING:
    from ._controller import MarketController
    from ._factory import open_connector
    from ._history import load_price_history, replay_from_file
    from ._http import HttpMarketConnector, HttpTimeouts
    from ._openadr import OpenAdrVen, start_ven
    from ._openadr_connectors import connector_ven_configs, start_vens
    from ._service import (
        ConnectorBuilder,
        ConnectorConfig,
        ConnectorRegistry,
        SecretBox,
        call_connector,
    )
    from ._sim_server import SimServer

_LAZY = {
    "open_connector": "._factory",
    "HttpMarketConnector": "._http",
    "HttpTimeouts": "._http",
    "SimServer": "._sim_server",
    "load_price_history": "._history",
    "replay_from_file": "._history",
    "OpenAdrVen": "._openadr",
    "connector_ven_configs": "._openadr_connectors",
    "start_vens": "._openadr_connectors",
    "start_ven": "._openadr",
    "MarketController": "._controller",
    "ConnectorBuilder": "._service",
    "ConnectorConfig": "._service",
    "ConnectorRegistry": "._service",
    "SecretBox": "._service",
    "call_connector": "._service",
}

__all__ = [
    "PRESETS",
    "SLOTS_PER_DAY",
    "SLOT_MINUTES",
    "AncillaryProduct",
    "BidProblem",
    "BidRejectedError",
    "BidSubmission",
    "BookClearing",
    "ClearedBid",
    "ClearingResult",
    "ConnectorBuilder",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorRegistry",
    "ConnectorTimeoutError",
    "DayClearing",
    "DemandResponseCall",
    "Endpoint",
    "HttpMarketConnector",
    "HttpTimeouts",
    "InvalidRequestError",
    "MalformedEventError",
    "MarketBid",
    "MarketConnector",
    "MarketController",
    "MarketMode",
    "MarketStatement",
    "MarketStatus",
    "MarketType",
    "MarketUnavailableError",
    "OpenAdrVen",
    "OpenAdrVenConfig",
    "OrderBook",
    "PriceHistoryError",
    "PricePoint",
    "PriceSeries",
    "PriceShape",
    "Qualification",
    "ReplayMarket",
    "SecretBox",
    "Side",
    "SimConfig",
    "SimFaults",
    "SimServer",
    "SimulatedExchange",
    "StackShape",
    "StatementLine",
    "StorageEnvelope",
    "SubmissionReceipt",
    "TradingRules",
    "accept_at_prices",
    "background_book",
    "bid_problems",
    "bid_rule_problems",
    "call_connector",
    "clear_book",
    "clear_day",
    "connector_ven_configs",
    "day_start",
    "endpoint_problems",
    "gate_closure_at",
    "load_price_history",
    "open_connector",
    "parse_endpoint",
    "parse_price_csv",
    "price_csv",
    "reference_year",
    "replay_from_file",
    "rule_problems",
    "slot_at",
    "slot_start",
    "start_ven",
    "start_vens",
    "storage_trim",
    "storage_trim_many",
    "synthetic_prices",
    "ven_config_from_connector",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
