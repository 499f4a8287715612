"""Execution status of dispatch instructions: what each device did, measured at the edge.

Pure bookkeeping (no I/O, no clock of its own): the agent feeds in the decisions of each
control cycle, the outcome of each device write and the polls, and gets back the
``dispatch/status`` reports to send. One :class:`Execution` per device follows the
instruction in force on it (a schedule target, keyed by its ``instruction_id``, or a
manual command, keyed by its ``cid``; a new schedule version carrying the same
instruction continues it).

What is reported, per instruction and device:

* ``executing`` / ``clamped`` only once the device write returned, with ``p_applied_w``
  the value the device accepted (after the SafetyGuard and register rounding); the first
  one carries ``started_ts_ms``;
* ``failed`` when the write was refused or failed, with the device's reason; a later
  accepted write reports ``executing``/``clamped`` again;
* ``rejected`` when the SafetyGuard refuses the target (nothing is written);
* while it runs, ``p_actual_w`` and ``deviation_w`` (measured minus applied) from the
  polls every :data:`REPORT_EVERY_S` seconds of the agent's clock and whenever the
  measured power moved by more than :data:`SIGNIFICANT_SHARE` of the device rating
  (at least :data:`SIGNIFICANT_MIN_W`) since the last report;
* at its end (interval over, superseded, expired, replaced by the next instruction,
  default control) ``done`` with ``energy_wh``: the trapezoid integral of the polled
  power from the first accepted write to the end (the last reading held to the end).
  An instruction that was never written (all writes failed or refused) gets no ``done``:
  its last ``failed``/``rejected`` status stands.

Every status is also sent on a change of state or reason (never twice the same).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from protocol import DispatchState

from ._safety import Applied, Clamped, GuardResult, Rejected

REPORT_EVERY_S: Final = 15.0
"""While an instruction runs, its measured power is reported at least this often (s)."""
SIGNIFICANT_SHARE: Final = 0.05
SIGNIFICANT_MIN_W: Final = 1_000.0


@dataclass(frozen=True, slots=True)
class Report:
    """One ``dispatch/status`` to send (the agent adds edge, sid, seq and ts)."""

    schedule_id: str
    version: int
    status: DispatchState
    device: str
    instruction_id: str
    reason: str = ""
    p_target_w: float | None = None
    p_applied_w: float | None = None
    p_actual_w: float | None = None
    deviation_w: float | None = None
    energy_wh: float | None = None
    started_ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One device's instruction in one control cycle (from the decision)."""

    key: str
    """``instruction_id`` of a schedule target, ``manual:<cid>`` of a manual command."""
    schedule_id: str
    version: int
    instruction_id: str
    target_w: float
    result: GuardResult


@dataclass(slots=True)
class Execution:
    """The instruction in force on one device and what the device did with it."""

    step: Step
    rating_w: float
    setpoint_w: float | None = None
    """What was handed to the device runner for this instruction (None: nothing)."""
    applied_w: float | None = None
    started_s: float | None = None
    energy_wh: float = 0.0
    last_sample: tuple[float, float] | None = None
    """(clock s, W) of the last power sample integrated."""
    last_key: tuple[DispatchState, str] | None = None
    """(state, reason code) of the last report, so nothing is sent twice (a ramp that
    narrows the setpoint differently every cycle is one reason, not one per cycle)."""
    last_reason: str = ""
    last_report_s: float = -math.inf
    last_actual_w: float | None = None
    last_applied_w: float | None = None
    state: DispatchState | None = None


def _guard_state(result: GuardResult) -> tuple[DispatchState, str, str]:
    """State, reason text and reason code (what makes a report new) of a guard result."""
    match result:
        case Applied():
            return "executing", "", ""
        case Clamped(p_w=p, requested_w=req, reason=reason):
            return "clamped", f"{reason}: requested {req:.1f} W, applied {p:.1f} W", reason
        case Rejected(reason=reason):
            return "rejected", reason, reason
    raise AssertionError(result)  # pragma: no cover - GuardResult is closed


