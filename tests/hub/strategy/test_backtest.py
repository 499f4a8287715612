"""The backtest loop (pure): no look-ahead, parity with the live adapter, results and the
risk metrics, progress and cancellation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import numpy as np
import pytest

from hub.markets import PriceSeries, reference_year
from hub.strategy import validate_config
from hub.strategy._backtest import (
    Backtest,
    BacktestCancelled,
    DayRecord,
    Fleet,
    Progress,
    Run,
    missing_days,
    run_backtest,
    summary,
)
from hub.strategy._bidder import StrategyBidder

START = dt.date(2026, 3, 1)
FLEET = Fleet(
    energy_kwh=8_000,
    max_charge_kw=2_000,
    max_discharge_kw=2_000,
    soc_start_pct=50,
    soc_min_pct=10,
    soc_max_pct=90,
    resources=4,
)
SPIKE = 1_400.0

SELL_HIGH_BUY_LOW: dict[str, Any] = {
    "rules": [
        {
            "name": "scarcity",
            "priority": 20,
            "conditions": [{"field": "price_forecast", "operator": ">", "value": 700}],
            "actions": [
                {"type": "bid", "parameters": {"side": "sell", "quantity_kw": "available"}}
            ],
        },
        {
            "name": "evening",
            "priority": 10,
            "conditions": [
                {"field": "price_forecast", "operator": ">", "value": 480},
                {"field": "soc", "operator": ">", "value": 20},
            ],
            "actions": [
                {
                    "type": "bid",
                    "parameters": {"side": "sell", "quantity_kw": 1_000, "price_yuan_mwh": 420},
                }
            ],
        },
        {
            "name": "cheap",
            "priority": 5,
            "conditions": [
                {"field": "price_forecast", "operator": "crosses_below", "value": 260},
            ],
            "actions": [
                {"type": "bid", "parameters": {"side": "buy", "quantity_kw": 1_500}},
                {"type": "notify", "parameters": {"message": "cheap energy"}},
            ],
        },
        {
            "name": "night",
            "priority": 1,
            "conditions": [
                {"field": "time_of_day", "operator": "between", "value": ["01:00", "05:00"]}
            ],
            "actions": [{"type": "bid", "parameters": {"side": "buy", "quantity_kw": 800}}],
        },
    ]
}


def _series(spike_day: int | None = None, days: int = 20) -> PriceSeries:
    """Twenty days of the reference year from March; optionally an evening price spike on
    day ``spike_day`` (slots 72..79, 18:00-20:00)."""
    year = reference_year()
    first = year.index(START) - 1  # a day of history before the first day traded
    da = np.array(year.day_ahead_yuan_mwh[first : first + days + 1])
    if spike_day is not None:
        da[spike_day + 1, 72:80] = SPIKE
    return PriceSeries(
        start=START - dt.timedelta(days=1),
        day_ahead_yuan_mwh=da,
        realtime_yuan_mwh=np.array(year.realtime_yuan_mwh[first : first + days + 1]),
        load_mw=np.array(year.load_mw[first : first + days + 1]),
        rules=year.rules,
    )


def _spec(config: dict[str, Any] = SELL_HIGH_BUY_LOW, days: int = 20, **kw: Any) -> Backtest:
    return Backtest(
        strategy_type=kw.pop("strategy_type", "RULE_BASED"),
        config=config,
        fleet=kw.pop("fleet", FLEET),
        start=START,
        end=START + dt.timedelta(days=days - 1),
        keep_traces=True,
        **kw,
    )


def test_a_price_spike_cannot_move_a_decision_before_its_gate_closure() -> None:
    """The spike is on day 10's prices, published on day 9 evening (after day 10's gate
    closure, day 9 09:30): every decision for days 0..10 is the same with and without it;
    day 11, whose gate closes on day 10 09:30, is the first that can react."""
    spike_day = 10
    plain = run_backtest(_spec(compare=False), _series())
    spiked = run_backtest(_spec(compare=False), _series(spike_day))
    assert len(plain.run.traces) == len(spiked.run.traces) == 20
    for a, b in zip(plain.run.traces, spiked.run.traces, strict=True):
        day = (a.date - START).days
        if day <= spike_day:
            assert a.request == b.request, a.date
            assert a.bids == b.bids and a.strategy_bids == b.strategy_bids, a.date
            assert a.decisions == b.decisions, a.date
    # The spike was real: it cleared on day 10 (revenue differs) ...
    clear_a = plain.run.traces[spike_day].clearing_price_yuan_mwh
    clear_b = spiked.run.traces[spike_day].clearing_price_yuan_mwh
    assert max(clear_b[72:80]) > max(clear_a[72:80]) + 500
    # ... and the first day that knew of it bid into its evening ("scarcity" fired).
    after = spiked.run.traces[spike_day + 1]
    assert after.request.known_at > dt.datetime.combine(
        START + dt.timedelta(days=spike_day - 1), dt.time(9, 30), dt.UTC
    )
    assert any(0 in d.fired for d in after.decisions)
    assert not any(0 in d.fired for t in plain.run.traces for d in t.decisions)


async def test_the_live_adapter_makes_the_same_decisions_slot_by_slot() -> None:
    """Parity: the backtest and the trading loop's BidStrategy (StrategyBidder, fed the same
    gate-closure requests day after day, its rule state carried) agree on every bid and
    every slot's decision."""
    outcome = run_backtest(_spec(compare=False), _series())
    live = StrategyBidder("RULE_BASED", validate_config(SELL_HIGH_BUY_LOW, "RULE_BASED"))
    fired = 0
    for trace in outcome.run.traces:
        bids = await live.bids(trace.request)
        assert list(bids) == trace.strategy_bids, trace.date
        assert live.last_plan is not None
        assert len(live.last_plan.decisions) == len(trace.decisions) == 96
        for ours, theirs in zip(live.last_plan.decisions, trace.decisions, strict=True):
            assert ours == theirs, (trace.date, ours.slot)
        fired += sum(len(d.fired) for d in trace.decisions)
    assert fired > 0
    # The rule state (crosses_below's previous forecast) went from day to day.
    assert live.state is not None and "price_forecast" in live.state.previous


