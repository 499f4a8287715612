"""HYBRID: the optimiser's plan with the rules laid over it as overrides."""

from __future__ import annotations

import numpy as np
import pytest

from hub.strategy import (
    PLAN,
    Battery,
    DayAheadProblem,
    PvPlant,
    RuleEngine,
    SlotContext,
    derive_bids,
    hybrid_decisions,
    optimise,
    plan_decisions,
    validate_config,
)

T = 96


def test_rules_override_only_the_channels_they_set_in_the_slots_they_fire() -> None:
    prices = list(300 + 250 * np.sin(np.arange(T) / T * 4 * np.pi))
    problem = DayAheadProblem(
        prices_yuan_mwh=prices,
        batteries=[
            Battery(id="b", capacity_kwh=400, max_charge_kw=100, max_discharge_kw=100, soc_pct=50)
        ],
        pv=[PvPlant(id="pv", forecast_kw=[50.0] * T)],
        day_start_ms=0,
    )
    schedule = optimise(problem)
    bids = derive_bids(schedule, problem, "quantity_only", floor_yuan_mwh=-85, cap_yuan_mwh=1500)
    plan = plan_decisions(schedule, problem, bids)
    assert len(plan) == T
    assert all(d.set_by.get("battery") == PLAN for d in plan)
    assert plan[10].battery_kw == pytest.approx(schedule.battery_kw[0, 10])

    config = validate_config(
        {
            "rules": [
                {
                    "conditions": [{"field": "soc", "operator": "<", "value": 15}],
                    "actions": [
                        {"type": "charge", "parameters": {"power_kw": 40}},
                        {"type": "notify", "parameters": {"message": "low SoC"}},
                    ],
                }
            ]
        },
        "HYBRID",
    )
    contexts = [
        SlotContext(
            slot_start_ms=t * 900_000,
            known_at_ms=0,
            slot=t,
            soc_pct=10.0 if t == 20 else 50.0,
            available_down_kw=100.0,
        )
        for t in range(T)
    ]
    decided, _ = hybrid_decisions(plan, RuleEngine(config.rules), contexts)
    assert decided[20].battery_kw == -40
    assert decided[20].set_by["battery"] == 0
    assert decided[20].bid == plan[20].bid
    assert [n.message for n in decided[20].notifications] == ["low SoC"]
    untouched = [t for t in range(T) if t != 20]
    assert all(decided[t] == plan[t] for t in untouched)
