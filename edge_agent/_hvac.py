"""HVAC flexibility (pure): the setpoint offset of a power cap, and the rebound after it.

A chiller plant's consumption cap (``PowerLimit``) comes with a setpoint offset, so its own
controller does not fight the cap: :func:`setpoint_for` raises the room setpoint in
proportion to the curtailed share, never past the top of the comfort band.

After an event the plant makes up for the cooling it did not deliver and draws more than
before the event: the *rebound*. :class:`Rebound` follows it from the polls: an event
starts with the first curtailing write (the power measured then is the baseline) and ends
with a write that lifts the cap or when the plant's own revert timer would have lapsed
without a refresh. For ``rebound_window_s`` after that (or until the power is back at the
baseline) the energy drawn above the baseline is integrated (trapezoid) and reported in
the device's telemetry (``rebound_active``, ``rebound_wh``, ``rebound_peak_w``,
``curtailed``).

>>> setpoint_for(cap_w=50_000.0, rated_w=200_000.0, base_c=24.0, offset_max_c=2.0,
...              comfort_max_c=25.0)
25.0
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import PointValue

SETTLE_S = 60.0
"""A rebound is over early once the power is back at the baseline this long after the end."""
CURTAILED_SHARE = 0.999
"""A cap below this share of the rating is a curtailment (an event)."""


def setpoint_for(
    *, cap_w: float, rated_w: float, base_c: float, offset_max_c: float, comfort_max_c: float
) -> float:
    """The room setpoint that goes with a consumption cap (°C, one decimal)."""
    share = 1.0 if rated_w <= 0 else min(1.0, max(0.0, cap_w / rated_w))
    target = base_c + offset_max_c * (1.0 - share)
    return round(min(max(base_c, comfort_max_c), target) if share < 1 else base_c, 1)


@dataclass(slots=True)
class Rebound:
    """Follows one plant's events and the rebound after each (times in clock seconds)."""

    window_s: float
    curtailed: bool = False
    baseline_w: float = 0.0
    """Consumption (W, > 0) measured when the event began."""
    last_curtail_at: float | None = None
    revert_s: float = 0.0
    ended_at: float | None = None
    rebound_wh: float = 0.0
    peak_w: float = 0.0
    _last: tuple[float, float] | None = None
    events: int = 0

    def wrote(self, *, cap_w: float, rated_w: float, revert_s: float, consumption_w: float,
              now: float) -> None:  # fmt: skip
        """A write returned: ``cap_w`` is what the plant holds now."""
        curtailing = rated_w > 0 and cap_w < rated_w * CURTAILED_SHARE
        if curtailing:
            if not self.curtailed:
                self.curtailed, self.events = True, self.events + 1
                self.baseline_w = max(0.0, consumption_w)
                self.ended_at, self.rebound_wh, self.peak_w, self._last = None, 0.0, 0.0, None
            self.last_curtail_at, self.revert_s = now, revert_s
        elif self.curtailed:
            self._end(now)

    def _end(self, at: float) -> None:
        self.curtailed, self.ended_at = False, at
        self.rebound_wh, self.peak_w, self._last = 0.0, 0.0, None

    @property
    def active(self) -> bool:
        return self.ended_at is not None

    def polled(self, consumption_w: float, now: float) -> dict[str, PointValue]:
        """One poll: advance the rebound; the points to add to the device's telemetry."""
        if (
            self.curtailed
            and self.last_curtail_at is not None
            and self.revert_s > 0
            and now > self.last_curtail_at + self.revert_s
        ):  # no refresh: the plant's own revert timer restored its defaults
            self._end(self.last_curtail_at + self.revert_s)
        if self.ended_at is not None:
            excess = max(0.0, consumption_w - self.baseline_w)
            if self._last is not None:
                t0, e0 = self._last
                self.rebound_wh += (e0 + excess) / 2 * max(0.0, now - t0) / 3600.0
            self._last = (now, excess)
            self.peak_w = max(self.peak_w, excess)
            since = now - self.ended_at
            if since >= self.window_s or (excess <= 0.0 and since >= SETTLE_S):
                self.ended_at = None  # over: the last figures stay reported
        return {
            "curtailed": self.curtailed,
            "rebound_active": self.ended_at is not None,
            "rebound_wh": round(self.rebound_wh, 1),
            "rebound_peak_w": round(self.peak_w, 1),
        }


__all__ = ["Rebound", "setpoint_for"]
