"""Rule strategies: validation with paths, evaluation order, conflicts, no look-ahead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.strategy import (
    ConfigError,
    ContextFeed,
    Forecasts,
    GateClosure,
    Published,
    Rule,
    RuleEngine,
    SlotContext,
    config_schema,
    config_schema_text,
    validate_config,
)
from hub.strategy._sat import can_hold

ROOT = Path(__file__).resolve().parents[3]
DAY_MS = 86_400_000
SLOT_MS = 900_000


def rule(conditions: list[Any], actions: list[Any], **extra: Any) -> dict[str, Any]:
    return {"conditions": conditions, "actions": actions, **extra}


def cmp(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def act(kind: str, **parameters: Any) -> dict[str, Any]:
    return {"type": kind, "parameters": parameters}


NOTE = act("notify", message="hello")


def problems(config: Any, strategy_type: Any = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        validate_config(config, strategy_type)
    return [(p.path, p.message) for p in info.value.problems]


def ctx(slot: int = 0, **values: Any) -> SlotContext:
    return SlotContext(slot_start_ms=slot * SLOT_MS, known_at_ms=0, slot=slot, **values)


# ----------------------------------------------------------------------- validation


def test_a_seed_shaped_config_with_nested_groups_is_accepted() -> None:
    config = validate_config(
        json.dumps(
            {
                "rules": [
                    rule(
                        [
                            cmp("price_forecast", ">", 600),
                            {
                                "operator": "or",
                                "conditions": [
                                    cmp("time_of_day", "between", ["17:00", "21:00"]),
                                    {
                                        "operator": "not",
                                        "condition": cmp("day_type", "==", "workday"),
                                    },
                                ],
                            },
                        ],
                        [act("bid", quantity_kw="available", price_yuan_mwh=550), NOTE],
                        name="evening peak",
                        priority=3,
                    )
                ],
                "optimiser": {"risk_weight": 0.5},
            }
        ),
        "RULE_BASED",
    )
    assert config.rules[0].name == "evening peak"
    assert config.optimiser is not None and config.optimiser.risk_weight == 0.5


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {"rules": [rule([cmp("price", "in", [1, 2])], [NOTE])]},
            ("rules[0].conditions[0].operator", "operator 'in' does not apply to field 'price'"),
            id="in-on-price",
        ),
        pytest.param(
            {"rules": [rule([cmp("soc", "between", [20])], [NOTE])]},
            ("rules[0].conditions[0].value", "between needs two bounds"),
            id="between-one-bound",
        ),
        pytest.param(
            {"rules": [rule([{"operator": "and", "conditions": []}], [NOTE])]},
            ("rules[0].conditions[0].conditions", "empty group"),
            id="empty-group",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)], [])]},
            ("rules[0].actions", "empty"),
            id="no-actions",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)], [NOTE], colour="red")]},
            ("rules[0].colour", "unknown field"),
            id="unknown-field-in-rule",
        ),
        pytest.param(
            {"rules": [rule([{**cmp("price", ">", 1), "unit": "MWh"}], [NOTE])]},
            ("rules[0].conditions[0].unit", "unknown field"),
            id="unknown-field-in-condition",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)], [act("charge", power_kw="lots")])]},
            ("rules[0].actions[0].parameters.power_kw", "Expected `float`"),
            id="wrong-type",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", "high")], [NOTE])]},
            ("rules[0].conditions[0].value", "takes a number"),
            id="string-for-a-number",
        ),
        pytest.param(
            {"rules": [rule([cmp("time_of_day", ">", "25:00")], [NOTE])]},
            ("rules[0].conditions[0].value", "HH:MM"),
            id="bad-time",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", "~", 3)], [NOTE])]},
            ("rules[0].conditions[0].operator", "unknown operator"),
            id="unknown-operator",
        ),
        pytest.param(
            {"rules": [rule([cmp("weather", ">", 3)], [NOTE])]},
            ("rules[0].conditions[0].field", "unknown field 'weather'"),
            id="unknown-field-name",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", "between", [300, 100])], [NOTE])]},
            ("rules[0].conditions[0].value", "above high bound"),
            id="bounds-reversed",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 500), cmp("price", "<", 100)], [NOTE])]},
            ("rules[0].actions", "unreachable"),
            id="contradiction",
        ),
        pytest.param(
            {"rules": [rule([{"operator": "not", "condition": cmp("soc", ">=", 0)}], [NOTE])]},
            ("rules[0].actions", "unreachable"),
            id="soc-never-below-zero",
        ),
        pytest.param(
            {
                "rules": [
                    rule(
                        [cmp("time_of_day", "between", ["08:00", "12:00"])],
                        [act("bid", quantity_kw=100, slots=[60, 61])],
                    )
                ]
            },
            ("rules[0].actions[0].parameters.slots", "never hold in these slots"),
            id="bid-slots-outside-window",
        ),
        pytest.param(
            {
                "rules": [
                    rule(
                        [cmp("price", ">", 1)],
                        [act("charge", power_kw=5), act("discharge", power_kw=5)],
                    )
                ]
            },
            ("rules[0].actions[1]", "already sets the battery"),
            id="two-battery-actions",
        ),
        pytest.param(
            {
                "rules": [
                    rule([cmp("price", ">", 1)], [act("charge", power_kw=5)]),
                    rule([cmp("price", ">", 1)], [act("discharge", power_kw=5)], priority=9),
                ]
            },
            ("rules[0].actions[0]", "rules[1] has the same conditions, ranks higher"),
            id="shadowed-by-a-higher-priority-rule",
        ),
        pytest.param(b"{not json", ("", "not JSON"), id="not-json"),
        pytest.param({"rules": {}}, ("rules", "expected an array"), id="rules-not-a-list"),
    ],
)
def test_bad_configs_are_refused_with_the_path_of_the_error(
    config: Any, expected: tuple[str, str]
) -> None:
    found = problems(config)
    path, fragment = expected
    assert any(p == path and fragment in m for p, m in found), found


def test_every_problem_is_reported_not_only_the_first() -> None:
    found = problems(
        {
            "rules": [
                rule([cmp("price", "in", [1]), cmp("soc", ">", "x")], [NOTE]),
                rule([{"operator": "or", "conditions": []}], [act("charge", power_kw=-1)]),
            ],
            "extra": 1,
        }
    )
    assert [p for p, _ in found] == [
        "extra",
        "rules[0].conditions[0].operator",
        "rules[0].conditions[1].value",
        "rules[1].conditions[0].conditions",
        "rules[1].actions[0].parameters.power_kw",
    ]


def test_the_strategy_type_decides_whether_rules_are_needed() -> None:
    assert problems({}, "RULE_BASED") == [
        ("rules", "a RULE_BASED strategy needs at least one rule")
    ]
    one = {"rules": [rule([cmp("price", ">", 1)], [NOTE])]}
    assert problems(one, "AI_DRIVEN")[0][0] == "rules"
    assert validate_config(one, "HYBRID").rules
    assert validate_config(
        {"model_config": {"model_type": "lgbm", "model_version": "1"}}, "AI_DRIVEN"
    )


def test_the_committed_json_schema_is_current() -> None:
    committed = (ROOT / "docs" / "strategy-rules.schema.json").read_text(encoding="utf-8")
    assert committed == config_schema_text(), "regenerate docs/strategy-rules.schema.json"


def docs_example() -> Any:
    text = (ROOT / "docs" / "strategy.md").read_text(encoding="utf-8")
    block = text.split("## The config", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    return json.loads(block)


def test_the_documented_example_passes_the_schema_and_the_validator() -> None:
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(config_schema())
    example = docs_example()
    assert validator.is_valid(example)
    assert validate_config(example, "HYBRID").rules[0].name == "evening peak"
    example["rules"][0]["conditions"][0]["operator"] = "in"
    assert not validator.is_valid(example)  # the console editor sees the misfit too


def test_the_schema_states_which_fields_fit_each_operator() -> None:
    defs = config_schema()["$defs"]
    assert set(defs["In"]["properties"]["field"]["enum"]) == {"day_type", "slot"}
    assert "price" in defs["CrossesAbove"]["properties"]["field"]["enum"]
    assert defs["Between"]["properties"]["value"]["minItems"] == 2


# ----------------------------------------------------------------------- evaluation


def engine(*rules: dict[str, Any]) -> RuleEngine:
    return RuleEngine(validate_config({"rules": list(rules)}).rules)


def test_higher_priority_wins_a_channel_and_the_loser_is_reported() -> None:
    e = engine(
        rule([cmp("price", ">", 100)], [act("charge", power_kw=50), NOTE]),
        rule([cmp("soc", "<", 90)], [act("discharge", power_kw=80)], priority=1),
    )
    decision, _ = e.step(e.initial_state(), ctx(price_yuan_mwh=200, soc_pct=50))
    assert decision.battery_kw == 80
    assert decision.fired == (1, 0)
    assert decision.set_by == {"battery": 1}
    assert [(s.rule, s.action) for s in decision.suppressed] == [(0, 0)]
    assert [n.message for n in decision.notifications] == ["hello"]


def test_equal_priorities_keep_list_order() -> None:
    e = engine(
        rule([cmp("price", ">", 100)], [act("charge", power_kw=50)]),
        rule([cmp("soc", "<", 90)], [act("discharge", power_kw=80)]),
    )
    decision, _ = e.step(e.initial_state(), ctx(price_yuan_mwh=200, soc_pct=50))
    assert decision.battery_kw == -50


def test_an_unknown_value_never_fires_a_rule_even_under_not() -> None:
    e = engine(rule([{"operator": "not", "condition": cmp("price", ">", 100)}], [NOTE]))
    assert e.step(e.initial_state(), ctx())[0].fired == ()
    assert e.step(e.initial_state(), ctx(price_yuan_mwh=50))[0].fired == (0,)
    either = engine(
        rule(
            [{"operator": "or", "conditions": [cmp("price", ">", 100), cmp("soc", "<", 10)]}],
            [NOTE],
        )
    )
    assert either.step(either.initial_state(), ctx(soc_pct=5))[0].fired == (0,)


def test_crosses_uses_the_previous_known_value_from_the_state() -> None:
    e = engine(rule([cmp("price", "crosses_above", 300)], [act("discharge", power_kw=10)]))
    state = e.initial_state()
    fired = []
    for price in [100, None, 400, 500, 200, 301]:
        decision, new_state = e.step(state, ctx(price_yuan_mwh=price))
        assert new_state is not state or not e._track  # a new state, the old one untouched
        state = new_state
        fired.append(decision.battery_kw is not None)
    # 100 -> (unknown keeps 100) -> 400 crosses; 500 does not; 200 -> 301 crosses again.
    assert fired == [False, False, True, False, False, True]


def test_a_time_window_wraps_past_midnight_and_is_half_open() -> None:
    e = engine(rule([cmp("time_of_day", "between", ["22:00", "06:00"])], [NOTE]))
    fired = [s for s in range(96) if e.step(e.initial_state(), ctx(s))[0].fired]
    assert fired == [*range(24), *range(88, 96)]


def test_actions_respect_capacity_comfort_band_and_bid_slots() -> None:
    e = engine(
        rule(
            [cmp("load", ">=", 0)],
            [
                act("discharge", power_kw=500),
                act("offset_hvac", offset_c=3),
                act("bid", side="buy", quantity_kw="available", slots=[1]),
                act("curtail_pv", max_kw=20),
                act("shift_ev", max_kw=0),
            ],
        )
    )
    full = ctx(
        1,
        load_kw=10,
        available_up_kw=120,
        available_down_kw=70,
        hvac_setpoint_c=24,
        comfort_min_c=22,
        comfort_max_c=26,
    )
    d, _ = e.step(e.initial_state(), full)
    assert (d.battery_kw, d.hvac_setpoint_c, d.pv_max_kw, d.ev_max_kw) == (120, 26, 20, 0)
    assert d.bid is not None and (d.bid.side, d.bid.quantity_kw) == ("buy", 70)
    other, _ = e.step(e.initial_state(), msgspec.structs.replace(full, slot=2))
    assert other.bid is None
    assert any("parameters.slots" in s.reason for s in other.suppressed)


# ----------------------------------------------------------------------- look-ahead


def test_a_price_spike_is_invisible_to_slots_whose_gate_closed_before_it() -> None:
    gate = GateClosure(lead_days=1, minute=600, utc_offset_min=0)
    day1 = 10 * DAY_MS
    # Realised prices of day 1, each published when its slot ends; slot 39 (09:45-10:00) spikes.
    starts = [day1 + s * SLOT_MS for s in range(96)]
    realised = [300.0] * 96
    realised[39] = 5000.0
    prices = Published([t + SLOT_MS for t in starts], realised)
    forecasts = Forecasts([day1 - DAY_MS] * 96, starts, [300.0] * 96)
    feed = ContextFeed(gate, price=prices, price_forecast=forecasts)
    e = engine(rule([cmp("price", ">", 1000)], [act("discharge", power_kw=100)]))
    # Every slot of day 1 is traded on day 0 at 10:00: nothing of day 1 is known then.
    day1_contexts = [feed.context(t) for t in starts]
    assert all(c.price_yuan_mwh is None for c in day1_contexts)
    assert all(d.battery_kw is None for d in e.run(day1_contexts)[0])
    # Day 2 is traded on day 1 at 10:00 (slot 39 ends then): the spike is the latest price.
    day2 = feed.context(day1 + DAY_MS)
    assert day2.known_at_ms == day1 + 600 * 60_000
    assert day2.price_yuan_mwh == 5000.0
    assert e.step(e.initial_state(), day2)[0].battery_kw == 100


def test_an_intraday_gate_sees_prices_up_to_its_own_closure_only() -> None:
    gate = GateClosure(before_slot_min=30, utc_offset_min=0)
    day = 10 * DAY_MS
    starts = [day + s * SLOT_MS for s in range(96)]
    feed = ContextFeed(
        gate, price=Published([t + SLOT_MS for t in starts], [float(s) for s in range(96)])
    )
    context = feed.context(starts[50])
    assert context.known_at_ms == starts[50] - 30 * 60_000
    # Slots up to 47 have ended (and been published) 30 minutes before slot 50 starts.
    assert context.price_yuan_mwh == 47.0


def test_the_feed_names_day_types_and_slots() -> None:
    gate = GateClosure(utc_offset_min=480)
    feed = ContextFeed(gate, holidays=frozenset({gate.day_start_ms(20_454 * DAY_MS)}))
    saturday = 20_457 * DAY_MS  # 2026-01-03 is a Saturday
    local_midnight = saturday - 480 * 60_000
    assert feed.context(local_midnight + 5 * SLOT_MS).slot == 5
    assert feed.context(local_midnight).day_type == "weekend"
    assert feed.context(local_midnight - 2 * DAY_MS).day_type == "workday"
    assert feed.context(20_454 * DAY_MS).day_type == "holiday"


# -------------------------------------------------------------------- properties

FIELDS = ["price", "soc", "slot", "time_of_day"]
OPS = [">", ">=", "<", "<=", "==", "!=", "between"]


@st.composite
def comparisons(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(OPS))
    number: st.SearchStrategy[Any] = st.integers(-10, 110)
    if field == "time_of_day":
        number = st.integers(0, 95).map(lambda s: f"{s * 15 // 60:02d}:{s * 15 % 60:02d}")
    if op == "between":
        low, high = sorted([draw(number), draw(number)])
        if low == high and field == "time_of_day":
            high = "24:00"
        return cmp(field, op, [low, high])
    return cmp(field, op, draw(number))


conditions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.builds(
            lambda cs: {"operator": "and", "conditions": cs},
            st.lists(inner, min_size=1, max_size=3),
        ),
        st.builds(
            lambda cs: {"operator": "or", "conditions": cs}, st.lists(inner, min_size=1, max_size=3)
        ),
        st.builds(lambda c: {"operator": "not", "condition": c}, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(conditions, min_size=1, max_size=3),
    st.lists(
        st.tuples(st.integers(0, 95), st.integers(-20, 120), st.integers(0, 100)),
        min_size=1,
        max_size=30,
    ),
)
def test_a_rule_called_unreachable_never_fires(
    raw: list[dict[str, Any]], points: list[tuple[int, int, int]]
) -> None:
    parsed = msgspec.convert(rule(raw, [NOTE]), Rule)
    e = RuleEngine([parsed])
    fires = any(
        e.step(e.initial_state(), ctx(slot, price_yuan_mwh=price, soc_pct=soc))[0].fired
        for slot, price, soc in points
    )
    if fires:
        assert can_hold(parsed.conditions) is not False


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"rules": [[]]}, ("rules[0]", "expected an object"), id="rule-not-object"),
        pytest.param(
            {"rules": [rule(["price > 3"], [NOTE])]},
            ("rules[0].conditions[0]", "expected an object"),
            id="condition-a-string",
        ),
        pytest.param(
            {"rules": [{"actions": [NOTE]}]},
            ("rules[0].conditions", "required field missing"),
            id="no-conditions",
        ),
        pytest.param(
            {"rules": [rule([{"field": "price", "value": 3}], [NOTE])]},
            ("rules[0].conditions[0].operator", "required field missing"),
            id="no-operator",
        ),
        pytest.param(
            {"rules": [rule([{"operator": "not"}], [NOTE])]},
            ("rules[0].conditions[0].condition", "required field missing"),
            id="not-without-condition",
        ),
        pytest.param(
            {"rules": [rule([{"operator": "or", "conditions": {}}], [NOTE])]},
            ("rules[0].conditions[0].conditions", "expected an array"),
            id="group-not-a-list",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)] * 51, [NOTE])]},
            ("rules[0].conditions", "at most 50 entries"),
            id="too-many-conditions",
        ),
        pytest.param(
            {
                "rules": [
                    rule(
                        [
                            {
                                "operator": "not",
                                "condition": {
                                    "operator": "not",
                                    "condition": {
                                        "operator": "not",
                                        "condition": {
                                            "operator": "not",
                                            "condition": {
                                                "operator": "not",
                                                "condition": {
                                                    "operator": "not",
                                                    "condition": {
                                                        "operator": "not",
                                                        "condition": {
                                                            "operator": "not",
                                                            "condition": cmp("price", ">", 1),
                                                        },
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        ],
                        [NOTE],
                    )
                ]
            },
            ("rules[0]" + ".conditions[0]" + ".condition" * 8, "nested deeper"),
            id="too-deep",
        ),
        pytest.param(
            {"rules": [rule([cmp("day_type", "in", ["workday", "funday"])], [NOTE])]},
            ("rules[0].conditions[0].value[1]", "day_type is one of"),
            id="bad-day-type",
        ),
        pytest.param(
            {"rules": [rule([cmp("slot", "in", [3, 3.5])], [NOTE])]},
            ("rules[0].conditions[0].value[1]", "slot is an integer"),
            id="fractional-slot-in",
        ),
        pytest.param(
            {"rules": [rule([cmp("slot", "==", 96)], [NOTE])]},
            ("rules[0].conditions[0].value", "slot is an integer 0..95"),
            id="slot-out-of-day",
        ),
        pytest.param(
            {"rules": [rule([cmp("time_of_day", "between", ["08:00", "08:00"])], [NOTE])]},
            ("rules[0].conditions[0].value", "empty window"),
            id="empty-time-window",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", "between", [1, "x"])], [NOTE])]},
            ("rules[0].conditions[0].value[1]", "takes a number"),
            id="between-string-bound",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", "between", 5)], [NOTE])]},
            ("rules[0].conditions[0].value", "between needs two bounds [low, high], got number"),
            id="between-scalar",
        ),
        pytest.param(
            {"rules": [rule([cmp("time_of_day", "in", ["08:00"])], [NOTE])]},
            ("rules[0].conditions[0].operator", "does not apply to field 'time_of_day'"),
            id="in-on-time",
        ),
        pytest.param(
            {"rules": [rule([cmp("day_type", "crosses_above", 1)], [NOTE])]},
            ("rules[0].conditions[0].operator", "does not apply to field 'day_type'"),
            id="crosses-on-day-type",
        ),
        pytest.param(
            {"model_config": {"model_type": "lgbm"}},
            ("model_config", "missing required field `model_version`"),
            id="model-config-incomplete",
        ),
        pytest.param(
            {"optimiser": {"risk_weight": -1}},
            ("optimiser.risk_weight", ">= 0"),
            id="negative-risk-weight",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)], [NOTE], priority="high")]},
            ("rules[0].priority", "Expected `int`"),
            id="priority-not-int",
        ),
        pytest.param(
            {"rules": [rule([cmp("price", ">", 1)], [{"type": "sing", "parameters": {}}])]},
            ("rules[0].actions[0].type", "Invalid value 'sing'"),
            id="unknown-action",
        ),
    ],
)
def test_more_bad_configs_name_their_path(config: Any, expected: tuple[str, str]) -> None:
    found = problems(config)
    path, fragment = expected
    assert any(p == path and fragment in m for p, m in found), found


def test_a_disabled_rule_is_not_judged_unreachable_and_never_runs() -> None:
    config = validate_config(
        {
            "rules": [
                rule([cmp("price", ">", 5), cmp("price", "<", 1)], [NOTE], enabled=False),
                rule([cmp("price", ">", 1)], [act("charge", power_kw=3)], name="only"),
            ]
        }
    )
    e = RuleEngine(config.rules)
    assert e.step(e.initial_state(), ctx(price_yuan_mwh=10))[0].fired == (1,)


def test_a_condition_too_large_to_check_is_accepted() -> None:
    wide = {"operator": "or", "conditions": [cmp("price", ">", i) for i in range(10)]}
    assert validate_config({"rules": [rule([wide, wide, wide], [NOTE])]}).rules


def test_crosses_below_and_unknowns_inside_and() -> None:
    e = engine(
        rule(
            [cmp("soc", "crosses_below", 20), cmp("load", ">", 0)],
            [act("charge", power_kw=10), act("bid", quantity_kw="available")],
        )
    )
    state = e.initial_state()
    d, state = e.step(state, ctx(soc_pct=30, load_kw=5))
    assert d.fired == ()
    d, state = e.step(state, ctx(soc_pct=15))  # load unknown: the AND is unknown
    assert d.fired == ()
    d, state = e.step(state, ctx(soc_pct=25, load_kw=5))
    d, state = e.step(state, ctx(soc_pct=10, load_kw=5, available_down_kw=0))
    assert d.fired == (0,)
    assert d.battery_kw is None and d.bid is None
    assert [s.reason for s in d.suppressed] == [
        "no available down capacity",
        "no available up capacity",
    ]


def test_hvac_offset_without_a_setpoint_is_reported_not_applied() -> None:
    e = engine(rule([cmp("slot", "in", [4])], [act("offset_hvac", offset_c=-2)]))
    d, _ = e.step(e.initial_state(), ctx(4))
    assert d.hvac_setpoint_c is None
    assert d.suppressed[0].reason == "no HVAC setpoint known"
    d, _ = e.step(e.initial_state(), ctx(4, hvac_setpoint_c=25))
    assert d.hvac_setpoint_c == 23


def test_the_state_survives_storage_so_a_live_loop_matches_a_backtest() -> None:
    """A live loop stores the state after each slot (here: JSON, as in the database) and
    reloads it for the next; the decisions equal an uninterrupted run over the same slots."""
    e = engine(
        rule([cmp("price", "crosses_above", 400)], [act("discharge", power_kw=50)], priority=2),
        rule([cmp("price", "crosses_below", 100)], [act("charge", power_kw=50)]),
        rule([cmp("price_forecast", "between", [200, 300])], [act("bid", quantity_kw=10)]),
    )
    rng = __import__("random").Random(4)
    contexts = [
        ctx(s % 96, price_yuan_mwh=rng.uniform(0, 600), price_forecast_yuan_mwh=rng.uniform(0, 600))
        for s in range(300)
    ]
    backtest, _ = e.run(contexts)
    stored = msgspec.json.encode(e.initial_state())
    live = []
    for c in contexts:
        state = msgspec.json.decode(stored, type=type(e.initial_state()))
        decision, state = e.step(state, c)
        stored = msgspec.json.encode(state)
        live.append(decision)
    assert live == backtest
    assert any(d.battery_kw for d in live)


def test_published_series_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Published([1, 2], [1.0])
    with pytest.raises(ValueError, match="differ in length"):
        Forecasts([1], [1, 2], [1.0])
    feed = ContextFeed(GateClosure(), price_forecast=Forecasts([0], [10 * DAY_MS], [5.0]))
    assert feed.context(11 * DAY_MS).price_forecast_yuan_mwh is None