async def test_the_engine_resolver_keeps_one_bidder_per_strategy_and_config() -> None:
    from hub.strategy import EngineResolver
    from hub.trading import StorageArbitrage, StrategySpec, builtin_resolver

    resolve = EngineResolver(fallback=builtin_resolver)
    spec = StrategySpec(
        strategy_id="s1", vpp_id="v", name="s", strategy_type="RULE_BASED", config=SELL_HIGH_BUY_LOW
    )
    first = resolve(spec)
    assert isinstance(first, StrategyBidder) and resolve(spec) is first
    changed = msgspec.structs.replace(spec, config={"rules": SELL_HIGH_BUY_LOW["rules"][:1]})
    assert resolve(changed) is not first
    arbitrage = msgspec.structs.replace(spec, strategy_id="s2", config={"arbitrage": {}})
    assert isinstance(resolve(arbitrage), StorageArbitrage)
    assert EngineResolver()(arbitrage) is None
    # A day asked for twice (a failed submission retried) is planned from the same state.
    traces = run_backtest(_spec(compare=False, days=3), _series(days=3)).run.traces
    assert isinstance(first, StrategyBidder)
    for trace in traces:
        again = list(await first.bids(trace.request))
        assert list(await first.bids(trace.request)) == again == trace.strategy_bids
        assert first.last_plan is not None and first.last_plan.decisions == trace.decisions


def test_results_compare_with_do_nothing_threshold_and_perfect_foresight() -> None:
    outcome = run_backtest(_spec({}, strategy_type="AI_DRIVEN", days=14), _series(days=14))
    r = outcome.results
    assert {"total_revenue", "success_rate", "risk_metrics", "performance_comparison"} <= set(r)
    risk = r["risk_metrics"]
    assert {
        "max_drawdown_yuan",
        "var_95_daily_yuan",
        "cvar_95_daily_yuan",
        "worst_day",
        "deviation_penalties_yuan",
    } <= set(risk)
    comparison = r["performance_comparison"]
    pf = comparison["perfect_foresight"]["net_revenue"]
    assert comparison["do_nothing"]["net_revenue"] == 0.0
    assert pf > 0
    assert pf >= r["net_revenue"]  # the bound: the whole range at once, realised prices
    assert pf >= comparison["threshold_rule"]["net_revenue"] - 1e-6
    assert comparison["capture_ratio"] == pytest.approx(r["net_revenue"] / pf, abs=1e-4)
    assert 0 < r["success_rate"] <= 1
    assert r["days"] == 14 and len(risk["daily_net_revenue_yuan"]) == 14


