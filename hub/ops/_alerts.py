"""The hub's own alerts, delivered to webhook receivers without ever blocking the caller.

``notify(ctx, alert)`` is what the rest of the hub calls (the trading breaker when it
trips, ingest when an edge goes offline): it logs the alert, queues it for every target
in ``settings.alert_targets`` whose ``min_severity`` it reaches and returns at once. Each
target has its own bounded queue and worker task, so a receiver that hangs delays only
itself; a worker sends what has gathered in its queue as one message (at most
:data:`MAX_PER_MESSAGE` alerts; WeCom and DingTalk robots take about 20 messages a
minute), with bounded retries (tenacity: exponential backoff with jitter,
``alert_attempts`` attempts of ``alert_timeout_s`` each) on transport errors, HTTP 429
and 5xx, and the robots' rate-limit error codes. Anything else (a wrong key) is refused
at once. Undelivered alerts are dropped and counted in ``hub_alerts_dropped_total``,
which the shipped Prometheus rules alert on, through Alertmanager, so a broken chat
channel is noticed on another one.

The same :class:`Notifier` serves the alert relay (``python -m hub.ops.relay``), which
turns Alertmanager's webhooks into the robots' messages: one list of targets for
Prometheus' alerts and the hub's own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

import httpx
import msgspec
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from ._alert_bodies import Alert, body_for, severity_at_least

if TYPE_CHECKING:
    from hub._context import HubContext
    from hub._metrics import Metrics
    from hub._settings import AlertTarget, Settings

_log = logging.getLogger(__name__)

MAX_PER_MESSAGE: Final = 10
JSON: Final = "application/json"
RATE_LIMIT_CODES: Final = frozenset({45009, 130101, 410100})
"""WeCom 45009 (api freq out of limit), DingTalk 130101 and 410100 (sending too fast)."""


class RetryableDeliveryError(Exception):
    """The target may take the message later (transport error, 429, 5xx, rate limit)."""


class RefusedDeliveryError(Exception):
    """The target will never take the message (4xx, a robot's error code): not retried."""


def dingtalk_signed_url(url: str, secret: str, now_ms: int) -> str:
    """``url`` with DingTalk's ``timestamp`` and ``sign`` (HMAC-SHA256 of
    ``"{timestamp}\\n{secret}"``, base64, URL-quoted) for a robot with 加签 on.

    >>> dingtalk_signed_url("https://x/robot/send?access_token=t", "s", 1).split("&")[1:2]
    ['timestamp=1']
    """
    mac = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(mac).decode())
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={now_ms}&sign={sign}"


@dataclass(slots=True)
class _Worker:
    target: AlertTarget
    queue: asyncio.Queue[Alert]
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Options:
    timeout_s: float = 5.0
    attempts: int = 5
    queue_size: int = 1000
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    now_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))


