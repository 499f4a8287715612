"""Per-edge dispatch schedules built from pending member instructions (pure)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import msgspec

from protocol import DeviceTarget, DispatchInterval


class PendingTarget(msgspec.Struct, frozen=True, kw_only=True):
    """One member instruction for a device of the edge (times in ms)."""

    instruction_id: str
    device: str
    p_target_w: float
    start_ts_ms: int
    end_ts_ms: int
    created_order: int
    """Later instructions win where they overlap on the same device."""


def build_intervals(targets: Sequence[PendingTarget], now_ms: int) -> list[DispatchInterval]:
    """Cut the time line at every start and end; each piece holds, per device, the newest
    instruction covering it. Past pieces are dropped, empty pieces are skipped."""
    live = [t for t in targets if t.end_ts_ms > now_ms and t.start_ts_ms < t.end_ts_ms]
    cuts = sorted({max(t.start_ts_ms, now_ms) for t in live} | {t.end_ts_ms for t in live})
    # A sweep: targets join when the line reaches their start and leave at their end.
    waiting = sorted(live, key=lambda t: max(t.start_ts_ms, now_ms), reverse=True)
    active: list[PendingTarget] = []
    intervals: list[DispatchInterval] = []
    for start, end in itertools.pairwise(cuts):
        while waiting and max(waiting[-1].start_ts_ms, now_ms) <= start:
            active.append(waiting.pop())
        active = [t for t in active if t.end_ts_ms >= end]
        winners: dict[str, PendingTarget] = {}
        for t in active:
            held = winners.get(t.device)
            if held is None or t.created_order > held.created_order:
                winners[t.device] = t
        if not winners:
            continue
        intervals.append(
            DispatchInterval(
                start_ts_ms=start,
                end_ts_ms=end,
                targets=[
                    DeviceTarget(
                        device=w.device,
                        p_target_w=round(w.p_target_w, 3),
                        instruction_id=w.instruction_id,
                    )
                    for w in sorted(winners.values(), key=lambda w: w.device)
                ],
            )
        )
    return intervals
