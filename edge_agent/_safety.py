"""The SafetyGuard: one pure function between every setpoint source and every device write.

Authority is layered, and each layer may only narrow the range the one before it left::

    device limits   rated power, the BMS's allowed charge/discharge power      (hard)
    site safety     SoC window, temperature derating                          (hard)
                    point-of-connection import/export limit, ramp rate         (soft)
    local schedule  / hub dispatch / default control / manual command         (request)

Hard limits are never violated: their intersection always contains 0 W, so a safe value
always exists (for an HVAC plant whose room has reached the top of its comfort band, the
one safe value is its full-power cap: no curtailment). Soft limits are honoured in the
order above whenever they can be within the hard range; when they cannot (the site load
alone exceeds the import limit and the battery is already at its rating), the guard goes
as far towards them as the hard range allows.

Powers use the generator convention: positive = discharge / production, negative = charge /
consumption. For PV the value is a production cap (curtailment), never negative.

>>> limits = Limits(p_max_discharge_w=100.0, p_max_charge_w=50.0)
>>> guard(SetpointRequest(device="b1", p_w=150.0), limits, GuardContext())
Clamped(p_w=100.0, requested_w=150.0, reason='device_max_discharge')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ClampReason = Literal[
    "device_max_discharge",
    "device_max_charge",
    "bms_max_discharge",
    "bms_max_charge",
    "soc_min",
    "soc_max",
    "soc_unknown",
    "temperature_derating",
    "temperature_max",
    "poc_import_limit",
    "poc_export_limit",
    "ramp_rate",
    "not_controllable",
    "ev_min_current",
    "comfort_band",
    "ev_session",
]


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit that applies to one device, already merged from device and site config."""

    p_max_discharge_w: float = 0.0
    p_max_charge_w: float = 0.0
    soc_min_pct: float = 0.0
    soc_max_pct: float = 100.0
    ramp_w_per_s: float | None = None
    temp_derate_start_c: float | None = None
    temp_max_c: float | None = None
    import_max_w: float | None = None
    export_max_w: float | None = None
    needs_soc: bool = False
    """Storage: without a state of charge reading it may neither charge nor discharge."""
    comfort_max_c: float | None = None
    """HVAC: at or above this room temperature no curtailment is allowed (full power)."""
    min_consumption_w: float = 0.0
    """A consumer that cannot run below this (an EV charger's minimum current times its
    phases and voltage): a consumption cap between 0 and it becomes 0 (paused), never more
    than asked."""


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What the guard knows about the moment: one frozen snapshot, nothing else."""

    soc_pct: float | None = None
    temp_c: float | None = None
    bms_max_discharge_w: float | None = None
    bms_max_charge_w: float | None = None
    previous_w: float | None = None
    """The setpoint in force (ramp reference); None means no ramp reference."""
    dt_s: float = 1.0
    poc_import_w: float | None = None
    """Measured import at the point of connection (positive = importing)."""
    device_p_w: float = 0.0
    """Measured output of this device now (its share of ``poc_import_w``)."""
    room_temp_c: float | None = None
    """HVAC: the building's temperature (the comfort band's reference)."""


@dataclass(frozen=True, slots=True)
class SetpointRequest:
    """A setpoint from any source, before the guard."""

    device: str
    p_w: float
    source: str = "schedule"


@dataclass(frozen=True, slots=True)
class Applied:
    """The request was within every limit and is written as is."""

    p_w: float


@dataclass(frozen=True, slots=True)
class Clamped:
    """The request was narrowed to ``p_w``; ``reason`` names the binding limit."""

    p_w: float
    requested_w: float
    reason: ClampReason


@dataclass(frozen=True, slots=True)
class Rejected:
    """The request cannot be written at all (nothing is written)."""

    reason: str


GuardResult = Applied | Clamped | Rejected


@dataclass(frozen=True, slots=True)
class Range:
    """The allowed range ``[lo, hi]`` and which limit set each end."""

    lo: float
    hi: float
    lo_reason: ClampReason
    hi_reason: ClampReason


def allowed_range(limits: Limits, ctx: GuardContext) -> tuple[Range, Range]:  # noqa: PLR0912
    """The hard range and, inside it, the range the soft limits leave (both contain a value).

    Returns ``(hard, final)``; ``final`` is always inside ``hard``.
    """
    lo, hi = -limits.p_max_charge_w, limits.p_max_discharge_w
    lo_r: ClampReason = "device_max_charge"
    hi_r: ClampReason = "device_max_discharge"
    if ctx.bms_max_charge_w is not None and -ctx.bms_max_charge_w > lo:
        lo, lo_r = -max(0.0, ctx.bms_max_charge_w), "bms_max_charge"
    if ctx.bms_max_discharge_w is not None and ctx.bms_max_discharge_w < hi:
        hi, hi_r = max(0.0, ctx.bms_max_discharge_w), "bms_max_discharge"
    if limits.needs_soc:
        if ctx.soc_pct is None or not math.isfinite(ctx.soc_pct):
            lo, hi, lo_r, hi_r = 0.0, 0.0, "soc_unknown", "soc_unknown"
        else:
            if ctx.soc_pct <= limits.soc_min_pct and hi > 0:
                hi, hi_r = 0.0, "soc_min"
            if ctx.soc_pct >= limits.soc_max_pct and lo < 0:
                lo, lo_r = 0.0, "soc_max"
    if ctx.temp_c is not None and limits.temp_max_c is not None:
        start = limits.temp_derate_start_c
        if ctx.temp_c >= limits.temp_max_c:
            factor = 0.0
        elif start is not None and ctx.temp_c > start:
            factor = (limits.temp_max_c - ctx.temp_c) / (limits.temp_max_c - start)
        else:
            factor = 1.0
        reason: ClampReason = "temperature_max" if factor == 0.0 else "temperature_derating"
        if factor < 1.0:
            if lo * factor > lo:
                lo, lo_r = lo * factor, reason
            if hi * factor < hi:
                hi, hi_r = hi * factor, reason
    if (
        limits.comfort_max_c is not None
        and ctx.room_temp_c is not None
        and ctx.room_temp_c >= limits.comfort_max_c
        and hi > lo
    ):  # too warm already: the plant's full power must stay available (a cap at rated)
        hi, hi_r = lo, "comfort_band"
    hard = Range(lo, hi, lo_r, hi_r)

    # Soft limits, in priority order: each narrows when it can, else pushes to the edge.
    cur = hard
    if ctx.poc_import_w is not None and math.isfinite(ctx.poc_import_w):
        # Import after the change: poc - (p - device_p).
        s_lo = -math.inf
        s_hi = math.inf
        if limits.import_max_w is not None:
            s_lo = ctx.device_p_w + ctx.poc_import_w - limits.import_max_w
        if limits.export_max_w is not None:
            s_hi = ctx.device_p_w + ctx.poc_import_w + limits.export_max_w
        cur = _narrow(cur, s_lo, s_hi, "poc_import_limit", "poc_export_limit")
    if limits.ramp_w_per_s is not None and ctx.previous_w is not None:
        step = limits.ramp_w_per_s * max(ctx.dt_s, 0.0)
        cur = _narrow(cur, ctx.previous_w - step, ctx.previous_w + step, "ramp_rate", "ramp_rate")
    return hard, cur


def _narrow(cur: Range, s_lo: float, s_hi: float, lo_r: ClampReason, hi_r: ClampReason) -> Range:
    lo, hi = max(cur.lo, s_lo), min(cur.hi, s_hi)
    lr = lo_r if s_lo > cur.lo else cur.lo_reason
    hr = hi_r if s_hi < cur.hi else cur.hi_reason
    if lo <= hi:
        return Range(lo, hi, lr, hr)
    # The soft window lies entirely outside the range: go as far towards it as allowed.
    if s_lo > cur.hi:
        return Range(cur.hi, cur.hi, lo_r, cur.hi_reason)
    return Range(cur.lo, cur.lo, cur.lo_reason, hi_r)


def guard(request: SetpointRequest, limits: Limits, ctx: GuardContext) -> GuardResult:
    """Narrow ``request`` to every limit; the only path from a setpoint to a device write."""
    p = request.p_w
    if not isinstance(p, int | float) or not math.isfinite(p):
        return Rejected(f"setpoint for {request.device} is not a finite number: {p!r}")
    if limits.p_max_discharge_w <= 0 and limits.p_max_charge_w <= 0:
        if p == 0:
            return Applied(0.0)
        return Clamped(0.0, float(p), "not_controllable")
    _, final = allowed_range(limits, ctx)
    result: Applied | Clamped
    if p > final.hi:
        result = Clamped(final.hi, float(p), final.hi_reason)
    elif p < final.lo:
        result = Clamped(final.lo, float(p), final.lo_reason)
    else:
        result = Applied(float(p))
    if -limits.min_consumption_w < result.p_w < 0:
        return Clamped(0.0, float(p), "ev_min_current")
    return result


def split_target(target_w: float, ranges: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Split a site-level target among devices within each one's ``(lo, hi)`` bounds.

    Each device takes a share proportional to its headroom in the target's direction, so
    they reach their bounds together; whatever cannot be placed is left unplaced (the sum
    is then the nearest reachable total).

    >>> split_target(300.0, {"a": (-100.0, 100.0), "b": (-100.0, 300.0)})
    {'a': 75.0, 'b': 225.0}
    """
    if not ranges:
        return {}
    if target_w >= 0:
        room = {d: max(0.0, hi) for d, (_, hi) in ranges.items()}
    else:
        room = {d: max(0.0, -lo) for d, (lo, _) in ranges.items()}
    total = sum(room.values())
    if total <= 0:
        return dict.fromkeys(ranges, 0.0)
    share = min(1.0, abs(target_w) / total)
    sign = 1.0 if target_w >= 0 else -1.0
    return {d: sign * room[d] * share for d in ranges}


__all__ = [
    "Applied",
    "ClampReason",
    "Clamped",
    "GuardContext",
    "GuardResult",
    "Limits",
    "Range",
    "Rejected",
    "SetpointRequest",
    "allowed_range",
    "guard",
    "split_target",
]