class Notifier:
    """Per-target queues and workers that post alerts; use as an async context manager.

    ``transport`` (an httpx transport) and ``wait_initial_s`` are for tests.
    """

    def __init__(
        self,
        targets: Sequence[AlertTarget],
        metrics: Metrics,
        *,
        timeout_s: float = 5.0,
        attempts: int = 5,
        queue_size: int = 1000,
        wait_initial_s: float = 0.5,
        wait_max_s: float = 30.0,
        now_ms: Callable[[], int] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"alert target names must be unique: {names}")
        self._metrics = metrics
        self._options = _Options(timeout_s, attempts, queue_size, wait_initial_s, wait_max_s)
        if now_ms is not None:
            self._options.now_ms = now_ms
        self._transport = transport
        self._targets = list(targets)
        self._workers: dict[str, _Worker] = {}
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> Notifier:
        return cls(
            settings.alert_targets,
            metrics,
            timeout_s=settings.alert_timeout_s,
            attempts=settings.alert_attempts,
            queue_size=settings.alert_queue,
        )

    @property
    def targets(self) -> list[str]:
        return [t.name for t in self._targets]

    async def __aenter__(self) -> Notifier:
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            transport=self._transport,
            timeout=self._options.timeout_s,
            headers={"User-Agent": "lingtan-hub-alerts"},
        )
        for target in self._targets:
            worker = _Worker(target, asyncio.Queue(self._options.queue_size))
            worker.task = asyncio.create_task(self._run(worker), name=f"alerts:{target.name}")
            self._workers[target.name] = worker
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self, drain_s: float = 5.0) -> None:
        """Give queued alerts ``drain_s`` to go out, then stop the workers."""
        workers, self._workers = list(self._workers.values()), {}
        if workers:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain_s):
                    await asyncio.gather(*(w.queue.join() for w in workers))
        for worker in workers:
            if worker.task is not None:
                worker.task.cancel()
        for worker in workers:
            if worker.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.task
            self._count_dropped(worker.target.name, "shutdown", worker.queue.qsize())
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def submit(self, alert: Alert, *, only: str | None = None) -> int:
        """Queue ``alert`` for its targets (only the one named ``only``, if given); returns
        how many took it. Never blocks and never raises; safe from another thread."""
        workers = [
            w
            for name, w in self._workers.items()
            if (only is None or name == only)
            and (only is not None or severity_at_least(alert, w.target.min_severity))
        ]
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self._enqueue, workers, alert)
            return len(workers)
        return self._enqueue(workers, alert)

    def _enqueue(self, workers: list[_Worker], alert: Alert) -> int:
        taken = 0
        for worker in workers:
            try:
                worker.queue.put_nowait(alert)
                taken += 1
            except asyncio.QueueFull:
                self._count_dropped(worker.target.name, "queue_full", 1)
        return taken

    def _count_dropped(self, target: str, reason: str, count: int) -> None:
        if count:
            self._metrics.alerts_dropped.labels(target=target, reason=reason).inc(count)
            _log.warning("dropped %d alert(s) for target %s: %s", count, target, reason)

    async def _run(self, worker: _Worker) -> None:
        queue = worker.queue
        while True:
            batch = [await queue.get()]
            while len(batch) < MAX_PER_MESSAGE and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._deliver(worker.target, batch)
            except asyncio.CancelledError:
                self._count_dropped(worker.target.name, "shutdown", len(batch))
                raise
            except Exception:  # a bug must not stop the worker for good
                _log.exception("alert delivery to %s failed unexpectedly", worker.target.name)
                self._count_dropped(worker.target.name, "error", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    async def _deliver(self, target: AlertTarget, alerts: list[Alert]) -> None:
        body = body_for(target.kind, alerts, mention=target.mention)

        def retried(state: RetryCallState) -> None:
            self._metrics.alerts_retries.labels(target=target.name).inc()
            error = state.outcome.exception() if state.outcome is not None else None
            _log.info(
                "alert delivery to %s failed (attempt %d): %s; retrying",
                target.name, state.attempt_number, error,
            )  # fmt: skip

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._options.attempts),
            wait=wait_random_exponential(
                multiplier=self._options.wait_initial_s, max=self._options.wait_max_s
            ),
            retry=retry_if_exception_type(RetryableDeliveryError),
            before_sleep=retried,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(target, body)
        except RetryableDeliveryError as exc:
            _log.warning("alert delivery to %s gave up: %s", target.name, exc)
            self._count_dropped(target.name, "attempts", len(alerts))
            return
        except RefusedDeliveryError as exc:
            _log.warning("alert target %s refused the message: %s", target.name, exc)
            self._count_dropped(target.name, "refused", len(alerts))
            return
        self._metrics.alerts_sent.labels(target=target.name).inc()

    async def _post(self, target: AlertTarget, body: dict[str, Any]) -> None:
        assert self._client is not None, "the notifier is not started"
        url = target.url
        if target.kind == "dingtalk" and target.secret:
            url = dingtalk_signed_url(url, target.secret, self._options.now_ms())
        try:
            response = await self._client.post(
                url, content=msgspec.json.encode(body), headers={"Content-Type": JSON}
            )
        except httpx.HTTPError as exc:
            raise RetryableDeliveryError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryableDeliveryError(f"HTTP {status}")
        if status >= 400:
            raise RefusedDeliveryError(f"HTTP {status}: {response.text[:200]}")
        if target.kind in {"wecom", "dingtalk"}:
            # The robots answer 200 with {"errcode": 0, "errmsg": "ok"}, or an error code.
            try:
                answer = msgspec.json.decode(response.content)
            except msgspec.DecodeError as exc:
                raise RefusedDeliveryError(f"not a robot's answer: {response.text[:200]}") from exc
            code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
            if code in RATE_LIMIT_CODES:
                raise RetryableDeliveryError(f"rate limited: errcode {code}")
            if code != 0:
                raise RefusedDeliveryError(f"errcode {code}: {answer.get('errmsg', '')}")


