"""Pure domain logic, property-tested: disaggregation, aggregation, schedules, params."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.catalogue import ParameterError, ParamSpec, resolve_parameters
from hub.dispatch import PendingTarget, build_intervals, disaggregate
from hub.dispatch._schedule import device_sums, superseded, sweep
from hub.ingest import Gap, advance, session_start
from hub.vpps import (
    MarketRequirement,
    MemberState,
    PowerRange,
    aggregate,
    detect_conflicts,
    member_range,
)

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def power_ranges(draw: st.DrawFn) -> list[PowerRange]:
    n = draw(st.integers(min_value=0, max_value=8))
    out = []
    for i in range(n):
        a, b = sorted((draw(finite), draw(finite)))
        base = draw(finite)
        out.append(
            PowerRange(
                resource_id=f"r{i}",
                lo_kw=a,
                hi_kw=b,
                baseline_kw=base,
                priority=draw(st.integers(min_value=1, max_value=3)),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(ranges=power_ranges(), target=finite)
def test_disaggregation_respects_limits_and_meets_feasible_targets(
    ranges: list[PowerRange], target: float
) -> None:
    result = disaggregate(target, ranges)
    by_id = {r.resource_id: r for r in ranges}
    assert {a.resource_id for a in result.allocations} == set(by_id)
    for a in result.allocations:
        r = by_id[a.resource_id]
        assert r.lo_kw - 1e-6 <= a.target_kw <= r.hi_kw + 1e-6
    total = sum(a.target_kw for a in result.allocations)
    lo = sum(r.lo_kw for r in ranges)
    hi = sum(r.hi_kw for r in ranges)
    if lo - 1e-6 <= target <= hi + 1e-6:
        assert abs(total - target) <= 1e-5 * max(1.0, abs(target))
        assert result.infeasible_kw == pytest.approx(0.0, abs=1e-5)
    else:
        assert abs(result.infeasible_kw) > 0
        assert result.infeasible_kw == pytest.approx(target - total, abs=1e-5)
        # everybody is pushed to the limit on the side of the request
        for a in result.allocations:
            limit = by_id[a.resource_id].hi_kw if target > hi else by_id[a.resource_id].lo_kw
            assert a.target_kw == pytest.approx(limit, abs=1e-6)


def test_disaggregation_serves_higher_priority_first() -> None:
    ranges = [
        PowerRange(resource_id="slow", lo_kw=-100, hi_kw=100, baseline_kw=0, priority=2),
        PowerRange(resource_id="fast", lo_kw=-50, hi_kw=50, baseline_kw=0, priority=1),
    ]
    result = {a.resource_id: a.target_kw for a in disaggregate(70, ranges).allocations}
    assert result == {"fast": 50, "slow": 20}
    shared = [
        PowerRange(resource_id="a", lo_kw=0, hi_kw=30, baseline_kw=0),
        PowerRange(resource_id="b", lo_kw=0, hi_kw=10, baseline_kw=0),
    ]
    split = {a.resource_id: a.target_kw for a in disaggregate(20, shared).allocations}
    assert split == {"a": 15, "b": 5}


def _battery(**kw: object) -> MemberState:
    values: dict[str, object] = {
        "resource_id": "b",
        "category": "STORAGE",
        "status": "ONLINE",
        "capacity_kw": 100.0,
    }
    values.update(kw)
    return MemberState(**values)  # type: ignore[arg-type]


def test_member_ranges_by_category() -> None:
    assert member_range(_battery(status="OFFLINE")) is None
    assert member_range(_battery(dispatchable=False)) is None
    full = member_range(_battery(soc_pct=95.0, soc_max_pct=90.0))
    assert full is not None and (full.lo_kw, full.hi_kw) == (0.0, 100.0)
    empty = member_range(_battery(soc_pct=5.0, soc_min_pct=10.0, allocation_ratio=0.5))
    assert empty is not None and (empty.lo_kw, empty.hi_kw) == (-50.0, 0.0)
    pv = member_range(_battery(category="GENERATION", p_kw=40.0))
    assert pv is not None and (pv.lo_kw, pv.hi_kw, pv.baseline_kw) == (0.0, 40.0, 40.0)
    gen = member_range(_battery(category="GENERATION", curtailable=False, min_kw=20.0))
    assert gen is not None and (gen.lo_kw, gen.hi_kw) == (20.0, 100.0)
    load = member_range(_battery(category="LOAD", p_kw=-30.0, min_kw=10.0))
    assert load is not None and (load.lo_kw, load.hi_kw, load.baseline_kw) == (-100, -10, -30)


@settings(max_examples=200, deadline=None)
@given(
    members=st.lists(
        st.builds(
            MemberState,
            resource_id=st.uuids().map(str),
            category=st.sampled_from(["GENERATION", "STORAGE", "LOAD", "FLEXIBLE"]),
            status=st.sampled_from(["ONLINE", "OFFLINE", "MAINTENANCE", "ERROR"]),
            capacity_kw=st.floats(min_value=0, max_value=1e4),
            allocation_ratio=st.floats(min_value=0, max_value=1),
            p_kw=st.none() | finite,
            soc_pct=st.none() | st.floats(min_value=0, max_value=100),
        ),
        max_size=10,
    )
)
def test_aggregation_headroom_is_never_negative_and_capacity_adds_up(
    members: list[MemberState],
) -> None:
    agg = aggregate(members)
    assert agg.available_up_capacity >= 0 and agg.available_down_capacity >= 0
    expected = sum(m.capacity_kw * m.allocation_ratio for m in members)
    assert agg.total_capacity == pytest.approx(expected, abs=1e-2)
    assert agg.member_count == len(members)
    assert agg.online_count == sum(m.status == "ONLINE" for m in members)


@st.composite
def pending(draw: st.DrawFn) -> list[PendingTarget]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        start = draw(st.integers(min_value=0, max_value=100)) * 1000
        length = draw(st.integers(min_value=1, max_value=50)) * 1000
        out.append(
            PendingTarget(
                instruction_id=f"i{i}",
                device=draw(st.sampled_from(["d1", "d2"])),
                p_target_w=float(i),
                start_ts_ms=start,
                end_ts_ms=start + length,
                created_order=i,
            )
        )
    return out


@settings(max_examples=200, deadline=None)
@given(targets=pending(), now=st.integers(min_value=0, max_value=120).map(lambda s: s * 1000))
def test_schedule_intervals_are_sorted_disjoint_and_newest_wins(
    targets: list[PendingTarget], now: int
) -> None:
    intervals = build_intervals(targets, now)
    for before, after in itertools.pairwise(intervals):
        assert before.end_ts_ms <= after.start_ts_ms
    for interval in intervals:
        assert interval.start_ts_ms >= now
        for target in interval.targets:
            covering = [
                t
                for t in targets
                if t.device == target.device
                and t.start_ts_ms <= interval.start_ts_ms
                and t.end_ts_ms >= interval.end_ts_ms
            ]
            assert (
                target.instruction_id == max(covering, key=lambda t: t.created_order).instruction_id
            )


def test_parameters_get_defaults_and_checks() -> None:
    schema = {
        "rated_kw": ParamSpec(required=True, min=0),
        "count": ParamSpec(type="integer", default=2),
        "label": ParamSpec(type="string", default="x"),
        "on": ParamSpec(type="boolean", default=True),
    }
    assert resolve_parameters(schema, {"rated_kw": 5}) == {
        "rated_kw": 5,
        "count": 2,
        "label": "x",
        "on": True,
    }
    cases: list[tuple[dict[str, float | int | bool | str], str]] = [
        ({}, "parameters.rated_kw"),
        ({"rated_kw": -1}, "parameters.rated_kw"),
        ({"rated_kw": 1, "count": 1.5}, "parameters.count"),
        ({"rated_kw": 1, "label": 3}, "parameters.label"),
        ({"rated_kw": 1, "on": "yes"}, "parameters.on"),
        ({"rated_kw": float("inf")}, "parameters.rated_kw"),
        ({"rated_kw": 1, "x": 1}, "parameters.x"),
    ]
    for given_, field in cases:
        with pytest.raises(ParameterError) as info:
            resolve_parameters(schema, given_)
        assert info.value.field == field


def test_conflicts_for_response_time_and_duration() -> None:
    members = [
        _battery(resource_id="fast", response_time_s=1.0, energy_kwh=50.0),
        _battery(resource_id="slow", response_time_s=300.0, energy_kwh=50.0),
    ]
    found = detect_conflicts(
        "v",
        members,
        ratio_totals={"fast": 1.0, "slow": 1.0},
        requirement=MarketRequirement(
            market_type="ANCILLARY", min_capacity_kw=10, min_duration_h=1.0, max_response_time_s=60
        ),
    )
    kinds = {c.kind: c for c in found}
    assert kinds["response_time_mismatch"].resource_ids == ["slow"]
    assert kinds["response_time_mismatch"].severity == "warning"
    assert kinds["below_qualification"].message.endswith("0.5 h")
    assert "over_allocation" not in kinds


def test_advance_acknowledges_the_highest_contiguous_seq() -> None:
    """Contiguity from what the database holds: the cursor and the seqs stored above it."""
    step = advance("e", 1, 0, {1, 2})
    assert (step.acked, step.ahead, step.gaps) == (2, frozenset(), ())
    step = advance("e", 1, step.acked, {4})  # a gap at 3 holds 4 back
    assert (step.acked, step.ahead) == (2, frozenset({4}))
    step = advance("e", 1, step.acked, set(step.ahead) | {3})
    assert (step.acked, step.ahead) == (4, frozenset())
    step = advance("e", 1, step.acked, {2})  # a duplicate moves nothing
    assert (step.acked, step.ahead) == (4, frozenset())
    # a seq that arrived but was not stored is not in ``ahead``: it holds later ones back
    assert advance("e", 3, 0, {2}).acked == 0


def test_a_session_met_for_the_first_time_starts_at_the_edges_stated_floor() -> None:
    # live seq 101 overtakes the backlog 1..100; the edge says it still holds 1
    start = session_start([101], floor=1)
    assert start == 1
    step = advance("e", 1, start - 1, {101})
    assert step.acked == 0 and step.ahead == frozenset({101})
    assert advance("e", 1, 0, set(range(1, 102)), floor=1).acked == 101
    # without a floor (older agents) the lowest seq seen starts the session
    assert session_start([7, 9]) == 7


def test_seqs_below_the_floor_that_never_came_are_a_gap_and_acks_move_past_them() -> None:
    gaps: list[Gap] = []
    step = advance("e", 1, 0, {1, 2, 3}, floor=1)
    assert step.acked == 3 and step.gaps == ()
    step = advance("e", 1, 3, {9}, floor=4)
    assert step.acked == 3 and step.gaps == ()
    # 4..5 were lost at the edge (its floor passed them), 6 is stored, 7..8 lost, 9 ahead
    step = advance("e", 1, 3, {6, 9, 10}, floor=9)
    gaps += step.gaps
    assert step.acked == 10
    assert [(g.first, g.last, g.count) for g in gaps] == [(4, 5, 2), (7, 8, 2)]
    # a stale (lower) floor never moves anything back
    step = advance("e", 1, 10, {11}, floor=2)
    assert step.acked == 11 and step.gaps == ()
    # a persisted cursor behind the floor: the floor closes the gap after a restart too
    step = advance("e", 3, 4, {8}, floor=8)
    assert step.acked == 8
    assert [(g.edge, g.sid, g.first, g.last) for g in step.gaps] == [("e", 3, 5, 7)]


@st.composite
def grouped_targets(draw: st.DrawFn) -> list[PendingTarget]:
    out = []
    for k in range(draw(st.integers(min_value=0, max_value=10))):
        start = draw(st.integers(min_value=-5, max_value=20))
        out.append(
            PendingTarget(
                instruction_id=f"i{k}",
                device=draw(st.sampled_from(["a", "b"])),
                p_target_w=float(draw(st.integers(min_value=-5, max_value=5))),
                start_ts_ms=start,
                end_ts_ms=start + draw(st.integers(min_value=0, max_value=15)),
                created_order=k,
                group=draw(st.sampled_from(["x", "y"])),
                priority=draw(st.integers(min_value=0, max_value=1)),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(targets=grouped_targets(), now=st.integers(min_value=0, max_value=10))
def test_device_sums_hold_each_groups_winner_at_every_instant(
    targets: list[PendingTarget], now: int
) -> None:
    """Against a millisecond-by-millisecond reference (so superseded instructions that
    are left out of the sweep change nothing)."""
    got: dict[tuple[str, int], tuple[float, list[str]]] = {}
    for s in device_sums(targets, now):
        for ms in range(s.start_ts_ms, s.end_ts_ms):
            got[(s.device, ms)] = (s.p_target_w, [p.instruction_id for p in s.parts])
    want: dict[tuple[str, int], tuple[float, list[str]]] = {}
    for ms in range(now, 40):
        for device in ("a", "b"):
            winners = []
            for group in ("x", "y"):
                covering = [
                    t
                    for t in targets
                    if t.device == device and t.group == group and t.start_ts_ms <= ms < t.end_ts_ms
                ]
                if covering:
                    winners.append(max(covering, key=lambda t: (t.priority, t.created_order)))
            if winners:
                winners.sort(key=lambda t: t.created_order)
                want[(device, ms)] = (
                    sum(t.p_target_w for t in winners),
                    [t.instruction_id for t in winners],
                )
    assert got == want


@settings(max_examples=300, deadline=None)
@given(targets=grouped_targets(), now=st.integers(min_value=0, max_value=10))
def test_one_sweep_gives_the_superseded_ids_and_the_sums_of_what_is_left(
    targets: list[PendingTarget], now: int
) -> None:
    """What a dispatch takes from one :func:`sweep` is what :func:`superseded` and
    :func:`device_sums` of the targets left after the marks give."""
    swept = sweep(targets, now)
    assert swept.superseded == superseded(targets, now)
    left = [t for t in targets if t.instruction_id not in set(swept.superseded)]
    assert swept.sums == device_sums(left, now) == device_sums(targets, now)
