"""The simulated exchange on a manual clock: a trading day in every market, figures checked
against the series by hand, idempotency, replacement, faults, and the replay connector."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import numpy as np
import pytest

from hub.markets import (
    PRESETS,
    BidRejectedError,
    BidSubmission,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidRequestError,
    MarketBid,
    MarketConnector,
    MarketUnavailableError,
    PriceSeries,
    ReplayMarket,
    SimulatedExchange,
    StorageEnvelope,
    reference_year,
    slot_start,
    synthetic_prices,
)
from protocol.clock import ManualClock

RULES = PRESETS["shandong"]
D = dt.date(2026, 3, 2)
SAFETY_TIMEOUT = 5.0
# D-1 08:00 Asia/Shanghai: 90 min before the 09:30 gate closure.
MORNING_BEFORE = dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture(scope="module")
def year() -> PriceSeries:
    return reference_year()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=MORNING_BEFORE)


@pytest.fixture
def sim(clock: ManualClock, year: PriceSeries) -> SimulatedExchange:
    return SimulatedExchange(clock, rules=RULES, series=year)


def spot(*bids: MarketBid, key: str = "k1", vpp: str = "vpp-1", **kw: object) -> BidSubmission:
    fields: dict[str, object] = {
        "vpp_id": vpp,
        "market_type": "SPOT",
        "trading_date": D,
        "bids": list(bids),
        "idempotency_key": key,
    }
    fields.update(kw)
    return BidSubmission(**fields)  # type: ignore[arg-type]


def to_gate_closure(clock: ManualClock, after_s: float = 1.0) -> None:
    closure = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC).timestamp()
    clock.advance(closure - clock.now() + after_s)


def test_it_is_a_market_connector(sim: SimulatedExchange) -> None:
    assert isinstance(sim, MarketConnector)
    assert sim.timeout_s > 0


async def test_a_spot_day_clears_at_gate_closure_at_the_series_prices(
    sim: SimulatedExchange, clock: ManualClock, year: PriceSeries
) -> None:
    i = year.index(D)
    ref = year.day_ahead_yuan_mwh[i]
    cheap, dear = int(np.argmin(ref)), int(np.argmax(ref))
    bids = [
        MarketBid(slot=cheap, side="buy", quantity_kw=500, price_yuan_mwh=1300),
        MarketBid(slot=dear, side="sell", quantity_kw=500, price_yuan_mwh=-80),
        MarketBid(slot=40, side="sell", quantity_kw=500, price_yuan_mwh=1300),  # too dear
    ]
    receipt = await sim.submit_bids(spot(*bids))
    assert receipt.duplicate is False
    assert await sim.clearing_results("vpp-1", "SPOT", D) == []
    day_window = (slot_start(RULES, D, 0), slot_start(RULES, D, 95) + dt.timedelta(minutes=15))
    assert await sim.market_data("SPOT", *day_window) == []
    assert sim.status(D) == "OPEN"

    to_gate_closure(clock)
    (result,) = await sim.clearing_results("vpp-1", "SPOT", D)
    assert result.submission_id == receipt.submission_id
    cleared = {b.slot: b for b in result.bids}
    # A 500 kW VPP against a 60 GW stack is a price taker: the series' prices, in full.
    assert cleared[cheap].clearing_price_yuan_mwh == ref[cheap]
    assert cleared[cheap].cleared_kw == 500
    assert cleared[dear].cleared_kw == 500
    assert cleared[40].cleared_kw == 0
    assert sim.status(D) == "CLEARED"

    points = await sim.market_data("SPOT", *day_window)
    assert len(points) == 96
    assert points[dear].price_yuan_mwh == ref[dear]
    assert points[dear].market_status == "CLEARED"
    assert points[0].realtime_price_yuan_mwh is None  # the day has not started
    assert await sim.settlement_statement("vpp-1", "SPOT", D) is None

    clock.advance(2 * 86_400)
    statement = await sim.settlement_statement("vpp-1", "SPOT", D)
    assert statement is not None
    lines = {line.slot: line for line in statement.lines}
    assert lines[dear].cleared_kwh == pytest.approx(125.0)  # 500 kW x 15 min
    assert lines[cheap].cleared_kwh == pytest.approx(-125.0)
    assert lines[40].cleared_kwh == 0.0
    offset = year.realtime_yuan_mwh[i, dear] - year.day_ahead_yuan_mwh[i, dear]
    assert lines[dear].realtime_price_yuan_mwh == pytest.approx(ref[dear] + offset)
    revenue = sum(line.cleared_kwh * line.clearing_price_yuan_mwh / 1000 for line in lines.values())
    assert revenue == pytest.approx(0.125 * (ref[dear] - ref[cheap]))
    points = await sim.market_data("SPOT", *day_window)
    assert points[5].market_status == "SETTLED"
    assert points[5].realtime_price_yuan_mwh == pytest.approx(year.realtime_yuan_mwh[i, 5])


async def test_late_and_bad_bids_are_refused_naming_the_rule(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    with pytest.raises(BidRejectedError) as bad:
        await sim.submit_bids(
            spot(MarketBid(slot=1, side="sell", quantity_kw=150, price_yuan_mwh=2000))
        )
    assert bad.value.rule == "bid_step"
    assert {p for p, _ in bad.value.problems} == {"bids[0].quantity_kw", "bids[0].price_yuan_mwh"}
    assert bad.value.retryable is False
    to_gate_closure(clock, after_s=0)
    with pytest.raises(BidRejectedError, match="late bid") as late:
        await sim.submit_bids(
            spot(MarketBid(slot=1, side="sell", quantity_kw=100, price_yuan_mwh=1))
        )
    assert late.value.rule == "gate_closure"
    outside = msgspec.structs.replace(spot(), trading_date=dt.date(2031, 1, 1))
    with pytest.raises(BidRejectedError) as far:
        await sim.submit_bids(outside)
    assert far.value.rule == "trading_date"
    capacity = msgspec.structs.replace(spot(), market_type="CAPACITY")
    with pytest.raises(InvalidRequestError, match="CAPACITY"):
        await sim.submit_bids(capacity)


async def test_idempotency_key_gives_the_same_receipt_and_a_new_key_replaces(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    first = spot(MarketBid(slot=10, side="sell", quantity_kw=100, price_yuan_mwh=0), key="a")
    receipt = await sim.submit_bids(first)
    again = await sim.submit_bids(first)
    assert (again.submission_id, again.accepted_at, again.duplicate) == (
        receipt.submission_id,
        receipt.accepted_at,
        True,
    )
    other = spot(MarketBid(slot=10, side="sell", quantity_kw=200, price_yuan_mwh=0), key="a")
    with pytest.raises(BidRejectedError) as reused:
        await sim.submit_bids(other)
    assert reused.value.rule == "idempotency_key"
    replacement = await sim.submit_bids(msgspec.structs.replace(other, idempotency_key="b"))
    assert replacement.submission_id != receipt.submission_id
    to_gate_closure(clock)
    (result,) = await sim.clearing_results("vpp-1", "SPOT", D)
    assert result.submission_id == replacement.submission_id
    assert [b.cleared_kw for b in result.bids] == [200]
    # A restart after gate closure resubmits with the same key: still the same receipt.
    late_again = await sim.submit_bids(first)
    assert late_again.duplicate is True


async def test_storage_bids_clear_within_the_state_of_charge(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    storage = StorageEnvelope(energy_kwh=200, soc_start_kwh=200, discharge_efficiency=1.0)
    bids = [MarketBid(slot=s, side="sell", quantity_kw=400, price_yuan_mwh=-80) for s in range(8)]
    await sim.submit_bids(spot(*bids, storage=storage))
    to_gate_closure(clock)
    (result,) = await sim.clearing_results("vpp-1", "SPOT", D)
    assert sum(b.cleared_kw for b in result.bids) * 0.25 == pytest.approx(200.0)
    assert [b.cleared_kw for b in result.bids[:2]] == [400, 400]


async def test_ancillary_capacity_earns_availability_and_mileage(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    bids = [
        MarketBid(slot=72, side="sell", quantity_kw=1_000, price_yuan_mwh=0, product="regulation"),
        MarketBid(slot=72, side="sell", quantity_kw=2_000, price_yuan_mwh=0, product="reserve"),
        MarketBid(slot=73, side="sell", quantity_kw=1_000, price_yuan_mwh=50, product="regulation"),
    ]
    await sim.submit_bids(spot(*bids, market_type="ANCILLARY"))
    with pytest.raises(BidRejectedError) as wrong:
        await sim.submit_bids(
            spot(
                MarketBid(slot=1, side="buy", quantity_kw=100, price_yuan_mwh=0, product="reserve"),
                market_type="ANCILLARY",
                key="x",
            )
        )
    assert wrong.value.rule == "side"
    to_gate_closure(clock)
    (result,) = await sim.clearing_results("vpp-1", "ANCILLARY", D)
    got = {(b.slot, b.product): b for b in result.bids}
    assert (
        got[(72, "regulation")].clearing_price_yuan_mwh == RULES.regulation_availability_yuan_mw_h
    )
    assert got[(72, "regulation")].cleared_kw == 1_000
    assert got[(72, "reserve")].clearing_price_yuan_mwh == RULES.reserve_availability_yuan_mw_h
    assert got[(73, "regulation")].cleared_kw == 0  # above the capacity price
    window = (slot_start(RULES, D, 72), slot_start(RULES, D, 73))
    points = await sim.market_data("ANCILLARY", *window)
    assert {p.product for p in points} == {"regulation", "reserve"}
    clock.advance(2 * 86_400)
    statement = await sim.settlement_statement("vpp-1", "ANCILLARY", D)
    assert statement is not None
    reg = next(x for x in statement.lines if x.product == "regulation" and x.slot == 72)
    assert reg.cleared_kwh == pytest.approx(250.0)
    assert reg.mileage_mw is not None
    assert 0.5 <= reg.mileage_mw <= 3.0  # 1 MW held x a factor of 0.5..3
    res = next(x for x in statement.lines if x.product == "reserve")
    assert res.mileage_mw is None


async def test_demand_response_call_pays_per_kwh_pro_rata(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    call = sim.call_demand_response(D, range(72, 76), 1_000, compensation_yuan_kwh=3.5)
    assert call in sim.demand_response_calls(D)
    window = (slot_start(RULES, D, 70), slot_start(RULES, D, 80))
    announced = await sim.market_data("DEMAND_RESPONSE", *window)
    assert [p.timestamp for p in announced] == [slot_start(RULES, D, s) for s in range(72, 76)]
    assert announced[0].price_yuan_mwh == 3500.0
    assert announced[0].market_status == "OPEN"
    for vpp in ("a", "b"):
        await sim.submit_bids(
            spot(
                *[
                    MarketBid(slot=s, side="sell", quantity_kw=800, price_yuan_mwh=1000)
                    for s in range(72, 76)
                ],
                market_type="DEMAND_RESPONSE",
                vpp=vpp,
                key=vpp,
            )
        )
    with pytest.raises(BidRejectedError) as uncalled:
        await sim.submit_bids(
            spot(
                MarketBid(slot=10, side="sell", quantity_kw=800, price_yuan_mwh=1000),
                market_type="DEMAND_RESPONSE",
                key="c",
            )
        )
    assert uncalled.value.rule == "dr_event"
    to_gate_closure(clock)
    (result,) = await sim.clearing_results("a", "DEMAND_RESPONSE", D)
    assert [b.cleared_kw for b in result.bids] == pytest.approx([500.0] * 4)  # 1000 of 1600
    assert result.bids[0].clearing_price_yuan_mwh == 3500.0
    clock.advance(2 * 86_400)
    statement = await sim.settlement_statement("a", "DEMAND_RESPONSE", D)
    assert statement is not None
    pay = sum(x.cleared_kwh * x.clearing_price_yuan_mwh / 1000 for x in statement.lines)
    assert pay == pytest.approx(4 * 125.0 * 3.5)  # 500 kW x 15 min x 4 slots x 3.5 yuan/kWh


def test_dr_calls_come_on_the_dearest_days(year: PriceSeries, clock: ManualClock) -> None:
    sim = SimulatedExchange(clock, rules=RULES, series=year)
    called = [d for d in year.dates() if sim.demand_response_calls(d)]
    assert 30 <= len(called) <= 45
    peaks = year.day_ahead_yuan_mwh.max(axis=1)
    assert min(peaks[year.index(d)] for d in called) >= np.quantile(peaks, 0.9)


async def test_faults_raise_connector_errors_only(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    sim.faults.unavailable = True
    with pytest.raises(MarketUnavailableError, match="503"):
        await sim.clearing_results("vpp-1", "SPOT", D)
    sim.faults.unavailable = False
    sim.faults.garbage = True
    with pytest.raises(MarketUnavailableError, match="garbage"):
        await sim.market_data("SPOT", slot_start(RULES, D, 0), slot_start(RULES, D, 1))
    sim.faults.garbage = False
    sim.faults.slow_s = 2.0
    task = asyncio.create_task(sim.clearing_results("vpp-1", "SPOT", D))
    await asyncio.sleep(0)
    assert not task.done()
    await clock.run_for(2.0, step=1.0)
    assert await asyncio.wait_for(task, SAFETY_TIMEOUT) == []
    sim.faults.slow_s = 60.0
    task = asyncio.create_task(sim.clearing_results("vpp-1", "SPOT", D))
    await asyncio.sleep(0)
    await clock.run_for(sim.timeout_s, step=1.0)
    with pytest.raises(ConnectorTimeoutError):
        await asyncio.wait_for(task, SAFETY_TIMEOUT)
    sim.faults.slow_s = 0.0
    with pytest.raises(ConnectorError):
        await sim.market_data("SPOT", dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 3))
    with pytest.raises(InvalidRequestError):
        await sim.clearing_results("vpp-1", "CAPACITY", D)


async def test_run_clears_each_day_at_its_gate_closure(
    sim: SimulatedExchange, clock: ManualClock
) -> None:
    runner = asyncio.create_task(sim.run())
    try:
        await clock.run_for(90 * 60 - 1, step=600)
        assert sim.status(D) == "OPEN"
        await clock.run_for(2, step=1)
        assert sim._cleared.get(("SPOT", D)) is not None
        assert sim.status(D) == "CLEARED"
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner


async def test_replay_serves_history_prices_as_a_price_taker(clock: ManualClock) -> None:
    history = synthetic_prices(dt.date(2026, 3, 1), 3, seed=11)
    replay = ReplayMarket(clock, history)
    assert isinstance(replay, MarketConnector)
    assert replay.demand_response_calls(D) == []
    i = history.index(D)
    p = history.day_ahead_yuan_mwh[i]
    bids = [
        MarketBid(slot=0, side="sell", quantity_kw=10_000_000, price_yuan_mwh=float(p[0])),
        MarketBid(slot=1, side="buy", quantity_kw=100, price_yuan_mwh=float(p[1]) - 1),
    ]
    await replay.submit_bids(spot(*bids))
    to_gate_closure(clock)
    (result,) = await replay.clearing_results("vpp-1", "SPOT", D)
    assert [b.cleared_kw for b in result.bids] == [10_000_000, 0]  # 10 GW moves nothing
    assert result.bids[0].clearing_price_yuan_mwh == p[0]
    points = await replay.market_data(
        "SPOT", slot_start(RULES, D, 0), slot_start(RULES, D, 0) + dt.timedelta(days=1)
    )
    assert [x.price_yuan_mwh for x in points] == p.tolist()