class ExecutionBook:
    """Every device's :class:`Execution`; methods return the reports to send."""

    def __init__(self) -> None:
        self.running: dict[str, Execution] = {}

    def _report(
        self,
        device: str,
        ex: Execution,
        state: DispatchState,
        reason: str,
        now_s: float,
        actual_w: float | None,
        *,
        force: bool = False,
        code: str | None = None,
    ) -> list[Report]:
        key = (state, reason if code is None else code)
        if key == ex.last_key and not force:
            return []
        ex.last_key, ex.state, ex.last_reason = key, state, reason
        ex.last_report_s = now_s
        ex.last_actual_w = actual_w
        ex.last_applied_w = ex.applied_w
        step = ex.step
        running = state in {"executing", "clamped", "done"}
        deviation = (
            actual_w - ex.applied_w
            if running and actual_w is not None and ex.applied_w is not None and state != "done"
            else None
        )
        return [
            Report(
                schedule_id=step.schedule_id,
                version=step.version,
                status=state,
                device=device,
                instruction_id=step.instruction_id,
                reason=reason,
                p_target_w=step.target_w,
                p_applied_w=ex.applied_w if running else None,
                p_actual_w=actual_w,
                deviation_w=deviation,
                energy_wh=round(ex.energy_wh, 3) if ex.started_s is not None else None,
                started_ts_ms=None if ex.started_s is None else int(ex.started_s * 1000),
            )
        ]

    def decided(
        self,
        device: str,
        step: Step | None,
        now_s: float,
        actual_w: float | None,
        rating_w: float = 0.0,
    ) -> list[Report]:
        """The cycle's instruction for ``device`` (None: default control or nothing)."""
        out: list[Report] = []
        ex = self.running.get(device)
        if ex is not None and (step is None or step.key != ex.step.key):
            why = "default control in force" if step is None else f"replaced by {step.key}"
            out += self.end(device, now_s, f"instruction ended: {why}")
            ex = None
        if step is None:
            return out
        if ex is None:
            ex = self.running[device] = Execution(step=step, rating_w=rating_w)
        else:
            ex.step = step  # a new schedule version carrying the same instruction
            ex.rating_w = rating_w
        state, reason, code = _guard_state(step.result)
        if state == "rejected":
            ex.setpoint_w = None
            out += self._report(device, ex, state, reason, now_s, actual_w, code=code)
        return out

    def submitted(self, device: str, setpoint_w: float) -> None:
        """The setpoint handed to the device runner for the instruction in force."""
        ex = self.running.get(device)
        if ex is not None:
            ex.setpoint_w = setpoint_w

    def written(
        self,
        device: str,
        setpoint_w: float,
        accepted_w: float | None,
        error: str,
        now_s: float,
        actual_w: float | None,
    ) -> list[Report]:
        """A write of ``setpoint_w`` returned (``accepted_w``) or failed (``error``)."""
        ex = self.running.get(device)
        if ex is None or ex.setpoint_w != setpoint_w:
            return []  # default control, or a value this instruction no longer asks for
        if accepted_w is None:
            return self._report(device, ex, "failed", error, now_s, actual_w)
        if ex.started_s is None:
            ex.started_s = now_s
            ex.last_sample = (now_s, actual_w if actual_w is not None else 0.0)
        ex.applied_w = accepted_w
        state, reason, code = _guard_state(ex.step.result)
        if state == "rejected":  # pragma: no cover - nothing is submitted when rejected
            return []
        moved = self._moved(ex, accepted_w, ex.last_applied_w)
        return self._report(device, ex, state, reason, now_s, actual_w, force=moved, code=code)

    @staticmethod
    def _moved(ex: Execution, value: float, last: float | None) -> bool:
        """Whether ``value`` differs significantly from the ``last`` one reported."""
        if last is None:
            return True
        return abs(value - last) > max(SIGNIFICANT_MIN_W, SIGNIFICANT_SHARE * ex.rating_w)

    def polled(
        self, device: str, reading_s: float | None, p_w: float | None, now_s: float
    ) -> list[Report]:
        """The device's latest poll: integrate it, and report the measured power when due."""
        ex = self.running.get(device)
        if ex is None or ex.started_s is None or reading_s is None or p_w is None:
            return []
        if not math.isfinite(p_w):
            return []
        last = ex.last_sample
        if last is not None and reading_s > last[0]:
            ex.energy_wh += (last[1] + p_w) / 2 * (reading_s - last[0]) / 3600.0
            ex.last_sample = (reading_s, p_w)
        if ex.state not in {"executing", "clamped"} or ex.last_key is None:
            return []
        due = now_s - ex.last_report_s >= REPORT_EVERY_S - 1e-6
        if not due and not self._moved(ex, p_w, ex.last_actual_w):
            return []
        return self._report(device, ex, ex.last_key[0], ex.last_reason, now_s, p_w, force=True,
                            code=ex.last_key[1])  # fmt: skip

    def end(self, device: str, now_s: float, reason: str) -> list[Report]:
        """The instruction on ``device`` is over: ``done`` with the energy delivered."""
        ex = self.running.pop(device, None)
        if ex is None or ex.started_s is None:
            return []
        last = ex.last_sample
        actual = None
        if last is not None:
            if now_s > last[0]:
                ex.energy_wh += last[1] * (now_s - last[0]) / 3600.0
            actual = last[1]
        return self._report(device, ex, "done", reason, now_s, actual, force=True)


__all__ = [
    "REPORT_EVERY_S",
    "SIGNIFICANT_MIN_W",
    "SIGNIFICANT_SHARE",
    "Execution",
    "ExecutionBook",
    "Report",
    "Step",
]
