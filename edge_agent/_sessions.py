"""EV charging sessions with an energy target by a departure time (pure).

The hub (or an operator) sends ``ev_session`` to a charger: ``energy_wh`` to deliver by
``departure_ts_ms``. The session does not fix a power: it keeps the VPP's flexibility as
long as it can. Each cycle it computes the **least-laxity floor**: the least the charger
must draw now so that, charging at ``plan_share`` (90 %) of its maximum afterwards, the
target is still met by the departure. While there is slack the floor is 0 and the charger
follows its caps (a market award, a curtailment) unchanged; when the slack is used up the
floor rises and a cap below it is lifted to it (clamp reason ``ev_session``). A cap never
pushes more energy than the car's target: once the target is delivered the session ends.

Delivered energy is measured at the edge: the charger's consumption integrated over the
cycles (the same measurement as an instruction's delivered energy), so it is the same
whatever register map the charger has.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAN_SHARE = 0.9
"""Plan the rest of a session at this share of the charger's maximum power (ramps, the
car's own taper near full), so a late floor is not a promise the charger cannot keep."""


@dataclass
class EvSession:
    """One charging session's target and what has been delivered towards it."""

    device: str
    energy_wh: float
    departure_ms: int
    cid: str
    accepted_ms: int
    max_w: float | None = None
    """The most the car draws (its on-board charger), when it is below the charger's
    rating: the floor is planned with it, so a slow car starts charging early enough."""
    delivered_wh: float = 0.0
    _last_ms: int | None = None

    def observe(self, now_ms: int, p_w: float | None) -> None:
        """Add what the charger drew since the last observation (``p_w`` generator
        convention: consumption is negative)."""
        last, self._last_ms = self._last_ms, now_ms
        if last is None or p_w is None or now_ms <= last:
            return
        self.delivered_wh += max(0.0, -p_w) * (now_ms - last) / 3_600_000

    @property
    def remaining_wh(self) -> float:
        return max(0.0, self.energy_wh - self.delivered_wh)

    def done(self, now_ms: int) -> bool:
        """Target delivered, or the car has left."""
        return self.remaining_wh <= 0.0 or now_ms >= self.departure_ms

    def floor_w(self, now_ms: int, max_w: float, dt_s: float) -> float:
        """The least consumption (W, >= 0) this cycle so the target is still reachable.

        >>> s = EvSession("evse-1", energy_wh=11_000.0, departure_ms=4 * 3_600_000, cid="c",
        ...               accepted_ms=0)
        >>> s.floor_w(0, 11_000.0, 60.0)  # 4 h left, 1.1 h of charging at 90 %: slack
        0.0
        >>> round(s.floor_w(3 * 3_600_000, 11_000.0, 60.0))  # 1 h left: more than the rest
        11000
        >>> slow = EvSession("evse-1", energy_wh=11_000.0, departure_ms=4 * 3_600_000, cid="c",
        ...                  accepted_ms=0, max_w=3_000.0)  # the car takes 3 kW at most
        >>> round(slow.floor_w(0, 11_000.0, 60.0))  # 4 h at 2.7 kW is short: charge now
        3000
        """
        if self.max_w is not None:
            max_w = min(max_w, self.max_w)
        if self.done(now_ms) or max_w <= 0:
            return 0.0
        left_s = (self.departure_ms - now_ms) / 1000
        after_s = max(0.0, left_s - dt_s)
        later_wh = PLAN_SHARE * max_w * after_s / 3600
        short_wh = self.remaining_wh - later_wh
        if short_wh <= 0:
            return 0.0
        return min(max_w, short_wh * 3600 / max(dt_s, 1e-9))


__all__ = ["PLAN_SHARE", "EvSession"]
