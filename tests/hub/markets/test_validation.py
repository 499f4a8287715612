"""Trading rules checks, bid pre-validation naming the rule, presets and the market calendar."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from hub.markets import (
    PRESETS,
    BidSubmission,
    MarketBid,
    StorageEnvelope,
    TradingRules,
    bid_problems,
    bid_rule_problems,
    gate_closure_at,
    rule_problems,
    slot_at,
    slot_start,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 12, 3)
BEFORE = dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)


def submission(*bids: MarketBid, **kw: object) -> BidSubmission:
    fields: dict[str, object] = {
        "vpp_id": "vpp-1",
        "market_type": "SPOT",
        "trading_date": DAY,
        "bids": list(bids),
        "idempotency_key": "k1",
    }
    fields.update(kw)
    return BidSubmission(**fields)  # type: ignore[arg-type]


def sell(
    slot: int = 0, kw: float = 200.0, price: float | None = 300.0, **extra: object
) -> MarketBid:
    return MarketBid(slot=slot, side="sell", quantity_kw=kw, price_yuan_mwh=price, **extra)  # type: ignore[arg-type]


def rules_of(problems: list[tuple[str, str]]) -> set[str]:
    return {msg.rsplit("(rule ", 1)[1].rstrip(")") for _, msg in problems}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_consistent(name: str) -> None:
    assert rule_problems(PRESETS[name]) == []


def test_shandong_takes_negative_offers_and_shanxi_does_not() -> None:
    bid = submission(sell(price=-50.0))
    assert bid_problems(PRESETS["shandong"], bid, BEFORE) == []
    assert rules_of(bid_problems(PRESETS["shanxi"], bid, BEFORE)) == {"offer_floor"}
    # Shandong has cleared -85: its clearing range holds it, its offer range is tighter.
    sd = PRESETS["shandong"]
    assert sd.clearing_floor_yuan_mwh <= -85 < 1047.51 <= sd.clearing_cap_yuan_mwh
    sx = PRESETS["shanxi"]
    assert (sx.offer_floor_yuan_mwh, sx.offer_cap_yuan_mwh) == (0.0, 1500.0)


def test_default_rules_have_no_problems() -> None:
    assert rule_problems(TradingRules()) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"offer_floor_yuan_mwh": 1500.0}, "offer_floor_yuan_mwh"),
        (
            {"clearing_floor_yuan_mwh": 2000.0, "clearing_cap_yuan_mwh": 100.0},
            "clearing_floor_yuan_mwh",
        ),
        ({"clearing_floor_yuan_mwh": 10.0}, "clearing_floor_yuan_mwh"),
        ({"clearing_cap_yuan_mwh": 1000.0}, "clearing_cap_yuan_mwh"),
        ({"slot_minutes": 30}, "slots_per_day"),
        ({"timezone": "Asia/Atlantis"}, "timezone"),
        ({"timezone": "../etc"}, "timezone"),
        ({"min_bid_kw": 150.0, "bid_step_kw": 100.0}, "min_bid_kw"),
        ({"gate_closure": dt.time(10, 0, tzinfo=SHANGHAI)}, "gate_closure"),
        ({"offer_cap_yuan_mwh": float("nan")}, "offer_cap_yuan_mwh"),
    ],
)
def test_rule_problems_name_the_field(changes: dict[str, object], path: str) -> None:
    rules = msgspec.structs.replace(TradingRules(), **changes)
    problems = rule_problems(rules)
    assert path in {p for p, _ in problems}, problems


def test_hourly_slots_make_a_day_too() -> None:
    rules = TradingRules(slot_minutes=60, slots_per_day=24)
    assert rule_problems(rules) == []


def test_rules_decode_from_json_then_check() -> None:
    rules = msgspec.json.decode(
        b'{"offer_floor_yuan_mwh": -80, "offer_cap_yuan_mwh": 1300,'
        b' "clearing_floor_yuan_mwh": -100,'
        b' "gate_closure": "09:30:00", "min_bid_kw": 100, "bid_step_kw": 50}',
        type=TradingRules,
    )
    assert rule_problems(rules) == []
    assert gate_closure_at(rules, DAY).hour == 9


def test_gate_closure_is_d_minus_one_local_time() -> None:
    rules = PRESETS["shandong"]
    closure = gate_closure_at(rules, DAY)
    assert closure.tzinfo is not None
    assert closure == dt.datetime(2026, 12, 2, 9, 30, tzinfo=SHANGHAI)
    assert closure.astimezone(dt.UTC) == dt.datetime(2026, 12, 2, 1, 30, tzinfo=dt.UTC)


def test_slot_start_counts_from_local_midnight() -> None:
    rules = TradingRules()
    assert slot_start(rules, DAY, 0) == dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)
    assert slot_start(rules, DAY, 95) == dt.datetime(2026, 12, 3, 15, 45, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="slot 96"):
        slot_start(rules, DAY, 96)
    assert slot_at(rules, slot_start(rules, DAY, 37) + dt.timedelta(minutes=14)) == (DAY, 37)
    assert slot_at(rules, dt.datetime(2026, 12, 2, 15, 59, tzinfo=dt.UTC)) == (
        DAY - dt.timedelta(days=1),
        95,
    )


def test_a_bid_at_gate_closure_is_late() -> None:
    rules = PRESETS["shanxi"]
    closure = gate_closure_at(rules, DAY)
    ok = submission(sell())
    assert bid_problems(rules, ok, closure - dt.timedelta(seconds=1)) == []
    late = bid_rule_problems(rules, ok, closure)
    assert [(p.path, p.rule) for p in late] == [("trading_date", "gate_closure")]
    assert "late bid" in late[0].message
    with pytest.raises(ValueError, match="aware"):
        bid_problems(rules, ok, closure.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("bid", "path", "rule"),
    [
        (sell(slot=96), "bids[0].slot", "slot_range"),
        (sell(price=1600.0), "bids[0].price_yuan_mwh", "offer_cap"),
        (sell(price=-1.0), "bids[0].price_yuan_mwh", "offer_floor"),
        (sell(price=None), "bids[0].price_yuan_mwh", "price_required"),
        (sell(kw=50.0), "bids[0].quantity_kw", "min_bid"),
        (sell(kw=250.0), "bids[0].quantity_kw", "bid_step"),
        (sell(product="regulation"), "bids[0].product", "product"),
        (sell(kw=float("nan")), "bids[0].quantity_kw", "quantity"),
    ],
)
def test_bid_problems_name_field_and_rule(bid: MarketBid, path: str, rule: str) -> None:
    rules = PRESETS["shanxi"]
    if rule == "min_bid":
        rules = msgspec.structs.replace(rules, bid_step_kw=0.0)
    problems = bid_rule_problems(rules, submission(bid), BEFORE)
    assert [(p.path, p.rule) for p in problems] == [(path, rule)]


def test_quantity_only_market_refuses_a_price() -> None:
    rules = PRESETS["quantity_only"]
    assert bid_problems(rules, submission(sell(price=None)), BEFORE) == []
    problems = bid_problems(rules, submission(sell(price=300.0)), BEFORE)
    assert rules_of(problems) == {"quantity_only"}
    assert problems[0][0] == "bids[0].price_yuan_mwh"


def test_duplicate_slot_side_product_is_named_with_the_first_one() -> None:
    rules = PRESETS["shanxi"]
    both_sides = submission(
        sell(3), MarketBid(slot=3, side="buy", quantity_kw=100, price_yuan_mwh=100)
    )
    assert bid_problems(rules, both_sides, BEFORE) == []
    problems = bid_problems(rules, submission(sell(3), sell(4), sell(3, price=500.0)), BEFORE)
    assert problems[0][0] == "bids[2]"
    assert "bids[0]" in problems[0][1]
    assert rules_of(problems) == {"duplicate_bid"}


def test_ancillary_bids_need_a_product_and_may_repeat_a_slot_per_product() -> None:
    rules = PRESETS["shandong"]
    ok = submission(
        sell(5, product="regulation"), sell(5, product="reserve"), market_type="ANCILLARY"
    )
    assert bid_problems(rules, ok, BEFORE) == []
    missing = bid_problems(rules, submission(sell(5), market_type="ANCILLARY"), BEFORE)
    assert rules_of(missing) == {"product"}


def test_empty_submission_and_bad_storage_are_refused() -> None:
    rules = PRESETS["shanxi"]
    assert rules_of(bid_problems(rules, submission(), BEFORE)) == {"no_bids"}
    storage = StorageEnvelope(energy_kwh=1000, soc_start_kwh=1200)
    problems = bid_problems(rules, submission(sell(), storage=storage), BEFORE)
    assert [p for p, _ in problems] == ["storage.soc_start_kwh"]
    inverted = StorageEnvelope(energy_kwh=1000, soc_start_kwh=100, soc_min_kwh=500, soc_max_kwh=400)
    assert [p for p, _ in bid_problems(rules, submission(sell(), storage=inverted), BEFORE)] == [
        "storage.soc_max_kwh"
    ]


def test_every_problem_is_reported_not_only_the_first() -> None:
    rules = PRESETS["shanxi"]
    bad = submission(sell(slot=100, kw=30.0, price=2000.0))
    assert rules_of(bid_problems(rules, bad, BEFORE)) == {
        "slot_range",
        "min_bid",
        "bid_step",
        "offer_cap",
    }
