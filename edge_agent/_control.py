"""Schedule book, default controls and the per-cycle decision (pure parts of the control loop).

Nothing here does I/O: the agent feeds a frozen snapshot in and gets setpoints and status
reports out, so every decision in a cycle sees the same values and tests need no devices.

Which source is in force, per cycle:

1. a manual command (``cmd`` ``set_power``) until its ``expires_ts_ms``, while the hub
   link (which carried it) was heard from within the link watchdog (``site.watchdog_s``);
2. the accepted dispatch schedule, while an interval covers *now* and *now* is before the
   schedule's expiry, whatever the link: offline means offline, a market award is
   delivered through a cloud outage. Only a schedule that sets ``max_offline_s`` (signals
   such as regulation that must not outlive the link) stops once the hub has been silent
   that long;
3. otherwise the site's default control (self-consumption, zero export, peak shaving, idle),
   never a stale setpoint. Its source is ``watchdog`` for a device whose manual command or
   schedule target a watchdog ended, ``default`` otherwise.

Every value from every source then passes :func:`edge_agent.guard` before it is written.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, assert_never

from protocol import DispatchSchedule, DispatchState

from ._config import AgentConfig, DefaultControlConfig, DeviceConfig
from ._device import DeviceView
from ._safety import (
    Applied,
    Clamped,
    GuardContext,
    GuardResult,
    Limits,
    Rejected,
    SetpointRequest,
    allowed_range,
    guard,
    split_target,
)
from ._sessions import EvSession
from .devices._base import DeviceStatus

Source = Literal["manual", "schedule", "default", "watchdog"]
CONTROLLABLE_KINDS = frozenset({"battery", "pv", "ev_charger", "hvac"})
CONSUMERS = frozenset({"ev_charger", "hvac"})
"""Kinds whose setpoint is a cap on consumption (0 down to minus the rating)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a schedule was accepted, and why not."""

    accepted: bool
    reason: str = ""
    duplicate: bool = False
    ignored: tuple[str, ...] = ()
    """Known devices of an accepted schedule that cannot be controlled: their targets are
    rejected one by one while the rest of the schedule runs."""


class ScheduleBook:
    """Holds the latest accepted dispatch schedule and answers what is in force when."""

    def __init__(self) -> None:
        self.schedule: DispatchSchedule | None = None
        self._starts: list[int] = []

    def check(  # noqa: PLR0911
        self,
        schedule: DispatchSchedule,
        *,
        edge: str,
        controllable: Mapping[str, DeviceConfig],
        known: set[str],
        now_ms: int,
    ) -> Verdict:
        """Decide whether ``schedule`` may replace the one in force (no side effects)."""
        current = self.schedule
        if schedule.edge != edge:
            return Verdict(False, f"schedule is for edge {schedule.edge!r}, this is {edge!r}")
        if current is not None and (schedule.id, schedule.version) == (
            current.id,
            current.version,
        ):
            return Verdict(False, "duplicate", duplicate=True)
        if current is not None and schedule.version <= current.version:
            return Verdict(
                False,
                f"stale schedule version {schedule.version}: version {current.version} is in force",
            )
        if schedule.expires_ts_ms <= now_ms:
            return Verdict(False, f"schedule expired at {schedule.expires_ts_ms} (now {now_ms})")
        ignored: list[str] = []
        usable = False
        for interval in schedule.intervals:
            for target in interval.targets:
                if target.device not in known:
                    return Verdict(False, f"unknown device {target.device!r}")
                if target.device in controllable:
                    usable = True
                elif target.device not in ignored:
                    ignored.append(target.device)
        if ignored and not usable:  # nothing in it could run: the schedule as a whole
            return Verdict(False, f"device {ignored[0]!r} cannot be controlled")
        return Verdict(True, ignored=tuple(ignored))

    def accept(self, schedule: DispatchSchedule) -> DispatchSchedule | None:
        """Put ``schedule`` in force; returns the one it supersedes."""
        previous, self.schedule = self.schedule, schedule
        self._starts = [i.start_ts_ms for i in schedule.intervals]
        return previous

    def clear(self) -> None:
        self.schedule, self._starts = None, []

    def targets_at(self, now_ms: int) -> tuple[int, dict[str, tuple[float, str]]] | None:
        """``(interval start, {device: (target W, instruction id)})`` in force, or None."""
        sched = self.schedule
        if sched is None or now_ms >= sched.expires_ts_ms:
            return None
        index = bisect.bisect_right(self._starts, now_ms) - 1
        if index < 0:
            return None
        interval = sched.intervals[index]
        if not interval.start_ts_ms <= now_ms < interval.end_ts_ms:
            return None
        return interval.start_ts_ms, {
            t.device: (t.p_target_w, t.instruction_id) for t in interval.targets
        }

    def offline_stopped(self, hub_silent_s: float) -> bool:
        """Whether the schedule in force asks to stop after ``hub_silent_s`` of hub silence."""
        sched = self.schedule
        limit = sched.max_offline_s if sched is not None else None
        return limit is not None and hub_silent_s > limit

    def finished(self, now_ms: int) -> Literal["running", "done", "expired", "none"]:
        sched = self.schedule
        if sched is None:
            return "none"
        if now_ms >= sched.expires_ts_ms:
            return "expired"
        if not sched.intervals or now_ms >= sched.intervals[-1].end_ts_ms:
            return "done"
        return "running"


def is_controllable(device: DeviceConfig) -> bool:
    """Whether the config lets the agent write setpoints to ``device`` at all."""
    limits = device.limits
    return device.kind in CONTROLLABLE_KINDS and (
        limits.p_max_discharge_w > 0 or limits.p_max_charge_w > 0
    )


def limits_for(config: AgentConfig, device: DeviceConfig) -> Limits:
    """Device limits merged with the site's (each layer only narrows)."""
    dl, sl = device.limits, config.site.limits
    ramps = [r for r in (dl.ramp_w_per_s, sl.ramp_w_per_s) if r is not None]
    storage = device.kind == "battery"
    charger = device.charger if device.kind == "ev_charger" else None
    p_max_charge = 0.0 if device.kind == "pv" else dl.p_max_charge_w
    if charger is not None:  # a cap on consumption, within the charger's current range
        p_max_charge = min(p_max_charge, charger.max_w)
    return Limits(
        p_max_discharge_w=0.0 if device.kind in CONSUMERS else dl.p_max_discharge_w,
        p_max_charge_w=p_max_charge,
        min_consumption_w=charger.min_w if charger is not None else 0.0,
        comfort_max_c=device.hvac.comfort_max_c if device.kind == "hvac" else None,
        soc_min_pct=max(dl.soc_min_pct, sl.soc_min_pct) if storage else 0.0,
        soc_max_pct=min(dl.soc_max_pct, sl.soc_max_pct) if storage else 100.0,
        ramp_w_per_s=min(ramps) if ramps else None,
        temp_derate_start_c=dl.temp_derate_start_c,
        temp_max_c=dl.temp_max_c,
        import_max_w=sl.import_max_w,
        export_max_w=sl.export_max_w,
        needs_soc=storage,
    )


