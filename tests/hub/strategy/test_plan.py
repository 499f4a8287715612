"""plan_day: one call per day for every strategy type, bids fitted to the market."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hub.strategy import (
    Battery,
    DayAheadProblem,
    MarketRules,
    SlotContext,
    derive_bids,
    optimise,
    plan_day,
    validate_config,
)

T = 96
DAY = 20_454 * 86_400_000
SHANDONG = MarketRules(floor_yuan_mwh=-85, cap_yuan_mwh=1500, min_bid_kw=5)


def contexts(**values: Any) -> list[SlotContext]:
    return [
        SlotContext(slot_start_ms=DAY + t * 900_000, known_at_ms=DAY - 50_400_000, slot=t, **values)
        for t in range(T)
    ]


def problem() -> DayAheadProblem:
    return DayAheadProblem(
        prices_yuan_mwh=list(300 + 250 * np.sin(np.arange(T) / T * 4 * np.pi)),
        batteries=[
            Battery(id="b", capacity_kwh=400, max_charge_kw=100, max_discharge_kw=100, soc_pct=50)
        ],
        day_start_ms=DAY,
    )


RULES = {
    "rules": [
        {
            "conditions": [{"field": "slot", "operator": "in", "value": [70, 71]}],
            "actions": [{"type": "bid", "parameters": {"quantity_kw": 50, "price_yuan_mwh": 2000}}],
        },
        {
            "conditions": [{"field": "slot", "operator": "==", "value": 3}],
            "actions": [{"type": "bid", "parameters": {"side": "buy", "quantity_kw": 2}}],
        },
        {
            "conditions": [{"field": "slot", "operator": "==", "value": 4}],
            "actions": [{"type": "bid", "parameters": {"side": "buy", "quantity_kw": 20}}],
        },
    ]
}


def test_rule_bids_are_fitted_to_the_market() -> None:
    config = validate_config(RULES, "RULE_BASED")
    plan = plan_day("RULE_BASED", config, contexts(), market=SHANDONG)
    assert plan.schedule is None
    assert [(b.slot_start_ms - DAY) // 900_000 for b in plan.bids] == [4, 70, 71]
    assert [b.price_yuan_mwh for b in plan.bids] == [1500, 1500, 1500]  # taker buy; capped
    quantity = plan_day(
        "RULE_BASED",
        config,
        contexts(),
        market=MarketRules(mode="quantity_only", floor_yuan_mwh=0, cap_yuan_mwh=1500),
    )
    assert [b.price_yuan_mwh for b in quantity.bids] == [None, None, None, None]


def test_an_ai_driven_day_bids_the_plan() -> None:
    config = validate_config({"optimiser": {"risk_weight": 0.0}}, "AI_DRIVEN")
    day = problem()
    plan = plan_day("AI_DRIVEN", config, contexts(), market=SHANDONG, problem=day)
    assert plan.schedule is not None
    expected = derive_bids(
        optimise(day), day, "price_quantity", floor_yuan_mwh=-85, cap_yuan_mwh=1500
    )
    assert plan.bids == [b for b in expected if b.quantity_kw >= 5]
    assert len(plan.decisions) == T


def test_the_config_risk_weight_applies_to_the_scenarios() -> None:
    rng = np.random.default_rng(1)
    day = problem()
    paths = [list(np.asarray(day.prices_yuan_mwh) + rng.normal(0, 200, T)) for _ in range(5)]
    neutral = validate_config({"optimiser": {"risk_weight": 0}}, "AI_DRIVEN")
    averse = validate_config({"optimiser": {"risk_weight": 10, "cvar_alpha": 0.8}}, "AI_DRIVEN")
    a = plan_day(
        "AI_DRIVEN", neutral, contexts(), market=SHANDONG, problem=day, price_scenarios=paths
    )
    b = plan_day(
        "AI_DRIVEN", averse, contexts(), market=SHANDONG, problem=day, price_scenarios=paths
    )
    assert a.schedule is not None
    assert b.schedule is not None
    assert a.schedule.cvar_loss_yuan is not None
    assert b.schedule.cvar_loss_yuan is not None
    assert b.schedule.cvar_loss_yuan <= a.schedule.cvar_loss_yuan + 1e-6
    assert b.schedule.objective_yuan <= a.schedule.objective_yuan + 1e-6


def test_a_hybrid_day_lets_rules_override_the_planned_bid() -> None:
    config = validate_config(RULES, "HYBRID")
    day = problem()
    plan = plan_day("HYBRID", config, contexts(), market=SHANDONG, problem=day)
    by_slot = {(b.slot_start_ms - DAY) // 900_000: b for b in plan.bids}
    assert by_slot[70].quantity_kw == 50
    assert by_slot[70].side == "sell"
    assert plan.decisions[70].set_by["bid"] == 0
    assert plan.decisions[69].set_by.get("bid", -1) == -1


def test_optimiser_strategies_need_the_day_and_matching_slots() -> None:
    config = validate_config({}, "AI_DRIVEN")
    with pytest.raises(ValueError, match="DayAheadProblem"):
        plan_day("AI_DRIVEN", config, contexts(), market=SHANDONG)
    shifted = [
        SlotContext(slot_start_ms=c.slot_start_ms + 1, known_at_ms=0, slot=c.slot)
        for c in contexts()
    ]
    with pytest.raises(ValueError, match="differ"):
        plan_day("HYBRID", validate_config(RULES), shifted, market=SHANDONG, problem=problem())
