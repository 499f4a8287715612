"""OpenADR 2.0b demand response events -> the hub's terms (pure, no I/O).

The VEN adapter (:mod:`hub.markets._openadr`) hands each event it receives, as openleadr
parsed it (a dict), to :func:`parse_event`, then asks :func:`decide` whether the VPP bound
to the program can serve it and with which power targets.

Conventions at this boundary. OpenADR is load-centric: a ``LOAD_DISPATCH`` setpoint and a
``TELEMETRY_USAGE`` power reading count consumption as positive. Inside the hub power is
generator convention (positive = the VPP delivers). So:

* ``LOAD_DISPATCH``/``delta`` ``x`` kW: reduce the net load by ``x``, i.e. target =
  current output + ``x`` (a negative ``x`` asks for more load);
* ``LOAD_DISPATCH``/``setpoint`` ``s`` kW: the VPP's net load is to be ``s``, target =
  ``-s``;
* ``SIMPLE``/``level`` 0..3 (normal, moderate, high, special): level 0 asks for nothing
  (the interval gets no target), level ``n`` curtails ``levels_kw[n - 1]`` kW, by default
  ``n/3`` of the VPP's total capacity;
* the telemetry report sends the measured power with the sign flipped (kW, load).

A VPP opts in only when it is ACTIVE, its available up (or down) capacity covers the
largest change any interval asks for and, where batteries have to supply (or absorb) part
of it, their state of charge holds the energy for the whole event
(:func:`storage_energy`); otherwise it opts out, with the reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from hub.dispatch import PlanTarget
from hub.vpps import AggregatedParams, MemberState, member_range

OptType = Literal["optIn", "optOut"]
SignalKind = Literal["delta", "setpoint", "level"]

TOLERANCE_KW = 1e-6
MAX_INTERVAL_S = 7 * 86400


class MalformedEventError(ValueError):
    """An event the VEN cannot read; ``field`` names what was wrong."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DrInterval(msgspec.Struct, frozen=True, kw_only=True):
    start: dt.datetime
    duration_s: int
    value: float


