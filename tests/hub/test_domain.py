"""Pure domain logic, property-tested: disaggregation, aggregation, schedules, params."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.catalogue import ParameterError, ParamSpec, resolve_parameters
from hub.dispatch import PendingTarget, build_intervals, disaggregate
from hub.ingest import AckTracker, Gap
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


def test_ack_tracker_acknowledges_the_highest_contiguous_seq() -> None:
    tracker = AckTracker()
    assert tracker.acked("e", 1) is None
    assert tracker.stored("e", 1, [1, 2]) == 2  # a session may start at 1
    assert tracker.stored("e", 1, [4]) == 2  # gap at 3
    assert tracker.stored("e", 1, [3]) == 4
    assert tracker.stored("e", 1, [2]) == 4  # duplicate
    tracker.restore("e", 2, 10)
    assert tracker.stored("e", 2, [12]) == 10 and tracker.stored("e", 2, [11]) == 12
    tracker.restore("e", 2, 5)  # only the first read of the cursor counts
    assert tracker.acked("e", 2) == 12
    # after a restart the cursor replaces what the first live seq would have started
    assert tracker.needs_restore("e", 6)
    tracker.seen("e", 6, [10])  # (the cursor could not be read at first)
    tracker.restore("e", 6, 5)
    assert not tracker.needs_restore("e", 6)
    assert tracker.stored("e", 6, [10]) == 5
    assert tracker.stored("e", 6, [6, 7, 8, 9]) == 10
    # a seq that arrived but failed to store holds later ones back
    tracker.seen("e", 3, [1])
    assert tracker.stored("e", 3, [2]) is None and tracker.acked("e", 3) is None
    assert tracker.stored("e", 3, [1]) == 2
    # a persisted ack learnt later moves the session forward and keeps what is ahead
    tracker.seen("e", 4, [1])
    assert tracker.stored("e", 4, [8]) is None
    tracker.restore("e", 4, 7)
    assert tracker.acked("e", 4) == 8
    snapshot = tracker.snapshot([("e", 4), ("e", 5)])
    tracker.stored("e", 4, [9])
    tracker.stored("e", 5, [0])
    tracker.rollback(snapshot)
    assert tracker.acked("e", 4) == 8 and tracker.acked("e", 5) is None


def test_a_session_met_for_the_first_time_starts_at_the_edges_stated_floor() -> None:
    tracker = AckTracker()
    tracker.restore("e", 1, None)
    # live seq 101 overtakes the backlog 1..100; the edge says it still holds 1
    assert tracker.stored("e", 1, [101], floor=1) is None
    assert tracker.stored("e", 1, list(range(1, 101)), floor=1) == 101
    # without a floor (older agents) the first seq seen starts the session
    assert tracker.stored("e", 2, [7]) == 7


def test_seqs_below_the_floor_that_never_came_are_a_gap_and_acks_move_past_them() -> None:
    tracker = AckTracker()
    gaps: list[Gap] = []
    assert tracker.stored("e", 1, [1, 2, 3], floor=1, gaps=gaps) == 3
    assert tracker.stored("e", 1, [9], floor=4, gaps=gaps) == 3 and gaps == []
    # 4..5 were lost at the edge (its floor passed them), 6 is stored, 7..8 lost, 9 ahead
    assert tracker.stored("e", 1, [6], floor=4, gaps=gaps) == 3
    assert tracker.stored("e", 1, [10], floor=9, gaps=gaps) == 10
    assert [(g.first, g.last, g.count) for g in gaps] == [(4, 5, 2), (7, 8, 2)]
    # a stale (lower) floor never moves anything back
    assert tracker.stored("e", 1, [11], floor=2, gaps=gaps) == 11 and len(gaps) == 2
    # a persisted cursor behind the floor: the floor closes the gap after a restart too
    tracker.restore("e", 3, 4)
    gaps.clear()
    assert tracker.stored("e", 3, [8], floor=8, gaps=gaps) == 8
    assert [(g.edge, g.sid, g.first, g.last) for g in gaps] == [("e", 3, 5, 7)]
