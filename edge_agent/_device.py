"""One runner per device connection: polls on its own cycle, writes the pending setpoint.

A failing device backs off with a growing, capped, jittered pause (tenacity, sleeping on
the agent's clock) inside its own task, so it never delays the healthy ones. Status changes
(ONLINE / OFFLINE / ERROR) are logged once per change.

Setpoints: one pending per device, latest wins. The runner writes a new value at once and
re-writes an unchanged one so that no more than half the device's fail-safe period passes
between two writes. Setpoints arrive once per control cycle, so the refresh is due one
cycle (``refresh_lead_s``) *before* the half period is over: the cycle after it would be
late. The device's revert timer never lapses while the agent is alive. After every
(re)connect the next setpoint is written whatever it is (the device may have rebooted and
lost both the value and its revert timer).

Write outcomes go back to the owner through ``on_write`` (called in the runner's task
right after the write returned or failed, with what the device accepted or its reason):
a status can then say what the device did, not what was decided.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from protocol import Point
from protocol.clock import Clock

from ._config import DeviceConfig
from ._errors import AgentError, DeviceError, DeviceProtocolError, DeviceTimeout
from ._metrics import AgentMetrics
from .devices._base import DeviceAdapter, DeviceStatus, Reading, Setpoint, WriteResult

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What the control loop sees of one device (part of a frozen snapshot)."""

    device: str
    status: DeviceStatus
    reading: Reading | None
    reading_ts: float | None
    applied: WriteResult | None
    controllable: bool = True
    write_failed: bool = False


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What became of one write: the device accepted ``result`` or refused with ``error``."""

    device: str
    setpoint: Setpoint
    result: WriteResult | None
    """What the device holds now (None: the write was refused or failed)."""
    error: str = ""
    """The device's reason (exception code, timeout) when ``result`` is None."""
    ts_ms: int = 0


OnWrite = Callable[[WriteOutcome], None]