def _p(view: DeviceView | None) -> float:
    if view is None or view.reading is None or view.reading.p_w is None:
        return 0.0
    return view.reading.p_w if math.isfinite(view.reading.p_w) else 0.0


def default_targets(
    control: DefaultControlConfig,
    *,
    batteries: Mapping[str, tuple[float, float]],
    pv: Mapping[str, float],
    views: Mapping[str, DeviceView],
    poc_import_w: float | None,
) -> dict[str, float]:
    """Setpoints of the default control for the given batteries (ranges) and PV (ratings).

    * ``self_consumption``: batteries follow the meter to keep import near zero.
    * ``zero_export``: batteries only charge to absorb export; PV is curtailed if that is
      not enough.
    * ``peak_shaving``: batteries hold import at ``peak_limit_w`` (discharging above it,
      recharging below it).
    * ``idle``: batteries at 0 W.

    PV is left uncurtailed (its rating) except by ``zero_export``. Without a meter reading
    every battery goes to 0 W (never a stale setpoint).
    """
    out: dict[str, float] = dict.fromkeys(batteries, 0.0)
    out.update(pv)
    if control.mode == "idle" or poc_import_w is None or (not batteries and not pv):
        return out
    batt_now = sum(_p(views.get(d)) for d in batteries)
    match control.mode:
        case "self_consumption":
            total = batt_now + poc_import_w
        case "zero_export":
            total = min(batt_now + poc_import_w, 0.0)
        case "peak_shaving":
            limit = control.peak_limit_w or 0.0
            total = batt_now + poc_import_w - limit
        case _ as unreachable:
            assert_never(unreachable)
    split = split_target(total, batteries)
    out.update(split)
    if control.mode == "zero_export" and pv:
        placed = sum(split.values())
        poc_after = poc_import_w - (placed - batt_now)
        if poc_after < 0:
            pv_now = sum(_p(views.get(d)) for d in pv)
            cap_total = max(0.0, pv_now + poc_after)
            rated = sum(pv.values())
            for dev, rating in pv.items():
                out[dev] = cap_total * (rating / rated) if rated > 0 else 0.0
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """One device's setpoint in one cycle, with where it came from."""

    device: str
    source: Source
    requested_w: float
    result: GuardResult
    schedule_id: str = ""
    version: int = 0
    instruction_id: str = ""
    interval_start_ms: int | None = None


