"""The live cache: latest value of every point of every device, and edge liveness.

Owned by the app's lifespan; written by the ingest writer, read by ``realtime-data``,
``aggregated-params``, dispatch and ``execution-status``. Per replica: with several
replicas each one holds the devices whose messages it received (the REST side falls back
to the telemetry table when the cache has nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol import PointValue


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

    def put(self, edge: str, device: str, name: str, value: PointValue, ts_ms: int) -> None:
        if isinstance(value, bool):
            number = 1.0 if value else 0.0
        elif isinstance(value, int | float):
            number = float(value)
        else:
            return  # strings and nulls are stored, not cached
        live = self._devices.get((edge, device))
        if live is None:
            live = self._devices[(edge, device)] = DeviceLive()
        held = live.values.get(name)
        if held is None or ts_ms >= held[1]:
            live.values[name] = (number, ts_ms)
        live.last_ms = max(live.last_ms, ts_ms)

    def mark_quality(self, edge: str, device: str, bad: bool) -> None:
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
        self._edges[edge] = EdgeLive(online=online, sid=sid, ts_ms=ts_ms)

    def edge(self, edge: str) -> EdgeLive | None:
        return self._edges.get(edge)

    def devices_online(self, newer_than_ms: int) -> int:
        return sum(1 for d in self._devices.values() if d.last_ms >= newer_than_ms)
