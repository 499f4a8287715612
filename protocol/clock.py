"""Clocks: every time-dependent component takes one instead of calling ``time`` itself.

* :class:`RealClock`: wall time and ``asyncio.sleep``.
* :class:`ScaledClock`: accelerated time for demos (``factor=60`` plays an hour a minute).
* :class:`ManualClock`: time that moves only when a test says so.

``now()`` is wall-clock seconds since the epoch (what timestamps are made of);
``monotonic()`` never goes backwards (what intervals and timeouts are measured with);
``sleep(s)`` waits ``s`` seconds *of this clock's time*.

>>> clock = ManualClock(start=1_000.0)
>>> clock.advance(2.5)
>>> clock.now(), clock.now_ms()
(1002.5, 1002500)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What components need to know about time."""

    def now(self) -> float:
        """Seconds since the Unix epoch, in this clock's time."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never decreases."""
        ...

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch (wire timestamps)."""
        ...

    @property
    def speed(self) -> float:
        """How many seconds of this clock pass per real second (1 for real time)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class RealClock:
    """The real world's time."""

    speed = 1.0

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "RealClock()"


class ScaledClock:
    """Time running ``factor`` times faster than real time from ``start`` (default: now).

    Sleeping ``s`` clock seconds takes ``s / factor`` real seconds.
    """

    def __init__(self, factor: float, start: float | None = None) -> None:
        if not factor > 0:
            raise ValueError(f"clock factor must be > 0, got {factor!r}")
        self._factor = float(factor)
        self._origin_real = time.monotonic()
        self._origin_clock = time.time() if start is None else float(start)

    @property
    def speed(self) -> float:
        return self._factor

    def now(self) -> float:
        return self._origin_clock + (time.monotonic() - self._origin_real) * self._factor

    def monotonic(self) -> float:
        return (time.monotonic() - self._origin_real) * self._factor

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._factor)

    def __repr__(self) -> str:
        return f"ScaledClock(factor={self._factor})"


class ManualClock:
    """A clock for tests: time moves only through :meth:`advance` or :meth:`run_for`.

    Sleepers wake, in deadline order, when the clock reaches their deadline.
    """

    speed = 0.0  # time does not pass by itself

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)
        self._start = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    def now_ms(self) -> int:
        return round(self._now * 1000)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._counter), future))
        await future

    @property
    def pending(self) -> int:
        """How many sleepers wait for the clock."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def run_for(self, seconds: float, step: float = 0.1) -> None:
        """Advance ``seconds`` in steps of ``step``, letting woken tasks run after each."""
        if step <= 0:
            raise ValueError("step must be > 0")
        target = self._now + seconds
        while self._now < target - 1e-9:
            self.advance(min(step, target - self._now))
            for _ in range(5):
                await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now})"


__all__ = ["Clock", "ManualClock", "RealClock", "ScaledClock"]
