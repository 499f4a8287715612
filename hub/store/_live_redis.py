"""The live cache shared over Redis (``VPP_HUB_REDIS``): every replica's cache holds what
any replica ingested.

``$share/hub`` hands each replica part of the uplinks, so each replica's in-process
:class:`~._cache.LiveCache` would hold only the devices it happened to receive. With Redis
configured, the replica that stored a batch publishes its live updates on one pub/sub
channel and every replica applies the others' to its own cache (reads stay in-process and
synchronous). A replica that starts late, or misses messages while Redis is away, catches
up with the next values (the REST side falls back to the telemetry table meanwhile).
Without Redis the cache is in-process, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from ._cache import LiveCache

if TYPE_CHECKING:
    from redis.asyncio import Redis

_log = logging.getLogger(__name__)

Update = tuple[Any, ...]
"""``("p", edge, device, name, value, ts_ms)``, ``("q", edge, device, bad)`` or
``("e", edge, online, sid, ts_ms)``."""


def apply(cache: LiveCache, updates: list[Update]) -> None:
    for update in updates:
        match update:
            case ["p", str(edge), str(device), str(name), value, int(ts_ms)]:
                cache.put(edge, device, name, value, ts_ms)
            case ["q", str(edge), str(device), bool(bad)]:
                cache.mark_quality(edge, device, bad)
            case ["e", str(edge), bool(online), sid, int(ts_ms)]:
                cache.set_edge(edge, online=online, sid=sid, ts_ms=ts_ms)
            case _:
                _log.debug("ignoring a live update of unknown shape: %r", update)


class LiveMirror:
    """Publish this replica's live updates; apply the other replicas' (``run``)."""

    def __init__(self, redis: Redis, cache: LiveCache, channel: str) -> None:
        self._redis = redis
        self._cache = cache
        self._channel = channel
        self._id = uuid.uuid4().hex
        self._failing = False

    async def publish(self, updates: list[Update]) -> None:
        """Best effort: Redis away costs the other replicas' freshness, never ingest."""
        if not updates:
            return
        try:
            await self._redis.publish(self._channel, msgspec.msgpack.encode([self._id, updates]))
        except Exception as exc:
            if not self._failing:
                _log.warning("cannot publish live values to Redis (%s)", exc)
            self._failing = True
        else:
            self._failing = False

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Apply what other replicas publish, until cancelled (reconnecting with a pause)."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    if ready is not None:
                        ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        sender, updates = msgspec.msgpack.decode(message["data"])
                        if sender != self._id:
                            apply(self._cache, updates)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("live values from Redis interrupted (%s); retrying", exc)
                await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def running(mirror: LiveMirror) -> Any:
    ready = asyncio.Event()
    task = asyncio.create_task(mirror.run(ready), name="live-mirror")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            await ready.wait()
    try:
        yield mirror
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = ["LiveMirror", "Update", "apply", "running"]