class PointBuffer:
    """Bounded buffer of points between the pollers and the outbox; drops the oldest."""

    def __init__(self, maxlen: int, metrics: AgentMetrics) -> None:
        self._points: collections.deque[Point] = collections.deque(maxlen=maxlen)
        self._metrics = metrics
        self.arrived = asyncio.Event()
        """Set when points arrive (the telemetry pump clears it when it takes them)."""

    def extend(self, points: list[Point]) -> None:
        overflow = len(self._points) + len(points) - (self._points.maxlen or 0)
        if overflow > 0:
            self._metrics.telemetry_dropped.inc(overflow)
        self._points.extend(points)
        if points:
            self.arrived.set()

    def drain(self, limit: int) -> list[Point]:
        out: list[Point] = []
        while self._points and len(out) < limit:
            out.append(self._points.popleft())
        return out

    def __len__(self) -> int:
        return len(self._points)


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library swallowed.

    Python 3.11's ``asyncio.wait_for`` (which pymodbus awaits every response with) can
    return a result and drop a cancellation that arrived at the same moment. The task then
    keeps polling while its owner waits for it to end, and the agent never stops. A task
    whose cancellation is still pending (``cancelling() > 0``) ends here instead.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class DeviceRunner:
    """Owns one adapter: connects, polls, writes, reconnects."""

    def __init__(
        self,
        config: DeviceConfig,
        adapter: DeviceAdapter,
        *,
        clock: Clock,
        metrics: AgentMetrics,
        buffer: PointBuffer,
        refresh_lead_s: float = 0.0,
        on_write: OnWrite | None = None,
    ) -> None:
        self._config = config
        self._on_write = on_write
        self.refresh_lead_s = refresh_lead_s
        """How much earlier than half the revert period an unchanged setpoint is re-written
        (the control period: a setpoint is only re-submitted once per cycle)."""
        self.adapter = adapter
        self._clock = clock
        self._metrics = metrics
        self._buffer = buffer
        self.status = DeviceStatus.OFFLINE
        self.reading: Reading | None = None
        self.reading_ts: float | None = None
        self.applied: WriteResult | None = None
        self._last_write_at: float | None = None
        self._written: Setpoint | None = None
        """The setpoint behind ``applied`` (what was asked; ``applied`` is what was held)."""
        self._pending: Setpoint | None = None
        self._woken: asyncio.Future[None] | None = None
        self._latency = metrics.poll_latency.labels(config.id)
        self._polls = metrics.polls.labels(config.id)
        self.polls = 0
        self.poll_times: list[float] = []
        """Clock-monotonic times of the last successful polls (bounded, for fairness)."""
        self.last_error: str = ""
        self.errors: collections.Counter[str] = collections.Counter()
        """Failures since start by kind (``timeout``, ``protocol``, ``internal``,
        ``write_timeout``/``write_protocol`` for writes, and what the adapter recovered from
        by itself, such as ``subscription_drop``)."""
        self._events_seen: dict[str, int] = {}
        self.write_failed = False
        self.birth_due = False
        metrics.device_status.labels(config.id).set(0)

    @property
    def config(self) -> DeviceConfig:
        return self._config

    @config.setter
    def config(self, config: DeviceConfig) -> None:
        """A new config (pushed by the hub): the adapter follows it from its next request."""
        self._config = config
        self.adapter.configure(config)

    # ------------------------------------------------------------------ control side

    def view(self) -> DeviceView:
        try:
            controllable = self.adapter.controllable
        except AgentError:  # an adapter may refuse to answer before it is connected
            controllable = False
        return DeviceView(
            self.config.id,
            self.status,
            self.reading,
            self.reading_ts,
            self.applied,
            controllable,
            self.write_failed,
        )

    def submit(self, setpoint: Setpoint) -> WriteResult | None:
        """Hand over the setpoint to write (replaces a pending one: latest wins).

        An unchanged setpoint whose device fail-safe is still fresh needs no write and
        does not wake the runner (this runs every cycle for every device): then the
        result the device accepted for it is returned, else None (the outcome follows
        through ``on_write``).
        """
        if self._fresh(setpoint):
            self._pending = None
            return self.applied
        self._pending = setpoint
        woken = self._woken
        if woken is not None and not woken.done():
            woken.set_result(None)
        return None

    # ------------------------------------------------------------------ task

    def _set_status(self, status: DeviceStatus, detail: str = "") -> None:
        if status is self.status:
            return
        previous, self.status = self.status, status
        self._metrics.device_status.labels(self.config.id).set(
            1 if status is DeviceStatus.ONLINE else 0
        )
        if status is DeviceStatus.ONLINE:
            self.birth_due = True  # its metric catalogue is known now (or may have changed)
        if status is DeviceStatus.ONLINE and previous is DeviceStatus.ERROR:
            _log.info("device %s recovered", self.config.id)
        elif status is DeviceStatus.ONLINE:
            _log.info("device %s online", self.config.id)
        elif status is DeviceStatus.OFFLINE:
            _log.info("device %s offline: %s", self.config.id, detail)
        else:
            _log.warning("device %s %s: %s", self.config.id, status.value, detail)

    def _failed(self, exc: DeviceError) -> None:
        self.last_error = str(exc)
        self.errors[exc.kind] += 1
        self._metrics.poll_failures.labels(self.config.id, exc.kind).inc()
        self._set_status(DeviceStatus.ERROR, str(exc))

    async def run(self) -> None:
        """Run until cancelled; never raises (a bug in one device's path stays there)."""
        try:
            while True:
                _raise_if_cancelling()
                self.write_failed = False
                try:
                    await self._connect_with_backoff()
                    # Connected again: a setpoint handed over before this (while a read
                    # hung, during the backoff) was decided on a world that has moved on.
                    # The next control cycle hands over a fresh one, and it is written
                    # even if unchanged: the device may have restarted (value and revert
                    # timer lost).
                    self._pending = None
                    self._last_write_at = None
                    await self._poll_loop()
                except DeviceError as exc:
                    self._failed(exc)
                except Exception as exc:
                    _log.exception("device %s: unexpected error", self.config.id)
                    self._metrics.poll_failures.labels(self.config.id, "internal").inc()
                    self.errors["internal"] += 1
                    self.last_error = repr(exc)
                    self._set_status(DeviceStatus.ERROR, repr(exc))
                    await self.adapter.close()
                    await self._clock.sleep(self.config.backoff_max_s)
                await self.adapter.close()
        finally:
            try:
                await self.release()
            finally:  # a stop cancelled again during the release still closes the link
                await self.adapter.close()
                self._set_status(DeviceStatus.OFFLINE, "agent stopping")

    async def _connect_with_backoff(self) -> None:
        cfg = self.config
        retrying = AsyncRetrying(
            sleep=self._clock.sleep,
            wait=wait_exponential_jitter(
                multiplier=cfg.poll_interval_s, max=cfg.backoff_max_s, jitter=cfg.poll_interval_s
            ),
            retry=retry_if_exception_type(DeviceError),
            reraise=True,
        )
        async for attempt in retrying:
            _raise_if_cancelling()  # pymodbus' connect can swallow a cancel too
            with attempt:
                try:
                    async with asyncio.timeout(cfg.timeout_s * 3):
                        await self.adapter.connect()
                    await self._poll_once(slow=True)
                except TimeoutError as exc:
                    await self.adapter.close()
                    error = DeviceTimeout(f"{cfg.id}: connect timed out")
                    self._failed(error)
                    raise error from exc
                except DeviceError as exc:
                    await self.adapter.close()
                    self._failed(exc)
                    raise

    async def _poll_once(self, *, slow: bool) -> None:
        started = time.perf_counter()
        reading = await self.adapter.read(slow=slow)
        self._latency.observe(time.perf_counter() - started)
        self._polls.inc()
        now = self._clock.now()
        self.reading, self.reading_ts = reading, now
        self.polls += 1
        for event, total in reading.events.items():
            grown = total - self._events_seen.get(event, 0)
            if grown > 0:
                self.errors[event] += grown
                self._metrics.device_events.labels(self.config.id, event).inc(grown)
            self._events_seen[event] = total
        self.poll_times.append(self._clock.monotonic())
        if len(self.poll_times) > 256:
            del self.poll_times[:128]
        if not self.write_failed:
            self._set_status(DeviceStatus.ONLINE)
        ts_ms = int(now * 1000)
        dev = self.config.id
        fresh = reading.fresh
        self._buffer.extend(
            [
                Point(device=dev, name=name, value=value, unit=reading.units.get(name, ""),
                      ts_ms=ts_ms)
                for name, value in reading.values.items()
                if (fresh is None or name in fresh)
                and not (isinstance(value, float) and not math.isfinite(value))
            ]
        )  # fmt: skip

    def _fresh(self, setpoint: Setpoint) -> bool:
        """Whether ``setpoint`` is already written and its fail-safe needs no refresh yet.

        Not fresh any more once waiting for the next cycle would leave more than half the
        revert period between two writes.
        """
        written = self._written
        if self.applied is None or self._last_write_at is None or written is None:
            return False
        elapsed = self._clock.monotonic() - self._last_write_at
        return written == setpoint and elapsed + self.refresh_lead_s < setpoint.revert_s / 2

    def _report(self, setpoint: Setpoint, result: WriteResult | None, error: str = "") -> None:
        if self._on_write is None:
            return
        outcome = WriteOutcome(self._config.id, setpoint, result, error, self._clock.now_ms())
        try:
            self._on_write(outcome)
        except Exception:  # the owner's bug must not stop this device's polling
            _log.exception("device %s: write outcome handler failed", self._config.id)

    async def _write_pending(self) -> None:
        setpoint, self._pending = self._pending, None
        if setpoint is None:
            return
        now = self._clock.monotonic()
        if self._fresh(setpoint):
            return  # unchanged and the device's fail-safe is still fresh
        try:
            self.applied = await self.adapter.write(setpoint)
        except DeviceProtocolError as exc:
            # The device refused the write but still answers: ERROR, keep polling, retry
            # with the next setpoint (never reconnect over a refusal).
            self._metrics.write_failures.labels(self.config.id, exc.kind).inc()
            self.errors[f"write_{exc.kind}"] += 1
            self.last_error = str(exc)
            self.write_failed = True
            self._written = None
            self._set_status(DeviceStatus.ERROR, f"write refused: {exc}")
            self._report(setpoint, None, f"write refused: {exc}")
            return
        except DeviceError as exc:
            self._metrics.write_failures.labels(self.config.id, exc.kind).inc()
            self.errors[f"write_{exc.kind}"] += 1
            self._written = None
            self._report(setpoint, None, f"write failed: {exc}")
            raise
        self._written = setpoint
        self._last_write_at = now
        self._report(setpoint, self.applied)
        self._metrics.writes.labels(self.config.id).inc()
        if self.write_failed:
            self.write_failed = False
            self._set_status(DeviceStatus.ONLINE)

    async def _sleep_until(self, delay: float) -> None:
        """Sleep ``delay`` clock seconds, or less if a setpoint is submitted meanwhile.

        One sleeper task and one future per tick (this runs once a second per device).
        """
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))

        def wake(_: object) -> None:
            if not woken.done():
                woken.set_result(None)

        sleeper.add_done_callback(wake)
        self._woken = woken
        try:
            await woken
        finally:
            self._woken = None
            if not sleeper.done():
                sleeper.cancel()

    async def _poll_loop(self) -> None:
        cfg = self.config
        interval = cfg.poll_interval_s
        next_tick = self._clock.monotonic() + interval
        count = 0
        while True:
            _raise_if_cancelling()
            delay = next_tick - self._clock.monotonic()
            if delay > 0 and self._pending is None:
                await self._sleep_until(delay)
            if self._pending is not None:
                await self._write_pending()  # every request has its own timeout
            if self._clock.monotonic() + 1e-9 < next_tick:
                continue
            count += 1
            await self._poll_once(slow=count % cfg.slow_every == 0)
            next_tick += interval
            now = self._clock.monotonic()
            if next_tick <= now:  # ran late: skip the missed ticks, never burst
                skipped = math.floor((now - next_tick) / interval) + 1
                self._metrics.poll_overruns.labels(cfg.id).inc(skipped)
                next_tick += skipped * interval

    async def release(self) -> None:
        """Give control back to the device (shutdown); errors are logged, not raised."""
        if self.status is DeviceStatus.OFFLINE or self.applied is None:
            return
        try:
            async with asyncio.timeout(self.config.timeout_s):
                await self.adapter.release()
            self.applied = None
            _log.info("device %s: control released", self.config.id)
        except (DeviceError, TimeoutError) as exc:
            _log.warning("device %s: could not release control: %s", self.config.id, exc)


__all__ = ["DeviceRunner", "DeviceView", "OnWrite", "PointBuffer", "WriteOutcome"]
