"""Pure settlement: the simulated day to the cent, ancillary, DR, gaps, rounding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub.settlement import (
    FLAG_METER,
    FLAG_MILEAGE,
    FLAG_PRICE,
    MemberInput,
    SlotInput,
    allocate,
    baseline,
    curtailment,
    money,
    settle,
    settle_line,
)
from tests.hub.settlement import day


def spot_lines() -> list[SlotInput]:
    lines = []
    for i, slot in enumerate(day.SLOTS):
        delivered = [day.DELIVERED[m][i] for m in "ABC"]
        lines.append(
            SlotInput(
                slot=slot,
                cleared_kwh=day.CLEARED[slot],
                clearing_price_yuan_mwh=day.PRICE[slot],
                realtime_price_yuan_mwh=day.REALTIME[slot],
                delivered_kwh=None
                if any(d is None for d in delivered)
                else sum(d for d in delivered if d is not None),
            )
        )
    return lines


def members() -> list[MemberInput]:
    return [
        MemberInput(
            resource_id=m,
            committed_kwh=day.COMMITTED[m],
            delivered_kwh=day.DELIVERED[m],
            capacity_kw=day.CAPACITY[m][0],
            availability=day.CAPACITY[m][1],
        )
        for m in "CBA"  # any order in, resource id order out
    ]


def test_the_simulated_day_settles_to_the_hand_computed_cent() -> None:
    statement = settle("vpp", "SPOT", day.DAY, spot_lines(), day.RULES)
    assert {line.slot: line.total_yuan for line in statement.lines} == day.LINE_TOTALS
    assert statement.totals.energy_yuan == day.ENERGY
    assert statement.totals.deviation_yuan == day.DEVIATION
    assert statement.totals.penalty_yuan == day.PENALTY
    assert statement.totals.total_yuan == day.TOTAL
    assert statement.gap_slots == (43,)
    assert not statement.complete
    gap = statement.lines[-1]
    assert gap.flags == (FLAG_METER,)
    assert gap.deviation_kwh is None and gap.deviation_yuan == 0 and gap.penalty_yuan == 0
    assert statement.totals.delivered_kwh == 100 + 180 + 53  # the gap is not counted as 0


def test_half_even_rounding_per_component() -> None:
    line = settle_line(
        "SPOT",
        SlotInput(slot=0, cleared_kwh=50, clearing_price_yuan_mwh=320.9, delivered_kwh=50),
        day.RULES,
    )
    assert line.energy_yuan == Decimal("16.04")  # 16.045: half-even, not half-up
    assert money(0.125) == Decimal("0.12") and money(0.135) == Decimal("0.14")
    assert str(line.penalty_yuan) == "0.00"  # never "-0.00"


def test_a_missing_realtime_price_leaves_the_deviation_unsettled_but_penalised() -> None:
    line = settle_line(
        "SPOT",
        SlotInput(slot=5, cleared_kwh=100, clearing_price_yuan_mwh=400, delivered_kwh=80),
        day.RULES,
    )
    assert line.flags == (FLAG_PRICE,)
    assert line.deviation_kwh == -20
    assert line.deviation_yuan == 0
    assert line.penalty_yuan == Decimal("-3.00")  # (20 - 5) x 200 / 1000


def test_ancillary_availability_and_mileage() -> None:
    lines = [
        SlotInput(slot=0, cleared_kwh=125, clearing_price_yuan_mwh=0, product="regulation",
                  mileage_mw=2.5),
        SlotInput(slot=0, cleared_kwh=125, clearing_price_yuan_mwh=12, product="reserve"),
        SlotInput(slot=1, cleared_kwh=125, clearing_price_yuan_mwh=0, product="regulation"),
    ]  # fmt: skip
    statement = settle("vpp", "ANCILLARY", day.DAY, lines, day.RULES)
    reg, reserve, unmetered = statement.lines
    assert reg.product == "regulation" and reserve.product == "reserve"
    # 125 kWh held over 15 min = 0.5 MW; x 0.25 h x 30 yuan/MW.h (rules: none cleared)
    assert reg.availability_yuan == Decimal("3.75")
    assert reg.mileage_yuan == Decimal("20.00")  # 2.5 MW x 8 yuan/MW
    assert reserve.availability_yuan == Decimal("1.50")  # 0.5 x 0.25 x 12 (cleared)
    assert unmetered.flags == (FLAG_MILEAGE,) and unmetered.mileage_yuan == 0
    assert statement.totals.total_yuan == Decimal("3.75") + 20 + Decimal("1.50") + Decimal("3.75")
    assert statement.gap_slots == (1,)


def test_demand_response_compensation_capped_and_shortfall_penalised() -> None:
    lines = [
        SlotInput(slot=72, cleared_kwh=100, clearing_price_yuan_mwh=0, delivered_kwh=120),
        SlotInput(slot=73, cleared_kwh=100, clearing_price_yuan_mwh=0, delivered_kwh=80),
        SlotInput(slot=74, cleared_kwh=100, clearing_price_yuan_mwh=0, delivered_kwh=None),
    ]
    statement = settle("vpp", "DEMAND_RESPONSE", day.DAY, lines, day.RULES)
    over, short, gap = statement.lines
    assert over.dr_yuan == Decimal("420.00")  # paid on at most 105 kWh x 4 yuan/kWh
    assert over.penalty_yuan == 0
    assert short.dr_yuan == Decimal("320.00")
    assert short.penalty_yuan == Decimal("-3.00")  # (95 - 80) kWh x 200 yuan/MWh
    assert gap.flags == (FLAG_METER,) and gap.total_yuan == 0
    assert statement.totals.total_yuan == Decimal("737.00")


def test_baseline_is_the_mean_of_the_previous_five_similar_days() -> None:
    target = dt.date(2026, 12, 2)  # a Wednesday
    history: dict[dt.date, list[float | None]] = {}
    for back in range(1, 15):
        d = target - dt.timedelta(days=back)
        history[d] = [float(back)] * 4
    history[target - dt.timedelta(days=2)] = [None, 2.0, 2.0, 2.0]  # slot 0 not metered
    events = {target - dt.timedelta(days=1)}  # yesterday was an event day
    b = baseline(target, history, slots=4, event_days=events)
    # similar (weekday, not an event) days back: 2, 5, 6, 7, 8, 9 (3 and 4 are Sat, Sun)
    assert b[1] == (2 + 5 + 6 + 7 + 8) / 5
    assert b[0] == (5 + 6 + 7 + 8 + 9) / 5  # day 2 skipped for the slot it did not meter
    sparse = {target - dt.timedelta(days=2): [1.0] * 4, target - dt.timedelta(days=5): [1.0] * 4}
    assert baseline(target, sparse, slots=4) == [None] * 4  # fewer than 3 days: no baseline
    assert curtailment([10.0, None, 5.0], [4.0, 1.0, None]) == [6.0, None, None]


def test_allocation_by_each_method_matches_the_hand_figures_and_adds_up() -> None:
    lines = spot_lines()
    statement = settle("vpp", "SPOT", day.DAY, lines, day.RULES)
    for method, expected in day.EXPECTED.items():
        result = allocate(statement, lines, members(), method, day.RULES)  # type: ignore[arg-type]
        got = {m.resource_id: m.amount_yuan for m in result.members}
        assert got == expected, method
        assert sum(got.values()) == day.TOTAL == result.total_yuan
        penalties = {m.resource_id: m.penalty_yuan for m in result.members}
        assert sum(penalties.values()) == day.PENALTY
        if method in day.EXPECTED_PENALTY:
            assert penalties == day.EXPECTED_PENALTY[method], method
    shap = allocate(statement, lines, members(), "shapley", day.RULES)
    a = shap.members[0]
    assert a.resource_id == "A" and a.delivered_kwh == 251 and a.committed_kwh == 258
    assert "115.18" not in a.explanation and "106.72" not in a.explanation  # share, not amount
    assert "penalty -1.00 yuan" in a.explanation
    b = shap.members[1]
    assert b.missing_lines == 1 and "1 line(s) not metered" in b.explanation
    assert shap.shapley is not None and shap.shapley.method == "exact"


def test_sampled_shapley_beyond_twelve_members_states_its_bound() -> None:
    n = 14
    lines = [
        SlotInput(slot=s, cleared_kwh=14.0 * 10, clearing_price_yuan_mwh=400,
                  realtime_price_yuan_mwh=500, delivered_kwh=sum(10.0 + (i % 3 - 1) * (s + 1)
                                                                 for i in range(n)))
        for s in range(4)
    ]  # fmt: skip
    ms = [
        MemberInput(
            resource_id=f"r{i:02d}",
            committed_kwh=[10.0] * 4,
            delivered_kwh=[10.0 + (i % 3 - 1) * (s + 1) for s in range(4)],
        )
        for i in range(n)
    ]
    statement = settle("vpp", "SPOT", day.DAY, lines, day.RULES)
    result = allocate(statement, lines, ms, "shapley", day.RULES)
    assert result.shapley is not None and result.shapley.method == "monte_carlo"
    assert result.shapley.converged and result.shapley.rel_error <= 0.01
    assert sum(m.amount_yuan for m in result.members) == statement.totals.total_yuan
    assert all(m.half_width_yuan is not None for m in result.members)
    assert "at 95%" in result.members[0].explanation