class BreakerEvent(Protocol):
    """What the trading breaker hands its alert hooks (``hub.trading.BreakerAlert``)."""

    @property
    def vpp_id(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def trigger(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def safe_dispatch(self) -> str: ...


def breaker_alert(event: BreakerEvent) -> Alert:
    """The alert for a breaker trip (firing) or reset (resolved): the same name and labels
    as the Prometheus rule ``LingtanTradingBreakerTripped``, so receivers see one alert."""
    tripped = event.event == "trip"
    labels = {"vpp": event.vpp_id}
    if event.trigger:
        labels["trigger"] = event.trigger
    if tripped:
        summary = f"Trading breaker tripped for VPP {event.vpp_id}: {event.reason}"
        description = "Automatic bidding is stopped until a trader resets the breaker."
        if event.safe_dispatch:
            description += f" Dispatch: {event.safe_dispatch}."
    else:
        summary = f"Trading breaker of VPP {event.vpp_id} reset by {event.actor}"
        description = event.reason
    return Alert(
        name="LingtanTradingBreakerTripped",
        severity="critical",
        summary=summary,
        description=description,
        labels=labels,
        status="firing" if tripped else "resolved",
    )


def breaker_hook(ctx: HubContext) -> Callable[[BreakerEvent], None]:
    """A trading alert hook (``TradingRuntime.add_alert_hook``) that notifies."""

    def hook(event: BreakerEvent) -> None:
        alert = breaker_alert(event)
        if alert.status == "resolved":
            alert = msgspec.structs.replace(alert, ends_at_ms=ctx.clock.now_ms())
        notify(ctx, alert)

    return hook


class HookedRuntime(Protocol):
    """The trading runtime's alert-hook list (``hub.trading.TradingRuntime``)."""

    alert_hooks: list[Any]


@contextlib.contextmanager
def breaker_alerts(ctx: HubContext, runtime: HookedRuntime) -> Iterator[None]:
    """While open, the trading breaker's trips and resets go to the alert targets."""
    hook = breaker_hook(ctx)
    runtime.alert_hooks.append(hook)
    try:
        yield
    finally:
        runtime.alert_hooks.remove(hook)


def notify(ctx: HubContext, alert: Alert) -> int:
    """Raise one of the hub's own alerts: logged, then queued for the configured targets.

    Returns how many targets took it (0 with none configured). Never blocks and never
    raises: the caller (a breaker tripping, an edge going offline) goes on at once.
    """
    if alert.starts_at_ms is None:
        alert = msgspec.structs.replace(alert, starts_at_ms=ctx.clock.now_ms())
    log = _log.warning if alert.status == "firing" else _log.info
    log(
        "alert %s %s: %s", alert.status, alert.name, alert.summary,
        extra={"alert": alert.name, "severity": alert.severity, "labels": alert.labels},
    )  # fmt: skip
    notifier = ctx.alerts
    if notifier is None:
        return 0
    try:
        return notifier.submit(alert)
    except Exception:  # never let an alert break its caller
        _log.exception("could not queue alert %s", alert.name)
        return 0


__all__ = [
    "BreakerEvent",
    "Notifier",
    "RefusedDeliveryError",
    "RetryableDeliveryError",
    "breaker_alert",
    "breaker_alerts",
    "breaker_hook",
    "dingtalk_signed_url",
    "notify",
]