class DrSignal(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: SignalKind
    intervals: tuple[DrInterval, ...]


class DrEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The part of an oadrEvent the VEN acts on."""

    event_id: str
    modification_number: int
    market_context: str
    status: str
    """far, near, active, completed, cancelled (as the VTN states it)."""
    test_event: bool
    signal: DrSignal
    """The dispatch signal (the first SIMPLE or LOAD_DISPATCH one)."""


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """Opt in with ``targets`` (VPP-level, generator convention, may be empty: nothing
    to dispatch, e.g. a test event or all intervals at level 0) or opt out, ``reason``
    saying why."""

    opt: OptType
    reason: str
    targets: tuple[PlanTarget, ...] = ()
    needed_up_kw: float = 0.0
    needed_down_kw: float = 0.0


class StorageEnergy(msgspec.Struct, frozen=True, kw_only=True):
    """What the VPP's batteries add to its headroom now (kW) and the energy they can
    deliver above their minimum / take below their maximum state of charge (kWh, after
    efficiency; None: a battery's state of charge or size is unknown, so not checked)."""

    up_kw: float = 0.0
    down_kw: float = 0.0
    up_kwh: float | None = None
    down_kwh: float | None = None


def storage_energy(members: Sequence[MemberState]) -> StorageEnergy:
    """The batteries' share of the headroom and their energy, as the aggregation sees
    them (each scaled by its allocation ratio)."""
    up_kw = down_kw = up_kwh = down_kwh = 0.0
    known = True
    for m in members:
        rng = member_range(m)
        if m.category != "STORAGE" or rng is None:
            continue
        now = min(max((m.p_kw or 0.0) * m.allocation_ratio, rng.lo_kw), rng.hi_kw)
        up_kw += max(0.0, rng.hi_kw - now)
        down_kw += max(0.0, now - rng.lo_kw)
        if m.soc_pct is None or m.energy_kwh is None:
            known = False
            continue
        kwh = m.energy_kwh * m.allocation_ratio / 100
        eff = m.efficiency if m.efficiency > 0 else 1.0
        up_kwh += max(0.0, m.soc_pct - m.soc_min_pct) * kwh * eff
        down_kwh += max(0.0, m.soc_max_pct - m.soc_pct) * kwh / eff
    return StorageEnergy(
        up_kw=round(up_kw, 3),
        down_kw=round(down_kw, 3),
        up_kwh=round(up_kwh, 3) if known else None,
        down_kwh=round(down_kwh, 3) if known else None,
    )


def _energy_refusal(
    targets: Sequence[PlanTarget],
    params: AggregatedParams,
    storage: StorageEnergy,
    now: dt.datetime,
) -> str | None:
    """Why the batteries cannot sustain the event, or None. What the other members can
    move is taken first; the rest, over each interval's remaining time, from storage."""
    other_up = max(0.0, params.available_up_capacity - storage.up_kw)
    other_down = max(0.0, params.available_down_capacity - storage.down_kw)
    up_kwh = down_kwh = 0.0
    for t in targets:
        assert t.start is not None
        end = t.start + dt.timedelta(seconds=t.duration_s)
        hours = (end - max(t.start, now)).total_seconds() / 3600
        change = t.target_kw - params.current_power
        up_kwh += max(0.0, change - other_up) * hours
        down_kwh += max(0.0, -change - other_down) * hours
    if storage.up_kwh is not None and up_kwh > storage.up_kwh + TOLERANCE_KW:
        return (
            f"needs {up_kwh:.3f} kWh from the batteries, they hold {storage.up_kwh:.3f} kWh "
            "above their minimum state of charge"
        )
    if storage.down_kwh is not None and down_kwh > storage.down_kwh + TOLERANCE_KW:
        return (
            f"needs the batteries to take {down_kwh:.3f} kWh, they have room for "
            f"{storage.down_kwh:.3f} kWh below their maximum state of charge"
        )
    return None


DISPATCH_SIGNALS: Mapping[str, tuple[SignalKind, ...]] = {
    "SIMPLE": ("level",),
    "simple": ("level",),
    "LOAD_DISPATCH": ("delta", "setpoint"),
}


def _get(raw: Mapping[str, Any], key: str, field: str) -> Any:
    if not isinstance(raw, Mapping) or key not in raw or raw[key] is None:
        raise MalformedEventError("missing", field=f"{field}.{key}" if field else key)
    return raw[key]


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MalformedEventError(f"not a finite number: {value!r}", field=field)
    return float(value)


def _interval(raw: Any, field: str) -> DrInterval:
    start = _get(raw, "dtstart", field)
    duration = _get(raw, "duration", field)
    if not isinstance(start, dt.datetime):
        raise MalformedEventError(f"not a date-time: {start!r}", field=f"{field}.dtstart")
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    if not isinstance(duration, dt.timedelta):
        raise MalformedEventError(f"not a duration: {duration!r}", field=f"{field}.duration")
    seconds = duration.total_seconds()
    if not 1 <= seconds <= MAX_INTERVAL_S or seconds != int(seconds):
        raise MalformedEventError(
            f"must be whole seconds between 1 and {MAX_INTERVAL_S}: {duration}",
            field=f"{field}.duration",
        )
    value = _number(_get(raw, "signal_payload", field), f"{field}.signal_payload")
    return DrInterval(start=start, duration_s=int(seconds), value=value)


def _signal(raw: Mapping[str, Any]) -> DrSignal:
    signals = _get(raw, "event_signals", "")
    if isinstance(signals, Mapping):  # one signal: openleadr keeps the wrapper
        signals = signals.get("event_signals", [signals])
    if not isinstance(signals, Sequence) or not signals:
        raise MalformedEventError("no signal", field="event_signals")
    for index, signal in enumerate(signals):
        field = f"event_signals[{index}]"
        name = _get(signal, "signal_name", field)
        if name not in DISPATCH_SIGNALS:
            continue
        kind = _get(signal, "signal_type", field)
        if kind not in DISPATCH_SIGNALS[name]:
            raise MalformedEventError(
                f"{name} takes signal_type {' or '.join(DISPATCH_SIGNALS[name])}, not {kind!r}",
                field=f"{field}.signal_type",
            )
        intervals = _get(signal, "intervals", field)
        if not isinstance(intervals, Sequence) or not intervals:
            raise MalformedEventError("no interval", field=f"{field}.intervals")
        parsed = tuple(_interval(i, f"{field}.intervals[{n}]") for n, i in enumerate(intervals))
        ordered = sorted(parsed, key=lambda i: i.start)
        for before, after in itertools.pairwise(ordered):
            if before.start + dt.timedelta(seconds=before.duration_s) > after.start:
                raise MalformedEventError("intervals overlap", field=f"{field}.intervals")
        if kind == "level":
            for n, i in enumerate(parsed):
                if i.value not in {0.0, 1.0, 2.0, 3.0}:
                    raise MalformedEventError(
                        f"a SIMPLE level is 0, 1, 2 or 3, not {i.value}",
                        field=f"{field}.intervals[{n}].signal_payload",
                    )
        return DrSignal(name=str(name), kind=kind, intervals=tuple(ordered))
    names = sorted({str(s.get("signal_name")) for s in signals if isinstance(s, Mapping)})
    raise MalformedEventError(
        f"no dispatch signal (SIMPLE or LOAD_DISPATCH) among {names}", field="event_signals"
    )


def parse_event(raw: Mapping[str, Any]) -> DrEvent:
    """Read one event as openleadr parsed it; :class:`MalformedEventError` names the field
    that was missing or wrong."""
    if not isinstance(raw, Mapping):
        raise MalformedEventError(f"not an event: {type(raw).__name__}", field="event")
    descriptor = _get(raw, "event_descriptor", "")
    event_id = _get(descriptor, "event_id", "event_descriptor")
    modification = _get(descriptor, "modification_number", "event_descriptor")
    if isinstance(modification, bool) or not isinstance(modification, int):
        raise MalformedEventError(
            f"not an integer: {modification!r}", field="event_descriptor.modification_number"
        )
    return DrEvent(
        event_id=str(event_id),
        modification_number=modification,
        market_context=str(descriptor.get("market_context") or ""),
        status=str(descriptor.get("event_status") or "far"),
        test_event=bool(descriptor.get("test_event") or False),
        signal=_signal(raw),
    )


def _target_kw(
    kind: SignalKind, value: float, current_kw: float, levels_kw: Sequence[float]
) -> float | None:
    """The VPP's output target (kW, generator convention) for one interval; None: the
    interval asks for nothing."""
    match kind:
        case "delta":
            return current_kw + value
        case "setpoint":
            return -value
        case "level":
            level = int(value)
            return None if level == 0 else current_kw + levels_kw[level - 1]


def default_levels_kw(params: AggregatedParams) -> tuple[float, float, float]:
    """SIMPLE levels 1..3 curtail a third, two thirds and all of the total capacity."""
    total = params.total_capacity
    return (round(total / 3, 3), round(2 * total / 3, 3), total)


def _refusal(event: DrEvent, vpp_status: str | None, market_context: str | None) -> Decision | None:
    """The answer to an event that needs no capacity check (another program, no VPP, an
    inactive VPP, a cancellation); None: check the capacity."""
    if market_context and event.market_context != market_context:
        return Decision(
            opt="optOut",
            reason=f"market context {event.market_context!r} is not this VEN's program "
            f"({market_context!r})",
        )
    if vpp_status is None:
        return Decision(opt="optOut", reason="the VPP bound to this program does not exist")
    if vpp_status != "ACTIVE":
        return Decision(opt="optOut", reason=f"the VPP is {vpp_status}, not ACTIVE")
    if event.status == "cancelled":
        return Decision(opt="optIn", reason="cancelled by the VTN")
    return None


def decide(
    event: DrEvent,
    params: AggregatedParams,
    *,
    vpp_status: str | None,
    now: dt.datetime,
    levels_kw: Sequence[float] | None = None,
    market_context: str | None = None,
    storage: StorageEnergy | None = None,
) -> Decision:
    """Whether the VPP (``params`` its aggregated parameters now, ``vpp_status`` its status
    or None if it does not exist, ``storage`` what its batteries hold) serves ``event``,
    and the plan targets if it does.

    Intervals that ended before ``now`` are dropped (an edge cannot run them).
    """
    refused = _refusal(event, vpp_status, market_context)
    if refused is not None:
        return refused
    levels = tuple(levels_kw) if levels_kw else default_levels_kw(params)
    if len(levels) < 3:
        levels = levels + (levels[-1],) * (3 - len(levels))
    current = params.current_power
    targets: list[PlanTarget] = []
    up = down = 0.0
    for interval in event.signal.intervals:
        if interval.start + dt.timedelta(seconds=interval.duration_s) <= now:
            continue
        target = _target_kw(event.signal.kind, interval.value, current, levels)
        if target is None:
            continue
        up = max(up, target - current)
        down = max(down, current - target)
        targets.append(
            PlanTarget(
                target_kw=round(target, 3), duration_s=interval.duration_s, start=interval.start
            )
        )
    if event.test_event:
        return Decision(opt="optIn", reason="test event: nothing dispatched")
    if up > params.available_up_capacity + TOLERANCE_KW:
        return Decision(
            opt="optOut",
            reason=f"asks for {up:.3f} kW more output, the VPP has "
            f"{params.available_up_capacity:.3f} kW available up",
            needed_up_kw=round(up, 3),
            needed_down_kw=round(down, 3),
        )
    if down > params.available_down_capacity + TOLERANCE_KW:
        return Decision(
            opt="optOut",
            reason=f"asks for {down:.3f} kW less output, the VPP has "
            f"{params.available_down_capacity:.3f} kW available down",
            needed_up_kw=round(up, 3),
            needed_down_kw=round(down, 3),
        )
    short = _energy_refusal(targets, params, storage, now) if storage is not None else None
    if short is not None:
        return Decision(
            opt="optOut", reason=short, needed_up_kw=round(up, 3), needed_down_kw=round(down, 3)
        )
    return Decision(
        opt="optIn",
        reason="within available capacity" if targets else "nothing to dispatch",
        targets=tuple(targets),
        needed_up_kw=round(up, 3),
        needed_down_kw=round(down, 3),
    )


__all__ = [
    "Decision",
    "DrEvent",
    "DrInterval",
    "DrSignal",
    "MalformedEventError",
    "OptType",
    "StorageEnergy",
    "decide",
    "default_levels_kw",
    "parse_event",
    "storage_energy",
]
