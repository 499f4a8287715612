"""A simulated trading day end to end on a manual clock, against the simulated exchange:
the loop bids before gate closure, the exchange clears, the awards become a market_award
DispatchPlan on the VPP's two batteries, the edges report execution with a deviation, and
the results and the breaker's figures match hand-computed values. Then the breaker: it
trips on deviation (bidding halts, safe dispatch, audit, metric, alert) and on a market
that answers garbage or hangs, and only a trader's reset closes it. SQLite and PostgreSQL.

The day (3 Dec 2026, Shanghai time, gate closure 2 Dec 10:00 = 02:00 UTC) has flat prices
of 300 yuan/MWh except 100 in slots 10-11 (02:30-03:00) and 800 in slots 70-71
(17:30-18:00); real time is day-ahead + 100. The exchange is a price taker (it clears at
those prices), so every figure below follows by hand:

* VPP: two 100 kW / 200 kWh batteries, SoC unknown (start counted at 50 %: 200 of 400 kWh),
  efficiency 1. Capacity 200 kW up and down.
* Forecast for 3 Dec = the prices of 2 Dec (the same shape). Arbitrage with a 600
  yuan/MWh minimum spread pairs 10->70 and 11->71 (spread 700): 200 kW x 0.25 h = 50 kWh
  each. Bids: buy 200 kW in 10 and 11 at 110 (100 + 10 %), sell 200 kW in 70 and 71 at 720.
* Clearing: all accepted. Records: -50 kWh at 0.1 yuan/kWh (revenue -5.00) twice, +50 kWh
  at 0.8 (revenue +40.00) twice: 70.00 yuan.
* Execution: exact in 10, 11 and 70; in 71 the batteries deliver 40 of 50 kWh. Deviation
  10 kWh (beyond the 10 % band: a run of 1), 2.5 kWh tolerated (5 %), 7.5 kWh penalised at
  200 yuan/MWh = 1.50 yuan, the shortfall bought back at real time 900 yuan/MWh = 9.00 yuan.
  Day P&L = -5 - 5 + 40 + 40 - 9 - 1.5 = 59.50 yuan; cleared 200 kWh, deviation 10 kWh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.dispatch import record_status
from hub.markets import PriceSeries, SimConfig, SimulatedExchange, TradingRules
from hub.markets._service import ConnectorRegistry, SecretBox
from hub.store import (
    AuditEntry,
    BidSubmissionRow,
    BreakerEvent,
    BreakerStateRow,
    DispatchInstruction,
    LiveCache,
    TradingStrategy,
    create_engine,
    new_id,
    sessionmaker,
)
from hub.trading import BreakerAlert, TradingLoop, TradingRuntime
from protocol import DispatchStatus
from protocol.clock import ManualClock
from tests.hub.conftest import AuthFor
from tests.hub.helpers import make_battery, make_vpp, set_status

from .conftest import DAY, START, day_prices

Client = AsyncTestClient[Litestar]
RULES = TradingRules(
    offer_floor_yuan_mwh=-80,
    offer_cap_yuan_mwh=1300,
    clearing_floor_yuan_mwh=-100,
    clearing_cap_yuan_mwh=1500,
    deviation_penalty_yuan_mwh=200,
)
H = 3600.0


def series() -> PriceSeries:
    prices = np.array([day_prices()] * 5)
    return PriceSeries(
        start=dt.date(2026, 12, 1),
        day_ahead_yuan_mwh=prices,
        realtime_yuan_mwh=prices + 100,
        load_mw=np.full(prices.shape, 5000.0),
        rules=RULES,
    )


class Desk:
    """The trading loop's own hub context (the app runs in the test client's loop) with
    the simulated exchange installed, and the app for the REST side."""

    def __init__(
        self,
        ctx: HubContext,
        exchange: SimulatedExchange,
        connector: dict[str, Any],
        vpp: dict[str, Any],
        batteries: list[dict[str, Any]],
        alerts: list[BreakerAlert],
    ) -> None:
        self.ctx = ctx
        self.exchange = exchange
        self.connector = connector
        self.vpp = vpp
        self.batteries = batteries
        self.alerts = alerts

    @property
    def vpp_id(self) -> str:
        return str(self.vpp["id"])

    async def step(self) -> Any:
        return await TradingLoop(self.ctx).step()


@pytest.fixture
async def desk(
    tclient: Client, tauth: AuthFor, clock: ManualClock, clean_db: str, trading_app: Litestar
) -> AsyncIterator[Desk]:
    h = tauth("admin")
    r = await tclient.post(
        "/api/v1/vpp/market-connectors",
        json={
            "name": "sim-shandong",
            "market_type": "SPOT",
            "api_endpoint": "sim://shandong",
            "trading_rules": msgspec_builtins(RULES),
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    connector = r.json()
    exchange = SimulatedExchange(
        clock,
        rules=RULES,
        series=series(),
        config=SimConfig(price_taker=True, auto_demand_response=False),
        timeout_s=0.2,
    )
    trading_app.state.hub.markets.install(connector["id"], exchange)
    batteries = []
    for edge in ("park-a", "park-b"):
        inst = await make_battery(
            tclient,
            h,
            name=f"bess-{edge}",
            edge=edge,
            kw=100,
            kwh=200,
            charge_efficiency=1.0,
            discharge_efficiency=1.0,
        )
        await set_status(tclient, h, inst["id"], "ONLINE")
        batteries.append(inst)
    vpp = await make_vpp(tclient, h, [b["id"] for b in batteries])
    engine = create_engine(clean_db)
    settings = Settings(db_url=clean_db, mqtt_url=None, trading_bid_lead_s=H)
    registry = ConnectorRegistry(SecretBox("test-key"), clock)
    registry.install(connector["id"], exchange)
    alerts: list[BreakerAlert] = []
    runtime = TradingRuntime()
    runtime.add_alert_hook(alerts.append)
    ctx = HubContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessionmaker(engine),
        cache=LiveCache(),
        tokens=TokenService("t" * 40, 60),
        metrics=Metrics(),
        markets=registry,
        trading=runtime,
    )
    async with ctx.sessions() as session:
        session.add(
            TradingStrategy(
                id=new_id(),
                name="arbitrage",
                vpp_id=vpp["id"],
                strategy_type="RULE_BASED",
                config={"arbitrage": {"min_spread_yuan_mwh": 600}},
                status="ACTIVE",
            )
        )
        await session.commit()
    try:
        yield Desk(ctx, exchange, connector, vpp, batteries, alerts)
    finally:
        await engine.dispose()


def msgspec_builtins(rules: TradingRules) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(rules)
    return out


def hhmm(instant: dt.datetime, fmt: str = "%H:%M") -> str:
    """Local (Shanghai) time of an instant."""
    return instant.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime(fmt)


def at(hours_after_start: float) -> float:
    return START.timestamp() + hours_after_start * H


def move(clock: ManualClock, hours_after_start: float) -> None:
    clock.advance(at(hours_after_start) - clock.now())


async def awards(db: async_sessionmaker[AsyncSession], vpp_id: str) -> list[DispatchInstruction]:
    async with db() as session:
        rows = await session.scalars(
            select(DispatchInstruction)
            .where(DispatchInstruction.vpp_id == vpp_id, DispatchInstruction.parent_id.is_(None))
            .order_by(DispatchInstruction.start_time, DispatchInstruction.priority)
        )
        return list(rows)


async def report(
    desk: Desk, parent: DispatchInstruction, delivered_kwh: list[float], seq: list[int]
) -> None:
    """The edges' final status of a slot: each battery's energy (kWh, discharge > 0)."""
    async with desk.ctx.sessions() as session:
        children = list(
            await session.scalars(
                select(DispatchInstruction)
                .where(DispatchInstruction.parent_id == parent.id)
                .order_by(DispatchInstruction.edge_id)
            )
        )
        assert len(children) == len(delivered_kwh)
        for child, kwh in zip(children, delivered_kwh, strict=True):
            seq[0] += 1
            assert child.edge_id is not None
            await record_status(
                session,
                "default",
                DispatchStatus(
                    edge=child.edge_id,
                    sid=1,
                    seq=seq[0],
                    ts_ms=int(parent.end_time.timestamp() * 1000) - 1000,
                    schedule_id="s",
                    version=1,
                    status="done",
                    device=child.device_id,
                    instruction_id=child.id,
                    energy_wh=kwh * 1000,
                ),
            )
        await session.commit()


async def test_a_trading_day_from_bids_to_delivery_with_hand_computed_figures(
    desk: Desk,
    clock: ManualClock,
    tclient: Client,
    tauth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    first = await desk.step()  # 08:00 local: the bidding window for 3 Dec opens at 09:00
    assert first.submitted == [] and first.errors == []
    move(clock, 1.0)
    bid = await desk.step()
    assert len(bid.submitted) == 1, bid
    [sent] = desk.exchange._active.values()  # what reached the market
    assert sorted(
        (b.slot, b.side, b.quantity_kw, b.price_yuan_mwh) for b in sent[1].bids
    ) == [(10, "buy", 200.0, 110.0), (11, "buy", 200.0, 110.0), (70, "sell", 200.0, 720.0),
          (71, "sell", 200.0, 720.0)]  # fmt: skip
    assert sent[1].storage is not None and sent[1].storage.soc_start_kwh == 200.0
    # Steps and a restarted loop before gate closure never bid the day again.
    move(clock, 1.5)
    assert (await desk.step()).submitted == []
    assert (await TradingLoop(desk.ctx).step()).submitted == []
    assert len(desk.exchange._by_key) == 1
    # Gate closure (10:00 local): the exchange clears, the records and the awards follow.
    move(clock, 2.0)
    cleared = await desk.step()
    assert cleared.cleared == bid.submitted and cleared.dispatched == bid.submitted
    r = await tclient.get(
        "/api/v1/vpp/trading/results",
        params={"vpp_id": desk.vpp_id, "trading_date": DAY.isoformat()},
        headers=tauth("viewer"),
    )
    rows = sorted(
        (x["time_slot"], x["bid_price"], x["bid_quantity"], x["cleared_price"],
         x["cleared_quantity"], x["revenue"], x["status"])
        for x in r.json()
    )  # fmt: skip
    assert rows == [
        ("02:30-02:45", 0.11, -50.0, 0.1, -50.0, -5.0, "CLEARED"),
        ("02:45-03:00", 0.11, -50.0, 0.1, -50.0, -5.0, "CLEARED"),
        ("17:30-17:45", 0.72, 50.0, 0.8, 50.0, 40.0, "CLEARED"),
        ("17:45-18:00", 0.72, 50.0, 0.8, 50.0, 40.0, "CLEARED"),
    ]
    assert sum(x[5] for x in rows) == 70.0
    plan = await awards(db, desk.vpp_id)
    assert [(hhmm(p.start_time, "%m-%d %H:%M"), p.target_power) for p in plan] == [
        ("12-03 02:30", -200.0), ("12-03 02:45", -200.0),
        ("12-03 17:30", 200.0), ("12-03 17:45", 200.0),
    ]  # fmt: skip
    assert {(p.source, p.max_offline_s) for p in plan} == {("market_award", None)}
    async with db() as session:
        children = list(
            await session.scalars(
                select(DispatchInstruction).where(DispatchInstruction.parent_id == plan[0].id)
            )
        )
    assert sorted((c.edge_id, c.target_power) for c in children) == [
        ("park-a", -100.0),
        ("park-b", -100.0),
    ]
    # Delivery: exact in slots 10, 11 and 70; 15 of 25 kWh from park-b in slot 71.
    seq = [0]
    for parent, kwh in zip(plan, ([-25, -25], [-25, -25], [25, 25], [25, 15]), strict=True):
        await report(desk, parent, [float(k) for k in kwh], seq)
    move(clock, 34.0 + 5 / 60)  # 3 Dec 18:05 local: every slot over, the grace passed
    followed = await desk.step()
    assert followed.followed == 4 and followed.errors == []
    async with db() as session:
        state = await session.get(BreakerStateRow, desk.vpp_id)
        assert state is not None
        assert state.state == "CLOSED" and state.deviation_run == 1
        assert state.day_cleared_kwh == pytest.approx(200.0)
        assert state.day_deviation_kwh == pytest.approx(10.0)
        assert state.day_pnl_yuan == pytest.approx(59.5)
        audited = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity == "trading_record")
            )
        )
    assert sorted(audited) == ["trading_record_cleared"] * 4 + ["trading_record_submitted"] * 4
    assert (await desk.step()).followed == 0  # followed once


async def test_a_restart_between_storing_and_sending_resends_the_same_key(
    desk: Desk, clock: ManualClock, db: async_sessionmaker[AsyncSession]
) -> None:
    await desk.step()  # market data read at 08:00 local
    move(clock, 1.0)
    desk.exchange.faults.unavailable = True  # the market does not answer the first time
    down = await desk.step()
    assert down.submitted == [] and down.errors
    async with db() as session:
        [pending] = list(await session.scalars(select(BidSubmissionRow)))
        assert pending.status == "PENDING"
    desk.exchange.faults.unavailable = False
    back = await TradingLoop(desk.ctx).step()  # a new loop (a restart) finds it PENDING
    assert back.submitted == [pending.id]
    assert len(desk.exchange._by_key) == 1  # one submission, under the first key
    assert (await desk.step()).submitted == []


async def test_the_breaker_halts_bidding_and_holds_the_batteries_at_zero_until_reset(
    desk: Desk,
    clock: ManualClock,
    tclient: Client,
    tauth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    r = await tclient.put(
        f"/api/v1/vpp/trading/risk-limits/{desk.vpp_id}",
        json={"deviation_slots": 2, "deviation_band": 0.1},
        headers=tauth("trader"),
    )
    assert r.status_code == 200, r.text
    move(clock, 1.0)
    await desk.step()
    move(clock, 2.0)
    await desk.step()
    plan = await awards(db, desk.vpp_id)
    assert len(plan) == 4
    # The batteries do nothing in the two charging slots: two deviating slots in a row.
    seq = [0]
    for parent in plan[:2]:
        await report(desk, parent, [0.0, 0.0], seq)
    move(clock, 19.0 + 5 / 60)  # 3 Dec 03:05 local
    tripped = await desk.step()
    assert tripped.followed == 2
    async with db() as session:
        state = await session.get(BreakerStateRow, desk.vpp_id)
        assert state is not None and (state.state, state.trigger) == ("TRIPPED", "deviation")
        events = list(await session.scalars(select(BreakerEvent)))
        assert [(e.event, e.trigger) for e in events] == [("trip", "deviation")]
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "breaker_trip"))
        assert entry is not None and entry.entity_id == desk.vpp_id
    assert [(a.event, a.trigger) for a in desk.alerts] == [("trip", "deviation")]
    assert "0 kW at priority 1000" in desk.alerts[0].safe_dispatch
    metric = desk.ctx.metrics.registry.get_sample_value(
        "hub_trading_breaker_trips_total", {"trigger": "deviation"}
    )
    assert metric == 1.0
    # Safe dispatch: the discharging slots still ahead are held at 0 kW above the award.
    safe = [p for p in await awards(db, desk.vpp_id) if p.source != "market_award"]
    assert [
        (hhmm(p.start_time), hhmm(p.end_time), p.target_power, p.priority, p.created_by)
        for p in safe
    ] == [("17:30", "18:00", 0.0, 1000, "circuit-breaker")]
    # Bidding halts: the window for 4 Dec opens (3 Dec 09:00 local) and nothing is sent.
    move(clock, 25.0)
    halted = await desk.step()
    assert halted.halted == [desk.vpp_id] and halted.submitted == []
    # Only a trader or an admin resets it; then the loop bids for 4 Dec.
    reset = f"/api/v1/vpp/trading/breaker/{desk.vpp_id}/reset"
    for role in ("viewer", "operator"):
        r = await tclient.post(reset, json={}, headers=tauth(role))
        assert r.status_code == 403
    r = await tclient.post(reset, json={"note": "batteries checked"}, headers=tauth("trader"))
    assert r.status_code == 200 and r.json()["state"] == "CLOSED", r.text
    again = await desk.step()
    assert len(again.submitted) == 1 and again.halted == []
    r = await tclient.get(f"/api/v1/vpp/trading/breaker/{desk.vpp_id}", headers=tauth("viewer"))
    assert [e["event"] for e in r.json()["events"]] == ["reset", "trip"]


@pytest.mark.parametrize("fault", ["garbage", "timeout"])
async def test_a_market_that_fails_trips_the_breaker_not_the_hub(
    desk: Desk, clock: ManualClock, db: async_sessionmaker[AsyncSession], fault: str
) -> None:
    if fault == "garbage":
        desk.exchange.faults.garbage = True
    else:
        desk.exchange.faults.slow_s = 10.0  # beyond both timeouts: it never answers in time
    reports = []
    for hour in (0.0, 0.25, 0.5):  # three failing market-data reads (limit 3 of 10)
        move(clock, hour)
        reports.append(await desk.step())
    assert all(r.errors for r in reports)
    async with db() as session:
        state = await session.get(BreakerStateRow, desk.vpp_id)
        assert state is not None and (state.state, state.trigger) == ("TRIPPED", "connector_errors")
    assert (
        desk.ctx.metrics.registry.get_sample_value(
            "hub_trading_breaker_trips_total", {"trigger": "connector_errors"}
        )
        == 1.0
    )
    desk.exchange.faults.garbage = False
    desk.exchange.faults.slow_s = 0.0
    move(clock, 1.0)
    halted = await desk.step()
    assert halted.halted == [desk.vpp_id] and halted.submitted == []


async def test_stale_market_data_trips_the_breaker_instead_of_bidding_blind(
    desk: Desk, clock: ManualClock, db: async_sessionmaker[AsyncSession]
) -> None:
    move(clock, 1.0)  # the first look at the market, and it does not answer
    desk.exchange.faults.unavailable = True
    step = await desk.step()
    assert step.halted == [desk.vpp_id] and step.submitted == []
    async with db() as session:
        state = await session.get(BreakerStateRow, desk.vpp_id)
        assert state is not None and state.trigger == "stale_market_data"
