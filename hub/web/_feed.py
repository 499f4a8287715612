"""The live feed: one poller per app, a bounded queue per client.

The publisher seam is :class:`LiveFeed`. A snapshot source (``() -> bytes``, see
``_snapshot.py``) is polled at a fixed cadence while at least one client is subscribed;
each message goes to every subscriber's own queue.

Slow-client policy: each queue holds at most ``queue_size`` messages. When a message
arrives for a full queue, the oldest one is dropped (counted in
``vpp_hub_console_stream_dropped_total``) and the subscriber is flagged: the next thing it
reads is a ``resync`` marker, telling the console to refetch what it shows over REST.
Every ``live`` message is a whole snapshot, so one delivered after the marker is
complete by itself. A client never slows the poller or another client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

_log = logging.getLogger(__name__)

RESYNC: Final = b"resync"
"""The marker a subscriber reads after messages were dropped for it."""


@dataclass(slots=True, eq=False)
class Subscription:
    """One client's bounded queue (drop oldest, then resync)."""

    queue_size: int
    on_drop: Callable[[], None] = lambda: None
    _queue: asyncio.Queue[bytes] = field(init=False)
    _resync: bool = field(default=False, init=False)
    dropped: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.queue_size)

    def offer(self, message: bytes) -> None:
        """Enqueue without waiting; a full queue loses its oldest message."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            self._resync = True
            self.on_drop()
        self._queue.put_nowait(message)

    async def next(self) -> bytes:
        """The next message, or :data:`RESYNC` first if anything was dropped."""
        if self._resync:
            self._resync = False
            return RESYNC
        return await self._queue.get()

    @property
    def pending(self) -> int:
        return self._queue.qsize()


class LiveFeed:
    """Polls ``source`` every ``interval_s`` while anyone listens; fans out the result."""

    def __init__(
        self,
        source: Callable[[], Awaitable[bytes]],
        *,
        interval_s: float = 1.0,
        queue_size: int = 16,
        on_drop: Callable[[], None] = lambda: None,
    ) -> None:
        self._source = source
        self.interval_s = interval_s
        self.queue_size = queue_size
        self._on_drop = on_drop
        self._subscribers: set[Subscription] = set()
        self._wake = asyncio.Event()
        self.latest: bytes | None = None
        self.failures = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """A subscription for the duration of the block; it starts with the newest
        snapshot when there is one, so a new client never waits a full interval."""
        sub = Subscription(self.queue_size, self._on_drop)
        if self.latest is not None:
            sub.offer(self.latest)
        self._subscribers.add(sub)
        self._wake.set()
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    def publish(self, message: bytes) -> None:
        self.latest = message
        for sub in list(self._subscribers):
            sub.offer(message)

    async def poll_once(self) -> None:
        """One snapshot from the source, to every subscriber. A failing source is logged
        once and "recovered" once; the feed goes on."""
        try:
            message = await self._source()
        except Exception:
            if self.failures == 0:
                _log.exception("console live feed: building a snapshot failed")
            self.failures += 1
            return
        if self.failures:
            _log.info("console live feed recovered after %s failed snapshot(s)", self.failures)
            self.failures = 0
        if message is not self.latest:  # the same snapshot again: every client has it
            self.publish(message)

    async def run(self) -> None:
        """Until cancelled: poll while subscribed, sleep on an event otherwise."""
        while True:
            if not self._subscribers:
                self.latest = None  # nobody saw it change since: never hand it out stale
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.poll_once()
            await asyncio.sleep(self.interval_s)
