"""SafetyGuard: unit cases for every limit and hypothesis properties over random limits."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent import (
    Applied,
    Clamped,
    GuardContext,
    Limits,
    Rejected,
    SetpointRequest,
    allowed_range,
    guard,
    split_target,
)

BAT = Limits(p_max_discharge_w=100.0, p_max_charge_w=50.0, soc_min_pct=10, soc_max_pct=90,
             needs_soc=True)  # fmt: skip
OK = GuardContext(soc_pct=50.0)


def req(p: float) -> SetpointRequest:
    return SetpointRequest(device="b1", p_w=p)


def test_within_limits_is_applied_unchanged() -> None:
    assert guard(req(40.0), BAT, OK) == Applied(40.0)


def test_rated_power_clamps_both_ways() -> None:
    assert guard(req(500.0), BAT, OK) == Clamped(100.0, 500.0, "device_max_discharge")
    assert guard(req(-500.0), BAT, OK) == Clamped(-50.0, -500.0, "device_max_charge")


def test_bms_allowed_power_narrows_the_rating() -> None:
    ctx = GuardContext(soc_pct=50.0, bms_max_discharge_w=30.0, bms_max_charge_w=20.0)
    assert guard(req(90.0), BAT, ctx) == Clamped(30.0, 90.0, "bms_max_discharge")
    assert guard(req(-90.0), BAT, ctx) == Clamped(-20.0, -90.0, "bms_max_charge")


def test_soc_window_blocks_discharge_when_empty_and_charge_when_full() -> None:
    assert guard(req(50.0), BAT, GuardContext(soc_pct=10.0)) == Clamped(0.0, 50.0, "soc_min")
    assert guard(req(-5.0), BAT, GuardContext(soc_pct=10.0)) == Applied(-5.0)
    assert guard(req(-5.0), BAT, GuardContext(soc_pct=95.0)) == Clamped(0.0, -5.0, "soc_max")


def test_unknown_soc_allows_nothing_for_storage() -> None:
    assert guard(req(10.0), BAT, GuardContext()) == Clamped(0.0, 10.0, "soc_unknown")


def test_temperature_derates_linearly_then_stops() -> None:
    hot = Limits(p_max_discharge_w=100.0, p_max_charge_w=100.0, temp_derate_start_c=40,
                 temp_max_c=50)  # fmt: skip
    assert guard(req(100.0), hot, GuardContext(temp_c=45.0)) == Clamped(
        50.0, 100.0, "temperature_derating"
    )
    assert guard(req(-100.0), hot, GuardContext(temp_c=55.0)) == Clamped(
        0.0, -100.0, "temperature_max"
    )


def test_point_of_connection_limits() -> None:
    site = Limits(p_max_discharge_w=100.0, p_max_charge_w=100.0, import_max_w=60.0,
                  export_max_w=10.0)  # fmt: skip
    # Importing 50 W now, battery idle: charging 30 W would import 80 > 60.
    ctx = GuardContext(poc_import_w=50.0, device_p_w=0.0)
    assert guard(req(-30.0), site, ctx) == Clamped(-10.0, -30.0, "poc_import_limit")
    # Discharging 80 W would export 30 > 10.
    assert guard(req(80.0), site, ctx) == Clamped(60.0, 80.0, "poc_export_limit")
    # Load alone over the import limit: discharge as hard as the rating allows.
    heavy = GuardContext(poc_import_w=300.0, device_p_w=0.0)
    assert guard(req(0.0), site, heavy) == Clamped(100.0, 0.0, "poc_import_limit")


def test_ramp_rate_limits_the_step_from_the_previous_setpoint() -> None:
    ramped = Limits(p_max_discharge_w=100.0, p_max_charge_w=100.0, ramp_w_per_s=10.0)
    ctx = GuardContext(previous_w=0.0, dt_s=2.0)
    assert guard(req(100.0), ramped, ctx) == Clamped(20.0, 100.0, "ramp_rate")
    assert guard(req(-100.0), ramped, ctx) == Clamped(-20.0, -100.0, "ramp_rate")


def test_hard_limits_win_over_the_ramp() -> None:
    ramped = Limits(p_max_discharge_w=100.0, p_max_charge_w=100.0, ramp_w_per_s=1.0)
    ctx = GuardContext(previous_w=100.0, bms_max_discharge_w=10.0)
    result = guard(req(100.0), ramped, ctx)
    assert isinstance(result, Clamped) and result.p_w == 10.0


def test_not_a_number_is_rejected_and_uncontrollable_gets_zero() -> None:
    assert isinstance(guard(req(math.nan), BAT, OK), Rejected)
    assert isinstance(guard(req(math.inf), BAT, OK), Rejected)
    none = Limits()
    assert guard(req(5.0), none, OK) == Clamped(0.0, 5.0, "not_controllable")
    assert guard(req(0.0), none, OK) == Applied(0.0)


def test_split_target_shares_by_headroom_and_respects_bounds() -> None:
    ranges = {"a": (-100.0, 100.0), "b": (-50.0, 300.0)}
    assert split_target(200.0, ranges) == {"a": 50.0, "b": 150.0}
    assert split_target(-150.0, ranges) == {"a": -100.0, "b": -50.0}
    assert split_target(10_000.0, ranges) == {"a": 100.0, "b": 300.0}
    assert split_target(5.0, {"a": (0.0, 0.0)}) == {"a": 0.0}
    assert split_target(5.0, {}) == {}


# --------------------------------------------------------------------------- properties

power = st.floats(min_value=0, max_value=1e6, allow_nan=False)
pct = st.floats(min_value=0, max_value=100, allow_nan=False)
maybe = st.one_of(st.none(), power)


@st.composite
def limits_and_context(draw: st.DrawFn) -> tuple[Limits, GuardContext]:
    soc_lo, soc_hi = sorted((draw(pct), draw(pct)))
    t_start = draw(st.one_of(st.none(), st.floats(-20, 80)))
    t_max = None if t_start is None else t_start + draw(st.floats(1, 50))
    limits = Limits(
        p_max_discharge_w=draw(power),
        p_max_charge_w=draw(power),
        soc_min_pct=soc_lo,
        soc_max_pct=soc_hi,
        ramp_w_per_s=draw(st.one_of(st.none(), st.floats(1, 1e5))),
        temp_derate_start_c=t_start,
        temp_max_c=t_max,
        import_max_w=draw(maybe),
        export_max_w=draw(maybe),
        needs_soc=draw(st.booleans()),
    )
    ctx = GuardContext(
        soc_pct=draw(st.one_of(st.none(), pct)),
        temp_c=draw(st.one_of(st.none(), st.floats(-30, 150))),
        bms_max_discharge_w=draw(maybe),
        bms_max_charge_w=draw(maybe),
        previous_w=draw(st.one_of(st.none(), st.floats(-1e6, 1e6))),
        dt_s=draw(st.floats(0.1, 10)),
        poc_import_w=draw(st.one_of(st.none(), st.floats(-2e6, 2e6))),
        device_p_w=draw(st.floats(-1e6, 1e6)),
    )
    return limits, ctx


def hard_ok(p: float, limits: Limits, ctx: GuardContext) -> bool:  # noqa: PLR0911
    eps = 1e-6 * max(1.0, abs(p))
    if p > limits.p_max_discharge_w + eps or p < -limits.p_max_charge_w - eps:
        return False
    if ctx.bms_max_discharge_w is not None and p > ctx.bms_max_discharge_w + eps:
        return False
    if ctx.bms_max_charge_w is not None and p < -ctx.bms_max_charge_w - eps:
        return False
    if limits.needs_soc:
        if ctx.soc_pct is None and p != 0:
            return False
        if ctx.soc_pct is not None and ctx.soc_pct <= limits.soc_min_pct and p > eps:
            return False
        if ctx.soc_pct is not None and ctx.soc_pct >= limits.soc_max_pct and p < -eps:
            return False
    if ctx.temp_c is not None and limits.temp_max_c is not None and ctx.temp_c >= limits.temp_max_c:
        return abs(p) <= eps
    return True


@settings(max_examples=400, deadline=None)
@given(limits_and_context(), st.floats(-2e6, 2e6))
def test_no_written_value_ever_violates_a_hard_limit(
    lc: tuple[Limits, GuardContext], requested: float
) -> None:
    limits, ctx = lc
    result = guard(SetpointRequest("d", requested), limits, ctx)
    assert not isinstance(result, Rejected)
    assert hard_ok(result.p_w, limits, ctx), (result, limits, ctx)
    if isinstance(result, Applied):
        assert result.p_w == requested


@settings(max_examples=300, deadline=None)
@given(limits_and_context(), st.floats(-2e6, 2e6))
def test_soft_limits_hold_whenever_they_can(
    lc: tuple[Limits, GuardContext], requested: float
) -> None:
    limits, ctx = lc
    hard, final = allowed_range(limits, ctx)
    assert hard.lo <= final.lo <= final.hi <= hard.hi
    p = guard(SetpointRequest("d", requested), limits, ctx)
    assert not isinstance(p, Rejected)
    if limits.ramp_w_per_s is not None and ctx.previous_w is not None:
        step = limits.ramp_w_per_s * ctx.dt_s
        lo, hi = ctx.previous_w - step, ctx.previous_w + step
        poc_ok = ctx.poc_import_w is None
        if poc_ok and lo <= hard.hi and hi >= hard.lo:  # feasible: the ramp is honoured
            assert lo - 1e-6 * max(1, abs(lo)) <= p.p_w <= hi + 1e-6 * max(1, abs(hi))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-1e6, 1e6),
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]),
        st.tuples(st.floats(-1e5, 0), st.floats(0, 1e5)),
        max_size=4,
    ),
)
def test_split_never_leaves_a_device_range(
    target: float, ranges: dict[str, tuple[float, float]]
) -> None:
    split = split_target(target, ranges)
    assert set(split) == set(ranges)
    for dev, value in split.items():
        lo, hi = ranges[dev]
        assert lo - 1e-6 <= value <= hi + 1e-6
    if ranges and abs(target) > 0:
        assert abs(sum(split.values())) <= abs(target) + 1e-6
