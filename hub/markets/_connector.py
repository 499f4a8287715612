"""The market connector contract (pure, no I/O): what every market plug-in speaks.

One interface for every market the hub trades in: the simulated exchange, a price replay,
an OpenADR 2.0b VEN, and a province's real API as one more plug-in. Connectors translate
their own errors to :class:`ConnectorError` (and its subclasses) at this one seam and
state their timeouts; the trading service never sees a transport exception.

Units inside the hub: power in kW (generator convention: positive = the VPP delivers
energy, a ``sell``), prices in yuan/MWh, one slot = 15 minutes, 96 slots a day
(``slot`` 0 starts at 00:00 of ``trading_date`` in the market's time zone). The seed's REST
fields (``bid_price`` yuan/kWh, ``bid_quantity`` kWh per slot) are converted at the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal, Protocol, runtime_checkable

import msgspec
from msgspec import Meta

MarketType = Literal["SPOT", "ANCILLARY", "CAPACITY", "DEMAND_RESPONSE"]
"""Seed 3.1 ``market_type`` (SPOT, ANCILLARY, CAPACITY) plus demand response programs."""
MarketMode = Literal["price_quantity", "quantity_only"]
"""报量报价 (price and quantity) or 报量不报价 (quantity only, price taker)."""
MarketStatus = Literal["OPEN", "GATE_CLOSED", "CLEARED", "SETTLED", "SUSPENDED"]
Side = Literal["sell", "buy"]
AncillaryProduct = Literal["regulation", "reserve"]

SLOT_MINUTES = 15
SLOTS_PER_DAY = 96


class MarketBid(msgspec.Struct, frozen=True, kw_only=True):
    """One offer for one slot of one trading day."""

    slot: Annotated[int, Meta(ge=0, le=SLOTS_PER_DAY - 1)]
    side: Side
    quantity_kw: Annotated[float, Meta(gt=0)]
    price_yuan_mwh: float | None = None
    """Limit price (sell: at least, buy: at most); None in a quantity-only market."""
    product: AncillaryProduct | None = None
    """ANCILLARY only: which capacity product; ``quantity_kw`` is capacity then."""


class BidSubmission(msgspec.Struct, frozen=True, kw_only=True):
    """A VPP's bids for one market and day, sent once: ``idempotency_key`` (one per VPP,
    market, day and slot set) makes a resubmission after a restart a no-op."""

    vpp_id: str
    market_type: MarketType
    trading_date: dt.date
    bids: Sequence[MarketBid]
    idempotency_key: str
    storage: StorageEnvelope | None = None
    """The physical limits of a storage portfolio behind the bids, when the VPP has one:
    a market that honours it (the simulated exchange does) keeps the cleared quantities
    feasible for the state of charge across the day after partial acceptance."""


class StorageEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """Energy limits of a VPP's storage, for feasible clearing of multi-slot bids."""

    energy_kwh: Annotated[float, Meta(ge=0)]
    soc_start_kwh: Annotated[float, Meta(ge=0)]
    soc_min_kwh: Annotated[float, Meta(ge=0)] = 0.0
    soc_max_kwh: float | None = None
    """None: ``energy_kwh``."""
    charge_efficiency: Annotated[float, Meta(gt=0, le=1)] = 0.95
    discharge_efficiency: Annotated[float, Meta(gt=0, le=1)] = 0.95


class SubmissionReceipt(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    """The market's id for the submission (the same for a repeated idempotency key)."""
    accepted_at: dt.datetime
    duplicate: bool = False
    """True when the market had this idempotency key already (nothing new was stored)."""


class ClearedBid(msgspec.Struct, frozen=True, kw_only=True):
    """What the market made of one :class:`MarketBid` (same slot, side and product)."""

    slot: int
    side: Side
    offered_kw: float
    cleared_kw: float
    """0 <= cleared_kw <= offered_kw."""
    clearing_price_yuan_mwh: float
    product: AncillaryProduct | None = None


class ClearingResult(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    vpp_id: str
    market_type: MarketType
    trading_date: dt.date
    bids: Sequence[ClearedBid]


class PricePoint(msgspec.Struct, frozen=True, kw_only=True):
    """One slot of market data (seed 4.3.1 realtime: price, volume, timestamp, status)."""

    timestamp: dt.datetime
    """Start of the slot, aware (UTC)."""
    price_yuan_mwh: float
    volume_mwh: float
    market_status: MarketStatus
    realtime_price_yuan_mwh: float | None = None
    """The real-time/balancing price of the slot once known (deviations settle at it)."""
    product: AncillaryProduct | None = None
    """ANCILLARY only: the capacity product whose price (yuan/MW·h) this is."""


class StatementLine(msgspec.Struct, frozen=True, kw_only=True):
    slot: int
    cleared_kwh: float
    clearing_price_yuan_mwh: float
    realtime_price_yuan_mwh: float
    product: AncillaryProduct | None = None
    mileage_mw: float | None = None
    """Regulation only: mileage followed in the slot (sum of |signal steps|, MW)."""


class MarketStatement(msgspec.Struct, frozen=True, kw_only=True):
    """The market's own settlement figures for a VPP's day (what it will pay or charge
    before deviations, which the hub computes from metered delivery)."""

    vpp_id: str
    market_type: MarketType
    trading_date: dt.date
    lines: Sequence[StatementLine]


class ConnectorError(Exception):
    """Anything that went wrong talking to a market: the only exception a connector
    raises. ``retryable`` says whether trying again may help.

    ConnectorError
     +-- ConnectorTimeoutError    no answer within timeout_s (retryable)
     +-- MarketUnavailableError   garbage, an error status, maintenance (retryable)
     +-- BidRejectedError         a market rule refused the bids (``rule``; not retryable)
     +-- InvalidRequestError      the request itself was wrong (not retryable)
    """

    retryable: bool = True

    def __init__(self, message: str, *, connector: str = "") -> None:
        super().__init__(message)
        self.connector = connector


class ConnectorTimeoutError(ConnectorError):
    """The market did not answer within the connector's stated timeout."""


class MarketUnavailableError(ConnectorError):
    """The market answered garbage, an error status or is closed for maintenance."""


class BidRejectedError(ConnectorError):
    """The market refused the bids by one of its rules (``rule`` names it, such as
    ``gate_closure`` or ``offer_cap``); not retryable. ``problems`` lists every
    ``(path, message)`` when the market said more than one thing."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        connector: str = "",
        problems: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message, connector=connector)
        self.rule = rule
        self.problems = list(problems)


class InvalidRequestError(ConnectorError):
    """The question itself was wrong (a naive datetime, an unknown market type for this
    connector); asking again will not help."""

    retryable = False


@runtime_checkable
class MarketConnector(Protocol):
    """What the trading service needs of a market. Every method is bounded by the
    connector's ``timeout_s`` and raises only :class:`ConnectorError`."""

    name: str
    timeout_s: float

    async def market_data(
        self, market_type: MarketType, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PricePoint]:
        """Prices, volumes and status of the slots starting in ``[start, end)``."""
        ...

    async def submit_bids(self, submission: BidSubmission) -> SubmissionReceipt:
        """Send bids before gate closure (:class:`BidRejectedError` after it, naming the rule)."""
        ...

    async def clearing_results(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> Sequence[ClearingResult]:
        """The cleared bids of a VPP's day; empty while the market has not cleared."""
        ...

    async def settlement_statement(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> MarketStatement | None:
        """The market's statement of a VPP's day; None until it is published."""
        ...

    async def aclose(self) -> None: ...
