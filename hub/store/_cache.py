"""The live cache: latest value of every point of every device, and edge liveness.

Owned by the app's lifespan; written by the ingest writer, read by ``realtime-data``,
``aggregated-params``, dispatch and ``execution-status``. Edges are keyed by
:func:`edge_key` (tenant and edge id). Per replica: with several replicas each one holds
the devices whose messages it received (the REST side falls back to the telemetry table
when the cache has nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import overload

from protocol import PointValue


@overload
def edge_key(tenant: str, edge: str) -> str: ...
@overload
def edge_key(tenant: str | None, edge: str | None) -> str | None: ...
def edge_key(tenant: str | None, edge: str | None) -> str | None:
    """The cache's key of an edge: ``tenant/edge`` (ids hold no ``/``, so two tenants'
    ``park-a`` never share one); None when either is (an unbound instance). Every
    ``edge`` argument below is such a key.

    >>> edge_key("acme", "park-a"), edge_key(None, None)
    ('acme/park-a', None)
    """
    if tenant is None or edge is None:
        return None
    return f"{tenant}/{edge}"


@dataclass(slots=True)
class DeviceLive:
    values: dict[str, tuple[float, int]] = field(default_factory=dict)
    """name -> (value, ts_ms) for numeric points."""
    last_ms: int = 0
    bad: bool = False
    """Every point of the newest batch had quality ``bad``."""


@dataclass(slots=True)
class EdgeLive:
    online: bool = False
    sid: int | None = None
    ts_ms: int = 0


class LiveCache:
    def __init__(self) -> None:
        self._devices: dict[tuple[str, str], DeviceLive] = {}
        self._edges: dict[str, EdgeLive] = {}
        self.version = 0
        """Bumped by every change (what a kept view of the live values compares)."""
        self._changed: dict[str, int] = {}
        """edge -> :attr:`version` at the last change of it or of one of its devices."""

    def put(self, edge: str, device: str, name: str, value: PointValue, ts_ms: int) -> None:
        if isinstance(value, bool):
            number = 1.0 if value else 0.0
        elif isinstance(value, int | float):
            number = float(value)
        else:
            return  # strings and nulls are stored, not cached
        self.version += 1
        self._changed[edge] = self.version
        live = self._devices.get((edge, device))
        if live is None:
            live = self._devices[(edge, device)] = DeviceLive()
        held = live.values.get(name)
        if held is None or ts_ms >= held[1]:
            live.values[name] = (number, ts_ms)
        live.last_ms = max(live.last_ms, ts_ms)

    def mark_quality(self, edge: str, device: str, bad: bool) -> None:
        self.version += 1
        self._changed[edge] = self.version
        live = self._devices.setdefault((edge, device), DeviceLive())
        live.bad = bad

    def device(self, edge: str | None, device: str | None) -> DeviceLive | None:
        if edge is None or device is None:
            return None
        return self._devices.get((edge, device))

    def value(
        self, edge: str | None, device: str | None, name: str, *, newer_than_ms: int = 0
    ) -> float | None:
        live = self.device(edge, device)
        if live is None:
            return None
        held = live.values.get(name)
        if held is None or held[1] < newer_than_ms:
            return None
        return held[0]

    def set_edge(self, edge: str, *, online: bool, sid: int | None, ts_ms: int) -> None:
        self.version += 1
        self._changed[edge] = self.version
        self._edges[edge] = EdgeLive(online=online, sid=sid, ts_ms=ts_ms)

    def changed(self, edges: Iterable[str | None]) -> int:
        """The newest change of ``edges`` and their devices (0: none yet): a view of the
        live values of some edges' devices is current while this is unchanged, whatever
        other edges send.

        >>> cache = LiveCache()
        >>> cache.put("t/a", "d1", "p_w", 1.0, 0); cache.put("t/b", "d1", "p_w", 2.0, 0)
        >>> cache.changed(["t/a"]), cache.changed(["t/a", "t/b", None]), cache.changed([])
        (1, 2, 0)
        """
        changed = self._changed
        return max((changed.get(e, 0) for e in edges if e is not None), default=0)

    def edge(self, edge: str) -> EdgeLive | None:
        return self._edges.get(edge)

    def devices_online(self, newer_than_ms: int) -> int:
        return sum(1 for d in self._devices.values() if d.last_ms >= newer_than_ms)