def test_bids_the_fleet_cannot_deliver_pay_deviation_penalties() -> None:
    # The members deliver half of their power: the awards (trimmed to the capacity the
    # strategy was told, as the loop trims them) are missed by half.
    small = Fleet(
        energy_kwh=400, max_charge_kw=100, max_discharge_kw=100, resources=1, delivery_share=0.5
    )
    oversell = {
        "rules": [
            {
                "conditions": [
                    {"field": "time_of_day", "operator": "between", "value": ["18:00", "20:00"]}
                ],
                "actions": [
                    {
                        "type": "bid",
                        "parameters": {"side": "sell", "quantity_kw": 5_000, "price_yuan_mwh": 300},
                    }
                ],
            }
        ]
    }
    outcome = run_backtest(_spec(oversell, days=3, fleet=small, compare=False), _series(days=3))
    r = outcome.results
    assert r["energy_delivered_kwh"] < r["energy_cleared_kwh"]
    assert r["risk_metrics"]["deviation_kwh"] > 0
    assert r["risk_metrics"]["deviation_penalties_yuan"] > 0
    assert r["risk_metrics"]["imbalance_cost_yuan"] > 0


def test_risk_metrics_of_daily_revenue() -> None:
    def day(n: int, revenue: float) -> DayRecord:
        return DayRecord(
            date=START + dt.timedelta(days=n),
            revenue_yuan=revenue,
            imbalance_yuan=0.0,
            penalty_yuan=0.0,
            degradation_yuan=0.0,
            bids=2,
            cleared_bids=1,
            cleared_kwh=10.0,
            delivered_kwh=10.0,
            deviation_kwh=0.0,
        )

    revenues = [100.0, -50.0, 30.0, -120.0, 200.0] + [10.0] * 15
    r = summary(Run(days=[day(n, v) for n, v in enumerate(revenues)]))
    risk = r["risk_metrics"]
    # Cumulative: 100, 50, 80, -40, 160, ...: the deepest fall from a peak is 100 -> -40.
    assert risk["max_drawdown_yuan"] == 140.0
    q = float(np.quantile(revenues, 0.05))
    assert risk["var_95_daily_yuan"] == round(-q, 2)
    assert risk["cvar_95_daily_yuan"] == round(-float(np.mean([v for v in revenues if v <= q])), 2)
    assert risk["worst_day"] == {
        "date": (START + dt.timedelta(days=3)).isoformat(),
        "net_revenue": -120.0,
    }
    assert r["success_rate"] == 0.5 and r["total_revenue"] == round(sum(revenues), 2)


def test_progress_is_reported_every_day_and_should_stop_cancels() -> None:
    seen: list[Progress] = []
    run_backtest(_spec(days=5), _series(days=5), progress=seen.append)
    assert [p.slots_done for p in seen] == [96 * k for k in range(1, 16)]
    assert seen[-1].percent == 100.0 and seen[-1].slots_total == 5 * 96 * 3
    assert [p.phase for p in seen[::5]] == ["strategy", "threshold_rule", "perfect_foresight"]
    assert seen[0].slot_reached_ms is not None
    days: list[Progress] = []
    with pytest.raises(BacktestCancelled):
        run_backtest(
            _spec(days=5),
            _series(days=5),
            progress=days.append,
            should_stop=lambda: len(days) >= 2,
        )
    assert len(days) == 2


def test_a_range_the_series_does_not_hold_is_named() -> None:
    series = _series(days=5)  # 2026-02-28 .. 2026-03-05
    assert missing_days(series, START, START + dt.timedelta(days=4)) is None
    assert missing_days(series, START, dt.date(2026, 3, 9)) == (
        dt.date(2026, 3, 6),
        dt.date(2026, 3, 9),
    )
    assert missing_days(series, dt.date(2026, 2, 20), START) == (
        dt.date(2026, 2, 20),
        dt.date(2026, 2, 27),
    )
    assert missing_days(series, dt.date(2027, 1, 1), dt.date(2027, 1, 2)) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 2),
    )
