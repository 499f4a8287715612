"""Risk control, pure: pre-trade checks trim (the loop) or refuse (a trader) naming the
limit, the breaker's triggers, REST slot names and units, and the default resolver."""

from __future__ import annotations

import pytest

from hub.markets import MarketBid, StorageEnvelope, TradingRules
from hub.trading import (
    BreakerCounters,
    RiskContext,
    RiskLimits,
    StorageArbitrage,
    StrategySpec,
    TradingRuntime,
    breaker_trigger,
    format_time_slot,
    kwh_to_kw,
    parse_time_slot,
    pre_trade,
    record_call,
    slot_deviates,
)

RULES = TradingRules(bid_step_kw=10)
CTX = RiskContext(
    available_up_kw=[200.0] * 96,
    available_down_kw=[150.0] * 96,
    price_forecast_yuan_mwh=[400.0] * 96,
    committed_sell_kw={3: 50.0},
)


def sell(slot: int, kw: float, price: float | None = 400.0) -> MarketBid:
    return MarketBid(slot=slot, side="sell", quantity_kw=kw, price_yuan_mwh=price)


def buy(slot: int, kw: float, price: float | None = 400.0) -> MarketBid:
    return MarketBid(slot=slot, side="buy", quantity_kw=kw, price_yuan_mwh=price)


def test_trim_mode_cuts_each_bid_to_its_tightest_limit_rounded_to_the_step() -> None:
    limits = RiskLimits(max_capacity_share=0.8, max_position_kw=170)
    decision = pre_trade(
        [sell(1, 250), sell(3, 150), buy(4, 149), sell(5, 100, price=1300)],
        limits,
        CTX,
        mode="trim",
        rules=RULES,
    )
    # slot 1: 200 available -> 160 (80 %); slot 3: 200 - 50 bid already -> 150 -> 110
    # (80 % of 200 less 50); slot 4: 150 * 0.8 = 120; slot 5 is 900 from a 400 forecast.
    assert [(b.slot, b.side, b.quantity_kw) for b in decision.bids] == [
        (1, "sell", 160.0),
        (3, "sell", 110.0),
        (4, "buy", 120.0),
    ]
    assert [(f.slot, f.limit, f.action) for f in decision.findings] == [
        (1, "available_capacity", "trimmed"),
        (1, "capacity_share", "trimmed"),
        (3, "capacity_share", "trimmed"),
        (4, "capacity_share", "trimmed"),
        (5, "price_deviation", "dropped"),
    ]
    assert not decision.refused


def test_reject_mode_refuses_everything_and_names_every_limit() -> None:
    decision = pre_trade(
        [sell(1, 100), sell(2, 210)], RiskLimits(max_position_kw=200), CTX, mode="reject"
    )
    assert decision.refused and decision.bids == []
    assert [(f.index, f.limit) for f in decision.findings] == [
        (1, "available_capacity"),
        (1, "position_limit"),
    ]


def test_the_storage_envelope_trims_what_the_soc_cannot_deliver() -> None:
    storage = StorageEnvelope(
        energy_kwh=100, soc_start_kwh=20, charge_efficiency=1, discharge_efficiency=1
    )
    ctx = RiskContext(available_up_kw=[200.0] * 96, available_down_kw=[200.0] * 96, storage=storage)
    decision = pre_trade([sell(0, 120), buy(1, 200)], RiskLimits(), ctx, mode="trim")
    # 20 kWh stored sell as 80 kW for 15 min; then 100 kWh of room take 400 kW (200 bid).
    assert [(b.slot, b.quantity_kw) for b in decision.bids] == [(0, 80.0), (1, 200.0)]
    assert [(f.limit, f.allowed_kw) for f in decision.findings] == [("storage_envelope", 80.0)]


@pytest.mark.parametrize(
    ("counters", "trigger"),
    [
        (BreakerCounters(day_pnl_yuan=-1001), "daily_loss"),
        (BreakerCounters(deviation_run=4), "deviation"),
        (BreakerCounters(day_cleared_kwh=100, day_deviation_kwh=51), "imbalance"),
        (BreakerCounters(recent_calls=[True, False, True, True]), "connector_errors"),
        (BreakerCounters(market_data_age_s=2 * 86400 + 1), "stale_market_data"),
        (BreakerCounters(day_pnl_yuan=-999, deviation_run=3, day_cleared_kwh=100,
                         day_deviation_kwh=50, recent_calls=[True, True],
                         market_data_age_s=60), None),
    ],
)  # fmt: skip
def test_each_trigger_fires_past_its_limit_and_not_at_it(
    counters: BreakerCounters, trigger: str | None
) -> None:
    trip = breaker_trigger(counters, RiskLimits(daily_loss_limit_yuan=1000))
    assert (trip.trigger if trip else None) == trigger
    if trip is not None:
        assert trip.reason


def test_call_history_and_deviation_band() -> None:
    calls: list[bool] = []
    for error in [True] * 12 + [False]:
        calls = record_call(calls, error, 10)
    assert len(calls) == 10 and sum(calls) == 9
    assert slot_deviates(50, 44, 0.1) and not slot_deviates(50, 45, 0.1)
    assert slot_deviates(0, 1, 0.1) and not slot_deviates(-50, -46, 0.1)


def test_time_slots_and_units_in_the_seed_s_forms() -> None:
    rules = TradingRules()
    assert [format_time_slot(s, rules) for s in (0, 1, 95)] == [
        "00:00-00:15",
        "00:15-00:30",
        "23:45-24:00",
    ]
    assert [parse_time_slot(v, rules) for v in ("00:15-00:30", "23:45-24:00", "5", 5)] == [
        1,
        95,
        5,
        5,
    ]
    for bad in ("24:00-24:15", "00:10-00:25", "00:15-00:45", "noon", 96, -1, "1:5"):
        with pytest.raises(ValueError, match=r"slot|time_slot"):
            parse_time_slot(bad, rules)
    assert kwh_to_kw(25, 15) == 100.0


def test_the_default_resolver_keeps_a_strategy_while_its_config_holds() -> None:
    runtime = TradingRuntime()
    spec = StrategySpec(
        strategy_id="s1", vpp_id="v", name="arb", strategy_type="RULE_BASED",
        config={"arbitrage": {"min_spread_yuan_mwh": 10}},
    )  # fmt: skip
    first = runtime.strategy_for(spec)
    assert isinstance(first, StorageArbitrage) and runtime.strategy_for(spec) is first
    changed = StrategySpec(
        strategy_id="s1", vpp_id="v", name="arb", strategy_type="RULE_BASED",
        config={"arbitrage": {"min_spread_yuan_mwh": 20}},
    )  # fmt: skip
    second = runtime.strategy_for(changed)
    assert isinstance(second, StorageArbitrage) and second is not first
    bad = StrategySpec(
        strategy_id="s2", vpp_id="v", name="x", strategy_type="RULE_BASED", config={"rules": 1}
    )
    assert runtime.strategy_for(bad) is None
