"""Per-edge dispatch schedules built from pending member instructions (pure).

Where several instructions cover one device at one time: within one group (one VPP) the
highest ``priority`` holds and, between equals, the newest; the groups' targets add up.
:func:`band_violations` finds where such a sum leaves the device's band.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

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
    """Later instructions win where they overlap on the same device (within a group)."""
    group: str = ""
    """Whose target it is (the VPP): targets of different groups on one device add up."""
    priority: int = 0
    """Within a group, a higher priority wins over a newer instruction."""


class DeviceSum(msgspec.Struct, frozen=True, kw_only=True):
    """What one device is asked for during one piece of the time line."""

    device: str
    start_ts_ms: int
    end_ts_ms: int
    p_target_w: float
    parts: list[PendingTarget]
    """The instruction holding in each group, newest last."""


class BandViolation(msgspec.Struct, frozen=True, kw_only=True):
    """A device asked for a sum outside its band (W)."""

    device: str
    start_ts_ms: int
    end_ts_ms: int
    p_target_w: float
    lo_w: float
    hi_w: float
    groups: list[str]


def device_sums(targets: Sequence[PendingTarget], now_ms: int) -> list[DeviceSum]:
    """Cut the time line at every start and end; each piece holds, per device, the sum over
    groups of each group's winning instruction. Past pieces are dropped, empty ones
    skipped. Ordered by time, then device."""
    live = [t for t in targets if t.end_ts_ms > now_ms and t.start_ts_ms < t.end_ts_ms]
    cuts = sorted({max(t.start_ts_ms, now_ms) for t in live} | {t.end_ts_ms for t in live})
    # A sweep: targets join when the line reaches their start and leave at their end.
    waiting = sorted(live, key=lambda t: max(t.start_ts_ms, now_ms), reverse=True)
    active: list[PendingTarget] = []
    out: list[DeviceSum] = []
    for start, end in itertools.pairwise(cuts):
        while waiting and max(waiting[-1].start_ts_ms, now_ms) <= start:
            active.append(waiting.pop())
        active = [t for t in active if t.end_ts_ms >= end]
        winners: dict[tuple[str, str], PendingTarget] = {}
        for t in active:
            held = winners.get((t.device, t.group))
            if held is None or (t.priority, t.created_order) > (held.priority, held.created_order):
                winners[(t.device, t.group)] = t
        by_device: dict[str, list[PendingTarget]] = {}
        for (device, _), t in winners.items():
            by_device.setdefault(device, []).append(t)
        for device in sorted(by_device):
            parts = sorted(by_device[device], key=lambda t: t.created_order)
            out.append(
                DeviceSum(
                    device=device,
                    start_ts_ms=start,
                    end_ts_ms=end,
                    p_target_w=sum(t.p_target_w for t in parts),
                    parts=parts,
                )
            )
    return out


def build_intervals(targets: Sequence[PendingTarget], now_ms: int) -> list[DispatchInterval]:
    """The schedule's intervals: per piece of the time line, each device's summed target.
    A sum of several groups carries the newest contributing instruction's id."""
    intervals: list[DispatchInterval] = []
    for (start, end), sums in itertools.groupby(
        device_sums(targets, now_ms), key=lambda s: (s.start_ts_ms, s.end_ts_ms)
    ):
        intervals.append(
            DispatchInterval(
                start_ts_ms=start,
                end_ts_ms=end,
                targets=[
                    DeviceTarget(
                        device=s.device,
                        p_target_w=round(s.p_target_w, 3),
                        instruction_id=s.parts[-1].instruction_id,
                    )
                    for s in sums
                ],
            )
        )
    return intervals


def band_violations(
    targets: Sequence[PendingTarget],
    bands: Mapping[str, tuple[float, float]],
    now_ms: int,
    *,
    tolerance_w: float = 1e-3,
) -> list[BandViolation]:
    """Where the summed target of a device in ``bands`` (``(lo_w, hi_w)``) leaves it.

    >>> a = PendingTarget(instruction_id="a", device="b1", p_target_w=60e3, start_ts_ms=0,
    ...                   end_ts_ms=10, created_order=0, group="vpp-a")
    >>> b = msgspec.structs.replace(a, instruction_id="b", created_order=1, group="vpp-b")
    >>> [v.p_target_w for v in band_violations([a, b], {"b1": (-100e3, 100e3)}, 0)]
    [120000.0]
    >>> band_violations([a], {"b1": (-100e3, 100e3)}, 0)
    []
    """
    out: list[BandViolation] = []
    for s in device_sums(targets, now_ms):
        band = bands.get(s.device)
        if band is None:
            continue
        lo, hi = band
        if lo - tolerance_w <= s.p_target_w <= hi + tolerance_w:
            continue
        out.append(
            BandViolation(
                device=s.device,
                start_ts_ms=s.start_ts_ms,
                end_ts_ms=s.end_ts_ms,
                p_target_w=s.p_target_w,
                lo_w=lo,
                hi_w=hi,
                groups=[t.group for t in s.parts],
            )
        )
    return out
