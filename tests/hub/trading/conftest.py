"""Trading fixtures: the hub on a manual clock, a VPP of two batteries, and a small
exchange that speaks the connector contract (a fake at our own seam, MarketConnector).

The exchange publishes one price per slot (``prices``), takes bids until the gate
closure of their day, clears when told to (a sell clears when its limit is at or below
the slot's price, a buy when at or above; in full, at the slot's price) and can be told
to hang (its calls outlast the connector's timeout) or to answer garbage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from hub import Settings
from hub.app import create_app
from hub.markets import (
    BidRejectedError,
    BidSubmission,
    ClearedBid,
    ClearingResult,
    MarketStatement,
    MarketType,
    PricePoint,
    SubmissionReceipt,
    TradingRules,
    day_start,
    gate_closure_at,
)
from protocol.clock import ManualClock
from tests.hub.conftest import AuthFor, add_role_users, auth_for
from tests.hub.helpers import make_battery, make_vpp, set_status

START = dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
"""08:00 in Shanghai on 2 Dec: bids for 3 Dec are open until 10:00 local (02:00 UTC)."""
DAY = dt.date(2026, 12, 3)
RULES = TradingRules(
    offer_floor_yuan_mwh=-80, offer_cap_yuan_mwh=1300, clearing_floor_yuan_mwh=-100
)


def day_prices() -> list[float]:
    prices = [300.0] * 96
    prices[10] = prices[11] = 100.0
    prices[70] = prices[71] = 800.0
    return prices


class FakeExchange:
    """See the module doc. ``calls`` counts every call by method."""

    def __init__(self, clock: ManualClock, rules: TradingRules, name: str = "fake") -> None:
        self.name = name
        self.timeout_s = 0.2
        self.clock = clock
        self.rules = rules
        self.prices: dict[dt.date, list[float]] = {}
        self.realtime: dict[dt.date, list[float]] = {}
        self.submissions: dict[str, BidSubmission] = {}
        self.ids: dict[str, str] = {}
        self.cleared: set[tuple[str, dt.date]] = set()
        self.hang = False
        self.garbage = False
        self.calls: dict[str, int] = {}

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC)

    async def _fault(self, method: str) -> Any:
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.hang:
            await asyncio.sleep(30)
        return "garbage" if self.garbage else None

    async def market_data(
        self, market_type: MarketType, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PricePoint]:
        if (bad := await self._fault("market_data")) is not None:
            return bad  # type: ignore[no-any-return]
        out = []
        for day, prices in sorted(self.prices.items()):
            base = day_start(self.rules, day)
            for slot, price in enumerate(prices):
                at = base + dt.timedelta(minutes=15 * slot)
                if start <= at < end:
                    rt = self.realtime.get(day)
                    out.append(
                        PricePoint(
                            timestamp=at,
                            price_yuan_mwh=price,
                            volume_mwh=1000.0 + slot,
                            market_status="CLEARED" if at < self._now() else "OPEN",
                            realtime_price_yuan_mwh=None if rt is None else rt[slot],
                        )
                    )
        return out

    async def submit_bids(self, submission: BidSubmission) -> SubmissionReceipt:
        if (bad := await self._fault("submit_bids")) is not None:
            return bad  # type: ignore[no-any-return]
        if self._now() >= gate_closure_at(self.rules, submission.trading_date):
            raise BidRejectedError("gate closed", rule="gate_closure", connector=self.name)
        key = submission.idempotency_key
        if key in self.ids:
            return SubmissionReceipt(
                submission_id=self.ids[key], accepted_at=self._now(), duplicate=True
            )
        self.ids[key] = f"mkt-{len(self.ids) + 1}"
        self.submissions[self.ids[key]] = submission
        return SubmissionReceipt(submission_id=self.ids[key], accepted_at=self._now())

    def clear(self, day: dt.date) -> None:
        for sid, sub in self.submissions.items():
            if sub.trading_date == day:
                self.cleared.add((sid, day))

    async def clearing_results(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> Sequence[ClearingResult]:
        if (bad := await self._fault("clearing_results")) is not None:
            return bad  # type: ignore[no-any-return]
        out = []
        for sid, sub in self.submissions.items():
            if sub.vpp_id != vpp_id or (sid, trading_date) not in self.cleared:
                continue
            prices = self.prices[trading_date]
            bids = []
            for b in sub.bids:
                price = prices[b.slot]
                limit = b.price_yuan_mwh
                takes = limit is None or (limit <= price if b.side == "sell" else limit >= price)
                bids.append(
                    ClearedBid(
                        slot=b.slot,
                        side=b.side,
                        offered_kw=b.quantity_kw,
                        cleared_kw=b.quantity_kw if takes else 0.0,
                        clearing_price_yuan_mwh=price,
                    )
                )
            out.append(
                ClearingResult(
                    submission_id=sid,
                    vpp_id=vpp_id,
                    market_type=market_type,
                    trading_date=trading_date,
                    bids=bids,
                )
            )
        return out

    async def settlement_statement(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> MarketStatement | None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START.timestamp())


@pytest.fixture
def trading_app(settings: Settings, clock: ManualClock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def tclient(trading_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=trading_app) as test_client:
        yield test_client


@pytest.fixture
async def tauth(
    trading_app: Litestar, tclient: AsyncTestClient[Litestar], clean_db: str
) -> AuthFor:
    await add_role_users(clean_db)
    return auth_for(trading_app)


class Market:
    """A configured connector with its exchange, and a VPP of two 100 kW / 200 kWh
    batteries on two edges."""

    def __init__(
        self, connector: dict[str, Any], exchange: FakeExchange, vpp: dict[str, Any]
    ) -> None:
        self.connector = connector
        self.exchange = exchange
        self.vpp = vpp

    @property
    def id(self) -> str:
        return str(self.connector["id"])


@pytest.fixture
async def market(
    trading_app: Litestar, tclient: AsyncTestClient[Litestar], tauth: AuthFor, clock: ManualClock
) -> Market:
    h = tauth("admin")
    r = await tclient.post(
        "/api/v1/vpp/market-connectors",
        json={
            "name": "fake-spot",
            "market_type": "SPOT",
            "api_endpoint": "fake://spot",
            "auth_config": {"api_key": "s3cret-value", "user": "vpp-a"},
            "trading_rules": {
                "offer_floor_yuan_mwh": -80,
                "offer_cap_yuan_mwh": 1300,
                "clearing_floor_yuan_mwh": -100,
            },
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    exchange = FakeExchange(clock, RULES)
    exchange.prices[DAY] = day_prices()
    exchange.prices[DAY - dt.timedelta(days=1)] = day_prices()
    trading_app.state.hub.markets.install(r.json()["id"], exchange)
    ids = []
    for edge in ("park-a", "park-b"):
        inst = await make_battery(tclient, h, name=f"bess-{edge}", edge=edge, kw=100, kwh=200)
        await set_status(tclient, h, inst["id"], "ONLINE")
        ids.append(inst["id"])
    vpp = await make_vpp(tclient, h, ids)
    return Market(r.json(), exchange, vpp)
