"""Per-edge dispatch schedules built from pending member instructions (pure).

Where several instructions cover one device at one time: within one group (one VPP) the
highest ``priority`` holds and, between equals, the newest; the groups' targets add up.
:func:`band_violations` finds where such a sum leaves the device's band.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import NamedTuple

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


def _covered(union: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies inside one interval of ``union`` (sorted, disjoint,
    touching ones merged)."""
    i = bisect.bisect_right(union, (start, _FAR)) - 1
    return i >= 0 and union[i][0] <= start and union[i][1] >= end


def _add(union: list[tuple[int, int]], start: int, end: int) -> None:
    lo = bisect.bisect_left(union, (start, start))
    if lo > 0 and union[lo - 1][1] >= start:
        lo -= 1
    hi = lo
    while hi < len(union) and union[hi][0] <= end:
        start, end = min(start, union[hi][0]), max(end, union[hi][1])
        hi += 1
    union[lo:hi] = [(start, end)]


_FAR = 1 << 62


def _winners_somewhere(live: list[PendingTarget], now_ms: int) -> list[PendingTarget]:
    """``live`` without the targets that win nowhere: those whose whole remaining span is
    covered by targets of the same device and group that win over them (a higher
    priority, or the same and newer). Dropping them changes no piece's winners, and keeps
    an edge's schedule from growing with every re-dispatch of the same VPP."""
    by_key: dict[tuple[str, str], list[PendingTarget]] = {}
    for t in live:
        key = (t.device, t.group)
        if (same := by_key.get(key)) is None:
            by_key[key] = [t]
        else:
            same.append(t)
    keep: list[PendingTarget] = []
    for same in by_key.values():
        if len(same) == 1:
            keep.append(same[0])
            continue
        same.sort(key=_RANK, reverse=True)
        # the strongest wins wherever it runs
        first = same[0]
        keep.append(first)
        union = [(max(first.start_ts_ms, now_ms), first.end_ts_ms)]
        for t in itertools.islice(same, 1, None):
            start = max(t.start_ts_ms, now_ms)
            if not _covered(union, start, t.end_ts_ms):
                keep.append(t)
                _add(union, start, t.end_ts_ms)
    return keep


_RANK = operator.attrgetter("priority", "created_order")
"""Which of two targets of one device and group wins: the higher priority, then the newer."""


def _live(targets: Sequence[PendingTarget], now_ms: int) -> list[PendingTarget]:
    return [t for t in targets if t.end_ts_ms > now_ms and t.start_ts_ms < t.end_ts_ms]


def superseded(targets: Sequence[PendingTarget], now_ms: int) -> list[str]:
    """The ids of ``targets`` that win nowhere from ``now_ms`` on: what is left of each is
    covered by targets of its device and group that win over it (a higher priority, or the
    same and newer). Leaving them out changes no schedule; and as targets are never
    changed and only newer ones come, one that wins nowhere now never wins again.

    >>> old = PendingTarget(instruction_id="old", device="b1", p_target_w=1e3,
    ...                     start_ts_ms=0, end_ts_ms=100, created_order=0)
    >>> new = msgspec.structs.replace(old, instruction_id="new", start_ts_ms=50,
    ...                               created_order=1)
    >>> superseded([old, new], now_ms=10), superseded([old, new], now_ms=50)
    ([], ['old'])
    """
    live = _live(targets, now_ms)
    kept = {t.instruction_id for t in _winners_somewhere(live, now_ms)}
    return [t.instruction_id for t in live if t.instruction_id not in kept]


def device_sums(targets: Sequence[PendingTarget], now_ms: int) -> list[DeviceSum]:
    """Cut the time line at every start and end; each piece holds, per device, the sum over
    groups of each group's winning instruction. Past pieces are dropped, empty ones
    skipped; targets that win nowhere do not cut. Ordered by time, then device."""
    return _sums(_winners_somewhere(_live(targets, now_ms), now_ms), now_ms)


class Sweep(NamedTuple):
    """:func:`superseded` and :func:`device_sums` of the same targets, from one pass."""

    superseded: list[str]
    sums: list[DeviceSum]


def sweep(targets: Sequence[PendingTarget], now_ms: int) -> Sweep:
    """:func:`superseded` and :func:`device_sums` of ``targets`` at ``now_ms``, finding the
    targets that win somewhere once (what both need; a dispatch needs both for every edge
    it touches). The sums of ``targets`` are those of ``targets`` without the superseded
    ones: these win nowhere, so they neither cut nor hold any piece.

    >>> a = PendingTarget(instruction_id="a", device="b1", p_target_w=1e3,
    ...                   start_ts_ms=0, end_ts_ms=100, created_order=0)
    >>> b = msgspec.structs.replace(a, instruction_id="b", p_target_w=2e3, created_order=1)
    >>> swept = sweep([a, b], now_ms=10)
    >>> swept.superseded, [(s.start_ts_ms, s.end_ts_ms, s.p_target_w) for s in swept.sums]
    (['a'], [(10, 100, 2000.0)])
    """
    live = _live(targets, now_ms)
    winners = _winners_somewhere(live, now_ms)
    kept = {t.instruction_id for t in winners}
    return Sweep(
        superseded=[t.instruction_id for t in live if t.instruction_id not in kept],
        sums=_sums(winners, now_ms),
    )


def _sums(live: list[PendingTarget], now_ms: int) -> list[DeviceSum]:
    """:func:`device_sums` of ``live``: targets that have not ended and win somewhere."""
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


def build_intervals(
    targets: Sequence[PendingTarget], now_ms: int, *, sums: Sequence[DeviceSum] | None = None
) -> list[DispatchInterval]:
    """The schedule's intervals: per piece of the time line, each device's summed target.
    A sum of several groups carries the newest contributing instruction's id. ``sums``:
    :func:`device_sums` of ``targets`` at ``now_ms`` when the caller has them already."""
    intervals: list[DispatchInterval] = []
    if sums is None:
        sums = device_sums(targets, now_ms)
    for (start, end), piece in itertools.groupby(sums, key=lambda s: (s.start_ts_ms, s.end_ts_ms)):
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
                    for s in piece
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
    sums: Sequence[DeviceSum] | None = None,
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
    for s in device_sums(targets, now_ms) if sums is None else sums:
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
