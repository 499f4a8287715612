"""Fault injection: what a misbehaving device does, switched on and off while running."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

from ._errors import SimControlError


class FaultKind(enum.StrEnum):
    """The faults a simulated device can show (see docs/sims.md for what a client sees)."""

    DROP = "drop"
    """Every connection is closed as soon as it sends a request; no response is sent."""
    SLOW = "slow"
    """Responses are delayed by ``delay_s`` real seconds (default 2)."""
    EXCEPTION = "exception"
    """Every request gets Modbus exception ``code`` (default 4, server device failure)."""
    FROZEN = "frozen"
    """Readings stop updating (the last register image is served); writes still apply."""
    GARBAGE = "garbage"
    """Readings are seeded random register values (marker and model headers kept)."""
    ALARM = "alarm"
    """The device raises its alarm: alarm points set, power forced to 0, allowed power 0."""
    REFUSE_WRITES = "refuse_writes"
    """Writes get Modbus exception ``code`` (default 4); reads keep working."""
    REBOOT = "reboot"
    """The device restarts: its control registers return to their power-on defaults
    (setpoints disabled, revert timers 0 = disabled), every connection is dropped. With
    ``seconds`` it stays down (connections dropped as with ``drop``) for that long; without,
    it is back at once and the fault does not stay active."""


PARAMS: Final[dict[FaultKind, dict[str, float]]] = {
    FaultKind.DROP: {},
    FaultKind.SLOW: {"delay_s": 2.0},
    FaultKind.EXCEPTION: {"code": 4},
    FaultKind.FROZEN: {},
    FaultKind.GARBAGE: {},
    FaultKind.ALARM: {},
    FaultKind.REFUSE_WRITES: {"code": 4},
    FaultKind.REBOOT: {},
}
"""Parameters each fault accepts, with their defaults."""

_VALID_CODES: Final = frozenset({1, 2, 3, 4, 5, 6, 8, 10, 11})


def parse_kind(kind: str) -> FaultKind:
    try:
        return FaultKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in FaultKind)
        raise SimControlError(f"kind: unknown fault {kind!r} (choose from {choices})") from None


def fault_params(kind: FaultKind, params: dict[str, float]) -> dict[str, float]:
    """Defaults merged with ``params``; unknown or out-of-range parameters are errors."""
    allowed = PARAMS[kind]
    out = dict(allowed)
    for name, value in params.items():
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            raise SimControlError(f"params.{name}: not a parameter of {kind.value} ({known})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SimControlError(f"params.{name}: must be a number, got {value!r}")
        if name == "code" and not float(value).is_integer():
            raise SimControlError(f"params.code: {value!r} is not a whole number")
        out[name] = int(value) if name == "code" else float(value)
    if "code" in out and int(out["code"]) not in _VALID_CODES:
        raise SimControlError(f"params.code: {out['code']:g} is not a Modbus exception code")
    if not 0 <= out.get("delay_s", 0) <= 60:
        raise SimControlError("params.delay_s: must be 0..60 seconds")
    return out


@dataclass(frozen=True)
class ActiveFault:
    kind: FaultKind
    params: dict[str, float]
    until: float | None
    """Site-clock time when the fault clears by itself (``None``: until cleared)."""


@dataclass
class FaultSet:
    """The faults active on one device, expiring on the site's clock."""

    active: dict[FaultKind, ActiveFault] = field(default_factory=dict)

    def set(self, fault: ActiveFault) -> None:
        self.active[fault.kind] = fault

    def clear(self, kind: FaultKind | None = None) -> None:
        if kind is None:
            self.active.clear()
        else:
            self.active.pop(kind, None)

    def expire(self, now: float) -> list[FaultKind]:
        gone = [k for k, f in self.active.items() if f.until is not None and now >= f.until]
        for k in gone:
            del self.active[k]
        return gone

    def get(self, kind: FaultKind) -> ActiveFault | None:
        return self.active.get(kind)

    def __contains__(self, kind: FaultKind) -> bool:
        return kind in self.active
