"""Parity through the trading loop: one rule set, one day, the same market data, decided
live (hub.trading's TradingLoop on a manual clock, bidding into the simulated exchange
through the hub's default resolver, the strategy engine) and in the backtest
(run_backtest over the exchange's price series): the same decision in every slot and
the same bids at the market. SQLite and PostgreSQL.

The setup is the trading day of tests/hub/trading/test_trading_day.py (3 Dec 2026, flat
300 yuan/MWh with 100 in slots 10-11 and 800 in 70-71 every day; two 100 kW / 200 kWh
batteries, efficiency 1), its arbitrage strategy replaced by rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.markets import MarketBid
from hub.store import TradingStrategy
from hub.strategy import EngineResolver, StrategyBidder
from hub.strategy._backtest import Backtest, Fleet, run_backtest
from hub.trading import BidRequest, BidStrategy, StrategySpec, TradingRuntime, builtin_resolver
from protocol.clock import ManualClock
from tests.hub.trading.conftest import DAY, clock, tauth, tclient, trading_app  # noqa: F401
from tests.hub.trading.test_trading_day import Desk, desk, move, series  # noqa: F401

RULES: dict[str, Any] = {
    "rules": [
        {
            "name": "peak",
            "priority": 10,
            "conditions": [
                {"field": "price_forecast", "operator": ">", "value": 700},
                {"field": "soc", "operator": ">=", "value": 20},
            ],
            "actions": [
                {
                    "type": "bid",
                    "parameters": {
                        "side": "sell",
                        "quantity_kw": "available",
                        "price_yuan_mwh": 650,
                    },
                }
            ],
        },
        {
            "name": "trough",
            "priority": 5,
            "conditions": [
                {"field": "price_forecast", "operator": "crosses_below", "value": 200},
            ],
            "actions": [
                {"type": "bid", "parameters": {"side": "buy", "quantity_kw": 150}},
                {"type": "notify", "parameters": {"message": "trough"}},
            ],
        },
        {
            "name": "cheap",
            "priority": 4,
            "conditions": [{"field": "price_forecast", "operator": "<", "value": 200}],
            "actions": [{"type": "bid", "parameters": {"side": "buy", "quantity_kw": 100}}],
        },
    ]
}


class Recorder:
    """The hub's resolver (EngineResolver), remembering what the loop asked and got."""

    def __init__(self) -> None:
        self.resolve = EngineResolver(fallback=builtin_resolver)
        self.requests: list[BidRequest] = []
        self.bidders: list[StrategyBidder] = []

    def __call__(self, spec: StrategySpec) -> BidStrategy | None:
        resolved = self.resolve(spec)
        assert isinstance(resolved, StrategyBidder), resolved
        bidder: StrategyBidder = resolved
        self.bidders.append(bidder)
        recorder = self

        class Recording:
            name = bidder.name

            async def bids(self, request: BidRequest) -> Sequence[MarketBid]:
                recorder.requests.append(request)
                return await bidder.bids(request)

        return Recording()


async def test_the_trading_loop_and_the_backtest_decide_the_same_slot_by_slot(
    desk: Desk,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session:
        row = await session.scalar(
            select(TradingStrategy).where(TradingStrategy.vpp_id == desk.vpp_id)
        )
        assert row is not None
        row.config = RULES
        await session.commit()
    recorder = Recorder()
    desk.ctx.trading = TradingRuntime(resolver=recorder)
    move(clock, 1.0)  # 09:00 local on 2 Dec: the bidding window for 3 Dec
    report = await desk.step()
    assert len(report.submitted) == 1, report
    [request] = recorder.requests
    assert request.trading_date == DAY
    live = recorder.bidders[-1].last_plan
    assert live is not None
    [sent] = desk.exchange._active.values()  # what reached the market
    # The backtest of the same day on the exchange's series, the fleet as the loop saw it.
    storage = request.storage
    assert storage is not None
    fleet = Fleet(
        energy_kwh=storage.energy_kwh,
        max_charge_kw=max(request.available_down_kw),
        max_discharge_kw=max(request.available_up_kw),
        soc_start_pct=100 * storage.soc_start_kwh / storage.energy_kwh,
        soc_min_pct=100 * storage.soc_min_kwh / storage.energy_kwh,
        soc_max_pct=100
        * (storage.energy_kwh if storage.soc_max_kwh is None else storage.soc_max_kwh)
        / storage.energy_kwh,
        charge_efficiency=storage.charge_efficiency,
        discharge_efficiency=storage.discharge_efficiency,
    )
    outcome = run_backtest(
        Backtest(
            strategy_type="RULE_BASED",
            config=RULES,
            fleet=fleet,
            start=DAY,
            end=DAY,
            compare=False,
            keep_traces=True,
        ),
        series(),
    )
    [trace] = outcome.run.traces
    assert trace.request.price_forecast_yuan_mwh == list(request.price_forecast_yuan_mwh)
    assert len(trace.decisions) == len(live.decisions) == 96
    for backtest, loop in zip(trace.decisions, live.decisions, strict=True):
        assert backtest == loop, backtest.slot
    fired = {d.slot: d.fired for d in live.decisions if d.fired}
    assert fired == {10: (1, 2), 11: (2,), 70: (0,), 71: (0,)}
    key = [(b.slot, b.side, b.quantity_kw, b.price_yuan_mwh) for b in trace.bids]
    assert sorted(
        (b.slot, b.side, b.quantity_kw, b.price_yuan_mwh) for b in sent[1].bids
    ) == sorted(key)
    assert sorted(key) == [(70, "sell", 200.0, 650.0), (71, "sell", 200.0, 650.0)]
    # The rules bought in 10 and 11 as price takers (a limit at the cap, 1300): the
    # loop's pre-trade check dropped them (further from the forecast than the price
    # deviation limit), and so did the backtest, which runs the same check.
    buys = {d.slot: d.bid for d in live.decisions if d.bid is not None and d.bid.side == "buy"}
    assert {slot: bid.quantity_kw for slot, bid in buys.items()} == {10: 150.0, 11: 100.0}
