"""SunSpec register layout built from pysunspec2's JSON model definitions.

Offsets are never typed by hand: each model's points (and their fixed-count groups) are
read from ``sunspec2/models/json/model_<id>.json`` and laid out after the ``SunS`` marker
at 40000. :class:`SunSpecMap` turns engineering values into a register image and back.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Final

SUNS_BASE: Final = 40000
"""Register address of the ``SunS`` marker (0x5375, 0x6E53)."""
SUNS_MARKER: Final = (0x5375, 0x6E53)
END_MARKER: Final = (0xFFFF, 0x0000)

_UNIMPLEMENTED: Final[dict[str, int]] = {
    "int16": 0x8000,
    "sunssf": 0x8000,
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "bitfield16": 0xFFFF,
    "count": 0,
    "pad": 0x8000,
    "int32": 0x80000000,
    "uint32": 0xFFFFFFFF,
    "enum32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF,
    "acc32": 0,
    "int64": 0x8000000000000000,
    "uint64": 0xFFFFFFFFFFFFFFFF,
    "acc64": 0,
    "string": 0,
}
_SIGNED: Final = frozenset({"int16", "sunssf", "int32", "int64"})


@dataclass(frozen=True, slots=True)
class PointDef:
    """One SunSpec point at its absolute register address."""

    model: int
    name: str
    address: int
    size: int
    type: str
    sf: str | int | None
    writable: bool

    @property
    def unimplemented(self) -> int:
        """The raw 'not implemented' value of this point's type."""
        return _UNIMPLEMENTED.get(self.type, 0)

    @property
    def signed(self) -> bool:
        return self.type in _SIGNED

    def limits(self) -> tuple[int, int]:
        """Raw integer range that is a valid (implemented) value of this type."""
        bits = 16 * self.size
        if self.signed:
            return -(1 << (bits - 1)) + 1, (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 2


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """One model's position in the map: ``address`` is its ID register."""

    id: int
    address: int
    length: int
    points: dict[str, PointDef]


def _model_json(model_id: int) -> dict[str, object]:
    path = resources.files("sunspec2").joinpath(f"models/json/model_{model_id}.json")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def model_points(model_id: int) -> tuple[tuple[str, int, int, str, str | int | None, bool], ...]:
    """``(name, offset from ID, size, type, sf, writable)`` of every point of a model.

    Group points are named ``Group.Point``; groups must have a fixed count of 1.
    """
    group = _model_json(model_id)["group"]
    out: list[tuple[str, int, int, str, str | int | None, bool]] = []

    def walk(g: dict[str, object], prefix: str, offset: int) -> int:
        for p in g.get("points", []):  # type: ignore[attr-defined]
            size = int(p["size"])
            out.append(
                (prefix + p["name"], offset, size, p["type"], p.get("sf"), p.get("access") == "RW")
            )
            offset += size
        for sub in g.get("groups", []):  # type: ignore[attr-defined]
            count = sub.get("count", 1)
            if not isinstance(count, int) or count != 1:
                raise ValueError(f"model {model_id}: group {sub['name']} has variable count")
            offset = walk(sub, f"{prefix}{sub['name']}.", offset)
        return offset

    walk(group, "", 0)  # type: ignore[arg-type]
    return tuple(out)


class SunSpecMap:
    """A chain of models after the ``SunS`` marker, ending with 0xFFFF.

    The register image is a plain ``list[int]`` indexed from :data:`SUNS_BASE`.
    """

    def __init__(self, model_ids: list[int], sf: dict[tuple[int, str], int]) -> None:
        self.models: dict[int, ModelLayout] = {}
        self._sf = dict(sf)
        address = SUNS_BASE + 2
        for model_id in model_ids:
            points: dict[str, PointDef] = {}
            length = 0
            for name, off, size, typ, sfname, writable in model_points(model_id):
                points[name] = PointDef(model_id, name, address + off, size, typ, sfname, writable)
                length = off + size
            self.models[model_id] = ModelLayout(model_id, address, length - 2, points)
            address += length
        self.end = address
        self.size = address + 2 - SUNS_BASE
        self.template = self._template()

    def point(self, model: int, name: str) -> PointDef:
        return self.models[model].points[name]

    def _template(self) -> list[int]:
        image = [0] * self.size
        image[0:2] = SUNS_MARKER
        for layout in self.models.values():
            for p in layout.points.values():
                self._put_raw(image, p, p.unimplemented)
            self._put_raw(image, layout.points["ID"], layout.id)
            self._put_raw(image, layout.points["L"], layout.length)
            for (model, name), value in self._sf.items():
                if model == layout.id:
                    self._put_raw(image, layout.points[name], value)
        image[self.end - SUNS_BASE : self.end - SUNS_BASE + 2] = END_MARKER
        return image

    def scale(self, p: PointDef) -> int:
        """The power-of-ten exponent that applies to point ``p`` (0 when it has none)."""
        if isinstance(p.sf, int):
            return p.sf
        if p.sf is None:
            return 0
        return self._sf.get((p.model, p.sf), 0)

    @staticmethod
    def _put_raw(image: list[int], p: PointDef, raw: int) -> None:
        i = p.address - SUNS_BASE
        if p.size == 1:
            image[i] = raw & 0xFFFF
            return
        raw &= (1 << (16 * p.size)) - 1
        for k in range(p.size):
            image[i + k] = (raw >> (16 * (p.size - 1 - k))) & 0xFFFF

    def put(self, image: list[int], p: PointDef, value: float | str | None) -> None:
        """Encode ``value`` (engineering units; ``None`` = not implemented) into ``image``."""
        if p.type == "string":
            text = "" if value is None else str(value)
            data = text.encode("ascii", "replace")[: 2 * p.size].ljust(2 * p.size, b"\0")
            i = p.address - SUNS_BASE
            image[i : i + p.size] = [(data[2 * k] << 8) | data[2 * k + 1] for k in range(p.size)]
            return
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            self._put_raw(image, p, p.unimplemented)
            return
        assert not isinstance(value, str)
        raw = round(value / 10.0 ** self.scale(p))
        lo, hi = p.limits()
        self._put_raw(image, p, min(max(raw, lo), hi))

    def raw(self, image: list[int], p: PointDef) -> int:
        """The raw integer of point ``p`` (sign-extended for signed types)."""
        i = p.address - SUNS_BASE
        raw = 0
        for k in range(p.size):
            raw = (raw << 16) | image[i + k]
        if p.signed and raw >= 1 << (16 * p.size - 1):
            raw -= 1 << (16 * p.size)
        return raw

    def value(self, image: list[int], p: PointDef) -> float | None:
        """Decode point ``p`` into engineering units (``None`` when not implemented)."""
        raw = self.raw(image, p)
        unimpl = p.unimplemented
        if p.signed and raw == unimpl - (1 << (16 * p.size)):
            return None
        if not p.signed and raw == unimpl and p.type not in {"acc32", "acc64", "count"}:
            return None
        return raw * 10.0 ** self.scale(p)


def scale_for(max_abs: float, bits: int = 16) -> int:
    """Smallest power-of-ten exponent ``>= -2`` so that ``max_abs`` fits a signed ``bits`` int."""
    limit = (1 << (bits - 1)) - 1
    sf = -2
    while max_abs / 10.0**sf > limit:
        sf += 1
    return sf
