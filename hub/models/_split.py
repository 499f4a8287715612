"""Champion/challenger traffic split. Pure.

A decision is assigned to an arm by a stable hash of the experiment and its unit: the
day (``split_by="day"``: every VPP gets the same arm on one day, so a day's revenue is one
arm's) or the VPP (``split_by="vpp"``: a VPP stays on one arm for the whole experiment).
The share of units that go to the challenger is ``challenger_share``.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Arm = Literal["champion", "challenger"]
SplitBy = Literal["day", "vpp"]


def arm_for(experiment_id: str, unit: str, challenger_share: float) -> Arm:
    """The arm that serves ``unit`` (same answer every time, on every replica).

    >>> arm_for("e", "2026-01-01", 0.0), arm_for("e", "2026-01-01", 1.0)
    ('champion', 'challenger')
    """
    digest = hashlib.sha256(f"{experiment_id}\x00{unit}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2.0**64
    return "challenger" if draw < challenger_share else "champion"


__all__ = ["Arm", "SplitBy", "arm_for"]
