"""The built-in storage arbitrage strategy against hand-computed days, and the envelope fit."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from hub.markets import MarketBid, StorageEnvelope, TradingRules
from hub.trading import (
    ArbitrageConfig,
    BidRequest,
    BidStrategy,
    StorageArbitrage,
    StrategySpec,
    builtin_resolver,
    fit_to_envelope,
)

DAY = dt.date(2026, 12, 3)
GATE = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)


def _prices() -> list[float]:
    prices = [300.0] * 96
    prices[10] = prices[11] = 100.0
    prices[70] = prices[71] = 800.0
    return prices


def _request(
    storage: StorageEnvelope | None, *, rules: TradingRules | None = None, kw: float = 100.0
) -> BidRequest:
    return BidRequest(
        vpp_id="v1",
        market_type="SPOT",
        trading_date=DAY,
        rules=TradingRules() if rules is None else rules,
        known_at=GATE,
        price_forecast_yuan_mwh=_prices(),
        available_up_kw=[kw] * 96,
        available_down_kw=[kw] * 96,
        storage=storage,
    )


def _lossless(energy: float, start: float) -> StorageEnvelope:
    return StorageEnvelope(
        energy_kwh=energy, soc_start_kwh=start, charge_efficiency=1.0, discharge_efficiency=1.0
    )


def _table(bids: list[MarketBid]) -> list[tuple[int, str, float, float | None]]:
    return [(b.slot, b.side, round(b.quantity_kw, 6), b.price_yuan_mwh) for b in bids]


async def test_buys_the_cheapest_and_sells_the_dearest_slots_at_full_power() -> None:
    strategy: BidStrategy = StorageArbitrage()
    bids = list(await strategy.bids(_request(_lossless(200, 100))))
    # Pairs 10->70 and 11->71 earn 700/MWh; 25 kWh each at 100 kW for 15 min. Limit prices
    # are the forecast -/+ 10 %: sell 800 - 80, buy 100 + 10.
    assert _table(bids) == [
        (10, "buy", 100.0, 110.0),
        (11, "buy", 100.0, 110.0),
        (70, "sell", 100.0, 720.0),
        (71, "sell", 100.0, 720.0),
    ]


def test_the_state_of_charge_limits_the_second_pair() -> None:
    # 30 kWh from empty: 10->70 moves 25 kWh, 11->71 only the 5 kWh left (20 kW).
    bids = StorageArbitrage().plan(_request(_lossless(30, 0)))
    assert _table(bids) == [
        (10, "buy", 100.0, 110.0),
        (11, "buy", 20.0, 110.0),
        (70, "sell", 100.0, 720.0),
        (71, "sell", 20.0, 720.0),
    ]


def test_losses_shrink_what_is_sold_and_the_day_ends_at_the_start_soc() -> None:
    storage = StorageEnvelope(
        energy_kwh=200, soc_start_kwh=100, charge_efficiency=0.9, discharge_efficiency=0.9
    )
    # Spreads: 800 - 100 / 0.81 = 676.5 for cheap -> dear, 800 - 300 / 0.81 = 429.6 for a
    # flat slot -> dear; a 450 minimum keeps only the first.
    bids = StorageArbitrage(ArbitrageConfig(min_spread_yuan_mwh=450)).plan(_request(storage))
    # 100 kW bought stores 22.5 kWh per slot; the 45 kWh sell as 45 * 0.9 / 0.25 h = 162
    # kW-slots, slot 70 filled first (100 kW), slot 71 the rest (62 kW).
    assert _table(bids) == [
        (10, "buy", 100.0, 110.0),
        (11, "buy", 100.0, 110.0),
        (70, "sell", 100.0, 720.0),
        (71, "sell", 62.0, 720.0),
    ]
    kept, trimmed = fit_to_envelope(bids, storage, slot_hours=0.25)
    assert kept == bids and trimmed == []
    soc = storage.soc_start_kwh + sum(
        b.quantity_kw * 0.25 * 0.9 if b.side == "buy" else -b.quantity_kw * 0.25 / 0.9 for b in bids
    )
    assert soc == pytest.approx(storage.soc_start_kwh)


def test_a_spread_below_the_minimum_is_not_traded() -> None:
    strategy = StorageArbitrage(ArbitrageConfig(min_spread_yuan_mwh=701))
    assert strategy.plan(_request(_lossless(200, 100))) == []


def test_limit_prices_stay_within_the_offer_limits_and_are_dropped_when_quantity_only() -> None:
    capped = TradingRules(offer_cap_yuan_mwh=500, offer_floor_yuan_mwh=120)
    prices = {
        (b.side, b.price_yuan_mwh)
        for b in StorageArbitrage().plan(_request(_lossless(200, 100), rules=capped))
    }
    assert prices == {("buy", 120.0), ("sell", 500.0)}
    quantity_only = TradingRules(mode="quantity_only")
    bids = StorageArbitrage().plan(_request(_lossless(200, 100), rules=quantity_only))
    assert len(bids) == 4 and all(b.price_yuan_mwh is None for b in bids)


def test_quantities_are_rounded_down_to_the_step_and_small_ones_dropped() -> None:
    rules = TradingRules(bid_step_kw=30, min_bid_kw=30)
    # 30 kWh from empty plans 100 kW and 20 kW per side; on a 30 kW step 100 -> 90 and
    # 20 is under the 30 kW minimum.
    bids = StorageArbitrage().plan(_request(_lossless(30, 0), rules=rules))
    assert _table(bids) == [(10, "buy", 90.0, 110.0), (70, "sell", 90.0, 720.0)]
    assert all(isinstance(b.quantity_kw, float) for b in bids)


def test_no_storage_or_a_malformed_request_gives_no_bids() -> None:
    assert StorageArbitrage().plan(_request(None)) == []
    short = msgspec.structs.replace(_request(_lossless(200, 100)), available_up_kw=[1.0])
    assert short.problems() == ["available_up_kw has 1 values, the day has 96 slots"]
    assert StorageArbitrage().plan(short) == []


def test_fit_to_envelope_trims_in_slot_order() -> None:
    storage = _lossless(50, 10)
    bids = [
        MarketBid(slot=5, side="sell", quantity_kw=80),  # 20 kWh wanted, 10 stored: 40 kW
        MarketBid(slot=6, side="buy", quantity_kw=400),  # 100 kWh wanted, room 50: 200 kW
        MarketBid(slot=7, side="sell", quantity_kw=100, product="regulation"),  # capacity
    ]
    kept, trimmed = fit_to_envelope(bids, storage, slot_hours=0.25)
    assert [(b.slot, b.quantity_kw) for b in kept] == [(5, 40.0), (6, 200.0), (7, 100.0)]
    assert [(b.slot, q) for b, q in trimmed] == [(5, 40.0), (6, 200.0)]


def test_the_builtin_resolver_reads_the_arbitrage_key_and_refuses_a_bad_one() -> None:
    spec = StrategySpec(
        strategy_id="s", vpp_id="v1", name="arb", strategy_type="RULE_BASED",
        config={"arbitrage": {"min_spread_yuan_mwh": 10}},
    )  # fmt: skip
    strategy = builtin_resolver(spec)
    assert isinstance(strategy, StorageArbitrage)
    assert strategy.config.min_spread_yuan_mwh == 10
    bad = msgspec.structs.replace(spec, config={"arbitrage": {"nope": 1}})
    assert builtin_resolver(bad) is None