@dataclass(slots=True)
class ManualOverride:
    p_w: float
    expires_ms: int
    cid: str


@dataclass
class CycleInput:
    """The frozen inputs of one control cycle."""

    now_ms: int
    views: Mapping[str, DeviceView]
    hub_silent_s: float
    """Seconds since the hub was last heard from (0: just now)."""
    dt_s: float
    manual: Mapping[str, ManualOverride] = field(default_factory=dict)
    sessions: Mapping[str, EvSession] = field(default_factory=dict)
    """EV charging sessions with an energy target (see ``edge_agent._sessions``)."""


_Request = tuple[float, Source, str, int | None]


def _requests(
    config: AgentConfig, book: ScheduleBook, inp: CycleInput, controllable: list[DeviceConfig]
) -> tuple[dict[str, _Request], set[str]]:
    """Manual and schedule requests in force, and the devices a watchdog took them from."""
    link_fresh = inp.hub_silent_s <= config.site.watchdog_s
    schedule_on = not book.offline_stopped(inp.hub_silent_s)
    in_force = book.targets_at(inp.now_ms)
    requests: dict[str, _Request] = {}
    cut: set[str] = set()
    for dev in controllable:
        manual = inp.manual.get(dev.id)
        if manual is not None and manual.expires_ms > inp.now_ms:
            if link_fresh:
                requests[dev.id] = (manual.p_w, "manual", manual.cid, None)
                continue
            cut.add(dev.id)
        if in_force is not None and dev.id in in_force[1]:
            if schedule_on:
                target, instruction = in_force[1][dev.id]
                requests[dev.id] = (target, "schedule", instruction, in_force[0])
                cut.discard(dev.id)
                continue
            cut.add(dev.id)
    return requests, cut


def decide(config: AgentConfig, book: ScheduleBook, inp: CycleInput) -> list[Decision]:
    """Every setpoint of one cycle, after the SafetyGuard (pure)."""
    meter = config.meter_id
    meter_view = inp.views.get(meter) if meter else None
    poc: float | None = None
    if (
        meter_view is not None
        and meter_view.status is DeviceStatus.ONLINE
        and meter_view.reading is not None
        and meter_view.reading.p_w is not None
        and math.isfinite(meter_view.reading.p_w)
    ):
        poc = meter_view.reading.p_w
    controllable = [
        d
        for d in config.devices
        if is_controllable(d)
        and (view := inp.views.get(d.id)) is not None
        and view.controllable
        and (view.status is DeviceStatus.ONLINE or view.write_failed)
        and view.reading is not None
    ]
    sched = book.schedule
    requests, cut = _requests(config, book, inp, controllable)
    lifted = _session_floors(config, inp, controllable, requests)
    # Default control drives batteries and PV only; other devices are left to themselves.
    rest = [d for d in controllable if d.id not in requests and d.kind in {"battery", "pv"}]
    batteries: dict[str, tuple[float, float]] = {}
    pv: dict[str, float] = {}
    for dev in rest:
        if dev.kind == "battery":
            _, final = allowed_range(limits_for(config, dev), _context(dev, inp, poc))
            batteries[dev.id] = (final.lo, final.hi)
        elif dev.kind == "pv":
            pv[dev.id] = dev.limits.p_max_discharge_w
    if rest:
        defaults = default_targets(
            config.site.default_control,
            batteries=batteries,
            pv=pv,
            views=inp.views,
            poc_import_w=poc,
        )
        for dev in rest:
            fallback: Source = "watchdog" if dev.id in cut else "default"
            requests[dev.id] = (defaults.get(dev.id, 0.0), fallback, "", None)

    decisions: list[Decision] = []
    poc_est = poc
    for dev in controllable:
        if dev.id not in requests:
            continue
        target, source, instruction, start = requests[dev.id]
        ctx = _context(dev, inp, poc_est)
        result = guard(SetpointRequest(dev.id, target, source), limits_for(config, dev), ctx)
        result = _say_lifted(result, lifted.get(dev.id))
        target = lifted.get(dev.id, target)
        match result:
            case Applied(p_w=p) | Clamped(p_w=p):
                if poc_est is not None:
                    poc_est -= expected_change(dev.kind, p, ctx.device_p_w)
            case Rejected():
                pass
            case _ as unreachable:
                assert_never(unreachable)
        decisions.append(
            Decision(
                device=dev.id,
                source=source,
                requested_w=target,
                result=result,
                schedule_id=sched.id if source == "schedule" and sched else "",
                version=sched.version if source == "schedule" and sched else 0,
                instruction_id=instruction,
                interval_start_ms=start,
            )
        )
    return decisions


