"""Live telemetry leaves as soon as it is polled, not at the next control cycle or commit.

The pollers put their points in the :class:`~edge_agent._device.PointBuffer`; the pump
wakes on the first of them, lingers ``linger_s`` on the agent's clock so that the devices
polled at the same tick share one batch, and appends the batch to the outbox. The outbox
hands back the stamped message (``floor_seq``) and its payload, which is published live at
once; the row itself is committed by the commit task (``commit_interval_s``), and replayed
from there if the live copy does not reach the hub.

Durability is unchanged by publishing before the commit: ``kill -9`` still loses at most
what was appended and not yet committed (what had been published of it may be at the hub,
never the other way round), and a later session never reuses its keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from protocol import MAX_POINTS_PER_BATCH, Point, TelemetryBatch
from protocol.clock import Clock

from ._device import PointBuffer
from ._outbox import Committed, Outbox

LINGER_S: Final = 0.15
"""How long the pump gathers points after the first one arrives (clock seconds); the
agent passes ``[outbox] telemetry_linger_s``."""


class TelemetryPump:
    """Turns buffered points into outbox batches, published live as they are made."""

    def __init__(
        self,
        *,
        edge: str,
        buffer: PointBuffer,
        outbox: Outbox,
        clock: Clock,
        uplink: Callable[[Committed], None],
        own_points: Callable[[int], list[Point]],
        linger_s: float = LINGER_S,
    ) -> None:
        self._edge = edge
        self._buffer = buffer
        self._outbox = outbox
        self._clock = clock
        self._uplink = uplink
        self._own_points = own_points
        self._linger_s = linger_s
        self.batches = 0

    def flush(self) -> None:
        """Append what is buffered now as one batch (or several, at the size cap)."""
        while True:
            now_ms = self._clock.now_ms()
            own = self._own_points(now_ms)
            points = self._buffer.drain(MAX_POINTS_PER_BATCH - len(own))
            if not points and not own:
                return
            sid, seq = self._outbox.next_key()
            batch = TelemetryBatch(
                edge=self._edge, sid=sid, seq=seq, ts_ms=now_ms, points=points + own
            )
            self._uplink(self._outbox.append(batch))
            self.batches += 1
            if not len(self._buffer):
                return

    async def run(self) -> None:
        """Until cancelled: wait for points, linger, flush."""
        while True:
            await self._buffer.arrived.wait()
            if self._linger_s > 0:
                await self._clock.sleep(self._linger_s)
            self._buffer.arrived.clear()
            self.flush()


__all__ = ["LINGER_S", "TelemetryPump"]
