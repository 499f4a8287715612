"""SunSpec model layouts from pysunspec2's JSON definitions, and request grouping.

Pure: no I/O and no Modbus library. The adapter discovers which models a device has (by
walking the model chain from 40000) and asks this module where each point lives, how to
decode it and how to group the registers it needs into as few reads as possible.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

MAX_REGS_PER_READ: Final = 125
MERGE_GAP: Final = 64
"""Two spans closer than this many registers are read in one request (cheaper than two)."""
SUNS_MARKER: Final = (0x5375, 0x6E53)
END_ID: Final = 0xFFFF

_UNIMPLEMENTED: Final[dict[str, int]] = {
    "int16": 0x8000,
    "sunssf": 0x8000,
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "bitfield16": 0xFFFF,
    "int32": 0x80000000,
    "uint32": 0xFFFFFFFF,
    "enum32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF,
}
_SIGNED: Final = frozenset({"int16", "sunssf", "int32", "int64"})


@dataclass(frozen=True, slots=True)
class PointSpec:
    """One SunSpec point: offset from its model's ID register, size, type, scale factor."""

    model: int
    name: str
    offset: int
    size: int
    type: str
    sf: str | int | None
    units: str
    writable: bool


@functools.cache
def model_points(model_id: int) -> dict[str, PointSpec]:
    """Every top-level point of a model (groups of count 1 are flattened as ``G.P``)."""
    path = resources.files("sunspec2").joinpath(f"models/json/model_{model_id}.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    out: dict[str, PointSpec] = {}

    def walk(group: dict[str, object], prefix: str, offset: int) -> int:
        for p in group.get("points", []):  # type: ignore[attr-defined]
            size = int(p["size"])
            out[prefix + p["name"]] = PointSpec(
                model_id,
                prefix + p["name"],
                offset,
                size,
                str(p["type"]),
                p.get("sf"),
                str(p.get("units", "")),
                p.get("access") == "RW",
            )
            offset += size
        for sub in group.get("groups", []):  # type: ignore[attr-defined]
            if sub.get("count", 1) != 1:
                break  # repeating groups: their points are not used by the agent
            offset = walk(sub, f"{prefix}{sub['name']}.", offset)
        return offset

    walk(doc["group"], "", 0)
    return out


def decode(raw_regs: Sequence[int], point: PointSpec) -> int | None:
    """The raw integer of a point from its registers (None when not implemented)."""
    if point.type == "string":
        return None
    value = 0
    for reg in raw_regs[: point.size]:
        value = (value << 16) | (reg & 0xFFFF)
    unimpl = _UNIMPLEMENTED.get(point.type)
    if unimpl is not None and value == unimpl:
        return None
    if point.type in _SIGNED and value >= 1 << (16 * point.size - 1):
        value -= 1 << (16 * point.size)
    return value


def encode(value: int, size: int) -> list[int]:
    """Registers of a (signed or unsigned) integer over ``size`` registers, big-endian."""
    value &= (1 << (16 * size)) - 1
    return [(value >> (16 * (size - 1 - k))) & 0xFFFF for k in range(size)]


def decode_string(raw_regs: Sequence[int]) -> str:
    data = b"".join(int(r).to_bytes(2, "big") for r in raw_regs)
    return data.split(b"\0", 1)[0].decode("ascii", "replace").strip()


@dataclass(frozen=True, slots=True)
class Span:
    """One read request: ``count`` registers from ``address``."""

    address: int
    count: int


def group_spans(ranges: Iterable[tuple[int, int]], max_gap: int = MERGE_GAP) -> list[Span]:
    """Merge ``(address, size)`` ranges into as few reads of at most 125 registers as possible.

    >>> group_spans([(10, 2), (14, 1), (300, 2)])
    [Span(address=10, count=5), Span(address=300, count=2)]
    """
    spans: list[Span] = []
    for address, size in sorted(set(ranges)):
        end = address + size
        if spans:
            last = spans[-1]
            last_end = last.address + last.count
            if address - last_end <= max_gap and end - last.address <= MAX_REGS_PER_READ:
                spans[-1] = Span(last.address, max(last_end, end) - last.address)
                continue
        spans.append(Span(address, size))
    return spans


__all__ = [
    "END_ID",
    "MAX_REGS_PER_READ",
    "SUNS_MARKER",
    "PointSpec",
    "Span",
    "decode",
    "decode_string",
    "encode",
    "group_spans",
    "model_points",
]