def _session_floors(
    config: AgentConfig,
    inp: CycleInput,
    controllable: list[DeviceConfig],
    requests: dict[str, _Request],
) -> dict[str, float]:
    """Lift the caps of chargers whose session needs more than the cap allows (the
    least-laxity floor); the lifted devices with the cap they were asked for. A charger
    without a cap in force is left to itself: it charges at its own limit anyway."""
    lifted: dict[str, float] = {}
    for dev in controllable:
        session = inp.sessions.get(dev.id)
        if dev.kind != "ev_charger" or session is None or dev.id not in requests:
            continue
        limits = limits_for(config, dev)
        floor = session.floor_w(inp.now_ms, limits.p_max_charge_w, inp.dt_s)
        if floor <= 0:
            continue
        floor = max(floor, limits.min_consumption_w)  # below the minimum current is a pause
        target, source, instruction, start = requests[dev.id]
        if target > -floor:
            lifted[dev.id] = target
            requests[dev.id] = (-floor, source, instruction, start)
    return lifted


def _say_lifted(result: GuardResult, asked_w: float | None) -> GuardResult:
    """A cap a session's floor lifted (``asked_w``: the cap asked for) is reported as
    clamped by ``ev_session``, with what was asked."""
    if asked_w is not None and isinstance(result, Applied):
        return Clamped(p_w=result.p_w, requested_w=asked_w, reason="ev_session")
    return result


def expected_change(kind: str, p_w: float, now_w: float) -> float:
    """How much a device's output is expected to change when ``p_w`` is written (W).

    A battery follows its setpoint. For PV the value is a production cap and for consumers
    (HVAC, EV chargers) a consumption cap: a cap above what the device does now changes
    nothing, one below it curtails to the cap. Assuming a PV cap is *produced* would make
    the point-of-connection estimate of the devices decided after it wrong by the gap.

    >>> expected_change("pv", 100_000.0, 50_000.0), expected_change("pv", 20_000.0, 50_000.0)
    (0.0, -30000.0)
    >>> expected_change("hvac", -100_000.0, -50_000.0)
    0.0
    """
    if kind == "pv":
        return min(p_w, now_w) - now_w
    if kind in {"hvac", "ev_charger"}:
        return max(p_w, now_w) - now_w
    return p_w - now_w


def _context(dev: DeviceConfig, inp: CycleInput, poc: float | None) -> GuardContext:
    view = inp.views[dev.id]
    reading = view.reading
    previous = view.applied.p_w if view.applied is not None else None
    return GuardContext(
        soc_pct=reading.soc_pct if reading else None,
        temp_c=reading.temp_c if reading else None,
        bms_max_charge_w=reading.bms_max_charge_w if reading else None,
        bms_max_discharge_w=reading.bms_max_discharge_w if reading else None,
        previous_w=previous,
        dt_s=inp.dt_s,
        poc_import_w=poc,
        device_p_w=_p(view),
        room_temp_c=reading.room_temp_c if reading else None,
    )


def status_of(result: GuardResult) -> tuple[DispatchState, str, float | None]:
    """The ``dispatch/status`` state, reason and applied power of a guard result."""
    match result:
        case Applied(p_w=p):
            return "executing", "", p
        case Clamped(p_w=p, requested_w=req, reason=reason):
            return "clamped", f"{reason}: requested {req:.1f} W, applied {p:.1f} W", p
        case Rejected(reason=reason):
            return "rejected", reason, None
        case _ as unreachable:
            assert_never(unreachable)


__all__ = [
    "CONTROLLABLE_KINDS",
    "CycleInput",
    "Decision",
    "ManualOverride",
    "ScheduleBook",
    "Source",
    "Verdict",
    "decide",
    "default_targets",
    "expected_change",
    "is_controllable",
    "limits_for",
    "status_of",
]
