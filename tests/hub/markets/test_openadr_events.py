"""OpenADR events -> decisions and plan targets (pure): signal conventions, opting out by
capacity, status and program, and malformed events naming their field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hub.markets._openadr_events import MalformedEventError, decide, parse_event, storage_energy
from hub.vpps import AggregatedParams, MemberState, aggregate

NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
PARAMS = AggregatedParams(
    total_capacity=300.0,
    available_up_capacity=120.0,
    available_down_capacity=80.0,
    response_time=1.0,
    efficiency=0.95,
    current_power=-20.0,
)


def event(
    intervals: list[tuple[int, int, Any]],
    *,
    name: str = "LOAD_DISPATCH",
    kind: str = "delta",
    **descriptor: Any,
) -> dict[str, Any]:
    """An event as openleadr hands it over; intervals as (minutes from NOW, s, payload)."""
    return {
        "event_descriptor": {
            "event_id": "e1",
            "modification_number": 0,
            "market_context": "oadr://p",
            "event_status": "far",
            **descriptor,
        },
        "event_signals": [
            {
                "signal_name": name,
                "signal_type": kind,
                "intervals": [
                    {
                        "dtstart": NOW + dt.timedelta(minutes=m),
                        "duration": dt.timedelta(seconds=s),
                        "signal_payload": v,
                        "uid": i,
                    }
                    for i, (m, s, v) in enumerate(intervals)
                ],
            }
        ],
    }


def targets(raw: dict[str, Any], **kw: Any) -> list[tuple[dt.datetime, int, float]]:
    decision = decide(parse_event(raw), PARAMS, vpp_status="ACTIVE", now=NOW, **kw)
    assert decision.opt == "optIn", decision.reason
    return [(t.start, t.duration_s, t.target_kw) for t in decision.targets if t.start]


def test_delta_setpoint_and_simple_levels_become_generator_targets() -> None:
    start = NOW + dt.timedelta(minutes=10)
    # delta: 50 kW less load on top of the -20 kW the VPP runs at now
    assert targets(event([(10, 900, 50.0)])) == [(start, 900, 30.0)]
    # setpoint: the VPP's net load is to be 30 kW, i.e. -30 kW of output
    assert targets(event([(10, 900, 30.0)], kind="setpoint")) == [(start, 900, -30.0)]
    # SIMPLE: level 0 asks for nothing; 1 a third of the 300 kW total capacity
    simple = event([(10, 900, 0), (25, 900, 1)], name="SIMPLE", kind="level")
    assert targets(simple) == [(NOW + dt.timedelta(minutes=25), 900, 80.0)]
    # level 2 (two thirds, 200 kW) is more than the 120 kW available up ...
    high = event([(10, 900, 0), (25, 900, 1), (40, 600, 2)], name="SIMPLE", kind="level")
    with pytest.raises(AssertionError, match="available up"):
        targets(high)
    # ... unless the program's levels are configured smaller
    assert targets(high, levels_kw=[30.0, 60.0, 90.0]) == [
        (NOW + dt.timedelta(minutes=25), 900, 10.0),
        (NOW + dt.timedelta(minutes=40), 600, 40.0),
    ]


def test_intervals_already_over_are_dropped() -> None:
    raw = event([(-30, 900, 10.0), (-10, 900, 20.0)])
    assert targets(raw) == [(NOW - dt.timedelta(minutes=10), 900, 0.0)]


@pytest.mark.parametrize(
    ("raw", "status", "context", "reason"),
    [
        (event([(0, 900, 121.0)]), "ACTIVE", None, "121.000 kW more output"),
        (event([(0, 900, -81.0)]), "ACTIVE", None, "81.000 kW less output"),
        (event([(0, 900, -110.0)], kind="setpoint"), "ACTIVE", None, "130.000 kW more"),
        (event([(0, 900, 1.0)]), "INACTIVE", None, "the VPP is INACTIVE"),
        (event([(0, 900, 1.0)]), None, None, "does not exist"),
        (event([(0, 900, 1.0)]), "ACTIVE", "oadr://other", "not this VEN's program"),
    ],
)
def test_opts_out_with_the_reason(
    raw: dict[str, Any], status: str | None, context: str | None, reason: str
) -> None:
    decision = decide(parse_event(raw), PARAMS, vpp_status=status, now=NOW, market_context=context)
    assert decision.opt == "optOut"
    assert reason in decision.reason
    assert decision.targets == ()


def test_exactly_the_available_capacity_is_served() -> None:
    assert targets(event([(0, 900, 120.0)])) == [(NOW, 900, 100.0)]
    assert targets(event([(0, 900, -80.0)])) == [(NOW, 900, -100.0)]


def test_test_and_cancelled_events_are_acknowledged_without_dispatch() -> None:
    for raw in (
        event([(0, 900, 10.0)], test_event=True),
        event([(0, 900, 10.0)], event_status="cancelled"),
    ):
        decision = decide(parse_event(raw), PARAMS, vpp_status="ACTIVE", now=NOW)
        assert (decision.opt, decision.targets) == ("optIn", ())


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"event_signals": []}, "event_descriptor"),
        (event([(0, 900, 1.0)], modification_number="x"), "modification_number"),
        (event([(0, 900, float("nan"))]), "signal_payload"),
        (event([(0, 900, "7")]), "signal_payload"),
        (event([(0, 0, 1.0)]), "duration"),
        (event([(0, 900, 1.0)], kind="price"), "signal_type"),
        (event([(0, 900, 4)], name="SIMPLE", kind="level"), "signal_payload"),
        (event([(0, 900, 1.0), (10, 900, 1.0)]), "intervals"),
        (event([(0, 900, 1.0)], name="ELECTRICITY_PRICE", kind="price"), "event_signals"),
        ("not an event", "event"),
    ],
)
def test_a_malformed_event_names_its_field(raw: Any, field: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        parse_event(raw)
    assert field in caught.value.field


def test_a_naive_start_is_utc_and_intervals_are_ordered() -> None:
    raw = event([(30, 900, 5.0), (0, 900, 5.0)])
    for interval in raw["event_signals"][0]["intervals"]:
        interval["dtstart"] = interval["dtstart"].replace(tzinfo=None)
    parsed = parse_event(raw)
    assert [i.start for i in parsed.signal.intervals] == [NOW, NOW + dt.timedelta(minutes=30)]


def battery(soc: float | None, **kw: Any) -> MemberState:
    return MemberState(
        resource_id=kw.pop("resource_id", "bess"),
        category="STORAGE",
        status="ONLINE",
        capacity_kw=100.0,
        energy_kwh=200.0,
        soc_pct=soc,
        soc_min_pct=10.0,
        soc_max_pct=90.0,
        p_kw=0.0,
        **kw,
    )


def test_batteries_must_hold_the_energy_of_the_whole_event() -> None:
    load = MemberState(
        resource_id="hvac", category="FLEXIBLE", status="ONLINE", capacity_kw=50.0, p_kw=-50.0
    )
    members = [battery(30.0), load]  # 40 kWh above the battery's minimum; 50 kW of load
    params, storage = aggregate(members), storage_energy(members)
    assert (params.available_up_capacity, storage.up_kw, storage.up_kwh) == (150.0, 100.0, 40.0)

    def answer(raw: dict[str, Any]) -> tuple[str, str]:
        d = decide(parse_event(raw), params, vpp_status="ACTIVE", now=NOW, storage=storage)
        return d.opt, d.reason

    # 100 kW for an hour: the load gives 50 kW, the battery would need 50 kWh of its 40
    assert answer(event([(0, 3600, 100.0)])) == (
        "optOut",
        "needs 50.000 kWh from the batteries, they hold 40.000 kWh above their minimum "
        "state of charge",
    )
    assert answer(event([(0, 3600, 90.0)]))[0] == "optIn"
    # only what is left of an interval that has begun counts
    assert answer(event([(-30, 3600, 130.0)]))[0] == "optIn"  # 80 kW for the last 30 min
    # charging: from 30 % to the 90 % maximum of 200 kWh is room for 120 kWh
    assert answer(event([(0, 7200, -70.0)]))[0] == "optOut"
    assert answer(event([(0, 3600, -70.0)]))[0] == "optIn"


def test_unknown_state_of_charge_is_not_checked() -> None:
    members = [battery(None), battery(50.0, resource_id="b2")]
    storage = storage_energy(members)
    assert (storage.up_kw, storage.up_kwh, storage.down_kwh) == (200.0, None, None)
    d = decide(
        parse_event(event([(0, 36000, 150.0)])),
        aggregate(members),
        vpp_status="ACTIVE",
        now=NOW,
        storage=storage,
    )
    assert d.opt == "optIn"
