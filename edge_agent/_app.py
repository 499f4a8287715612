"""The agent: the one place that wires devices, guard, schedule, outbox, MQTT and metrics.

What it runs lives in modules named for it: the control cycle (:mod:`._cycle`), downlink
handling (:mod:`._downlink`), commands (:mod:`._commands`) and the pushed-config merge
(:mod:`._pushed_config`); :class:`Agent` holds the state they share and delegates to them.

>>> # async with Agent(load_config("agent.toml"), clock=RealClock()) as agent:
>>> #     await agent.stopped()

Tasks (all owned by one TaskGroup in :meth:`Agent.run`): one runner per device, the hub
link, the control cycle and the metrics server. On the way out the agent releases control
of every device it wrote to (the device returns to its own default) and commits the
outbox, each under a timeout.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Final

from protocol import (
    Birth,
    Command,
    DispatchState,
    DispatchStatus,
    MetricDef,
    Point,
    Reply,
    SiteConfig,
)
from protocol.clock import Clock, RealClock
from protocol.topics import TopicKind

from ._commands import on_command, reply
from ._config import (
    AgentConfig,
    DeviceConfig,
)
from ._control import (
    Decision,
    ManualOverride,
    ScheduleBook,
    Source,
)
from ._cycle import end_executions, on_write, run_cycle
from ._device import DeviceRunner, PointBuffer, WriteOutcome
from ._downlink import on_message, reject
from ._errors import AgentError
from ._execution import ExecutionBook
from ._http import MetricsServer
from ._metrics import AgentMetrics
from ._outbox import FLUSH_TIMEOUT_S, Committed, Outbox, OutboxError
from ._pushed_config import apply_pushed_config
from ._sessions import EvSession
from ._status import device_status
from ._sync import HubLink
from ._telemetry import TelemetryPump
from .devices._base import DeviceAdapter, DeviceStatus

_log = logging.getLogger(__name__)

AGENT_VERSION: Final = "0.1.0"
POINT_BUFFER_MAX: Final = 200_000
BOUNDS_EVERY_S: Final = 60.0
OFFLINE_APPENDED_MAX: Final = 1_000
COMMIT_SLACK: Final = 0.05
"""A commit may come this fraction of ``commit_interval_s`` early (timer jitter)."""

AdapterFactory = Callable[[DeviceConfig], DeviceAdapter]


def default_adapter_factory(config: AgentConfig, clock: Clock) -> AdapterFactory:
    """Adapters for real devices (Modbus TCP or RTU, OPC UA), imported only when needed;
    the RTU devices of one bus share its link."""
    links: list[Any] = []  # the ModbusLinks, made on the first Modbus device

    def create(device: DeviceConfig) -> DeviceAdapter:
        if device.protocol in {"modbus", "modbus_rtu"}:
            from .devices.modbus import ModbusAdapter, ModbusLinks

            if not links:
                links.append(ModbusLinks())
            custom = config.register_maps.get(device.register_map)
            link = links[0].for_device(device)
            modbus: DeviceAdapter = ModbusAdapter(device, custom_map=custom, clock=clock, link=link)
            return modbus
        from .devices.opcua import OpcUaAdapter

        opcua: DeviceAdapter = OpcUaAdapter(device, clock=clock)
        return opcua

    return create


STOP_RETRY_S: Final = 0.25
STOP_ATTEMPTS: Final = int((FLUSH_TIMEOUT_S + 10.0) / STOP_RETRY_S)
"""Shutdown re-cancels the agent's task every 0.25 s, for the final outbox flush's own
bound (:data:`FLUSH_TIMEOUT_S`) plus 10 s for the devices' release before it: with a 10 s
budget, a slow final commit on a loaded machine used it all and the agent was left behind."""


class Agent:
    """One edge agent. ``async with Agent(config) as agent`` runs it in the background."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        adapter_factory: AdapterFactory | None = None,
        metrics: AgentMetrics | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.base_config = config
        self.config = config
        self.config_version = 0
        self.clock: Clock = clock or RealClock()
        self.metrics = metrics or AgentMetrics()
        factory = adapter_factory or default_adapter_factory(config, self.clock)
        self.buffer = PointBuffer(POINT_BUFFER_MAX, self.metrics)
        self.runners: dict[str, DeviceRunner] = {
            dev.id: DeviceRunner(
                dev,
                factory(dev),
                clock=self.clock,
                metrics=self.metrics,
                buffer=self.buffer,
                refresh_lead_s=config.site.control_period_s,
                on_write=self._on_write,
            )
            for dev in config.devices
        }
        self.book = ScheduleBook()
        self.executions = ExecutionBook()
        """What each device did with the instruction in force on it (dispatch/status)."""
        self.outbox = Outbox(
            config.outbox.path,
            quota_bytes=int(config.outbox.quota_mb * 1024 * 1024),
            ttl_s=config.outbox.ttl_days * 86_400,
            retain_on_error=config.outbox.retain_on_error,
        )
        self._own_due_ms: int | None = None
        self.pump = TelemetryPump(
            edge=config.site.edge,
            buffer=self.buffer,
            outbox=self.outbox,
            clock=self.clock,
            uplink=self._uplink,
            own_points=self._own_points,
            linger_s=config.outbox.telemetry_linger_s,
        )
        self.link: HubLink | None = None
        self.http = MetricsServer(
            self.metrics.registry,
            self.health,
            host=config.metrics.host,
            port=config.metrics.port if metrics_port is None else metrics_port,
        )
        self._http_enabled = metrics_port is not None or config.metrics.port != 0
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._manual: dict[str, ManualOverride] = {}
        self.sessions: dict[str, EvSession] = {}
        """EV charging sessions with an energy target by a departure (``ev_session``)."""
        self._replies: collections.OrderedDict[str, Reply] = collections.OrderedDict()
        self._last_contact = self.clock.monotonic()
        self._schedule_end_reported: tuple[str, int] | None = None
        self._offline_stop_reported: tuple[str, int] | None = None
        self.source: dict[str, Source] = {}
        self.cycles = 0
        self.last_decisions: list[Decision] = []
        self._pending_birth = False
        self._appended = asyncio.Event()
        self._lost_counted = 0
        self.storage_error: tuple[str, OutboxError, int] | None = None
        """The failing storage operation, its error and when it was first seen (ms)."""
        self.storage_errors: dict[str, int] = {}
        self._storage_state_sent: tuple[int, str] | None = None
        self._offline_appended: list[Committed] = []
        """Messages appended while the link was down, not yet committed (see _uplink)."""
        self._offline_overflow = False

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Agent:
        self._task = asyncio.create_task(self.run(), name="edge-agent")
        waiter = asyncio.ensure_future(self.started.wait())
        done, _ = await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            waiter.cancel()
            self._task.result()  # raises the startup error
            raise AgentError("the agent stopped during startup")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        # Cancel until it ends: a library may swallow one cancellation (Python 3.11's
        # wait_for inside pymodbus, asyncua and paho wrappers), and shutdown must not hang.
        for _ in range(STOP_ATTEMPTS):
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_RETRY_S)
            if done:
                break
        else:
            _log.error("agent task still running after %d cancellations", STOP_ATTEMPTS)
            return
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run(self) -> None:
        """Run until cancelled (or until a component fails for good)."""
        async with self.outbox:
            self.link = HubLink(
                self.config,
                outbox=self.outbox,
                clock=self.clock,
                metrics=self.metrics,
                on_message=self.on_message,
                births=self.births,
            )
            try:
                if self._http_enabled:
                    await self.http.start()
                async with asyncio.TaskGroup() as tg:
                    for runner in self.runners.values():
                        tg.create_task(runner.run(), name=f"device-{runner.config.id}")
                    tg.create_task(self.link.run(), name="hub-link")
                    tg.create_task(self._control_loop(), name="control")
                    tg.create_task(self._commit_loop(), name="outbox-commit")
                    tg.create_task(self.pump.run(), name="telemetry")
                    tg.create_task(self._upkeep_loop(), name="outbox-upkeep")
                    if self._http_enabled:
                        tg.create_task(self.http.serve(), name="metrics")
                    self.started.set()
            finally:
                # What was polled and not batched yet goes into the final commit.
                self.pump.flush()
                # Each device runner released its device on the way out (under a timeout),
                # so the instructions in force on them end here (done, with the energy so
                # far); the outbox commits what is pending when its context exits.
                self._end_executions("agent stopping: control released")
                _log.info("agent stopped (session %d)", self.outbox.sid)

    # ------------------------------------------------------------------ control cycle

    async def _control_loop(self) -> None:
        """The fixed control cycle. It never awaits storage: commits and upkeep run in
        their own tasks (a failing or slow disk cannot stop local control)."""
        period = self.config.site.control_period_s
        next_at = self.clock.monotonic()
        while True:
            next_at += period
            delay = next_at - self.clock.monotonic()
            if delay < 0:
                self.metrics.cycle_overruns.inc()
                next_at = self.clock.monotonic()
            await self.clock.sleep(max(0.0, delay))
            try:
                self.cycle()
            except Exception:
                # Nothing new is written this cycle; if it keeps failing, the devices'
                # own revert timers lapse and they fall back by themselves.
                _log.exception("control cycle failed")
                self.metrics.cycle_errors.inc()
            self._appended.set()

    async def _commit_loop(self) -> None:
        """Commit what the cycles appended, at most once per ``commit_interval_s``.

        A cycle wakes it; it commits at once when the last commit is at least an interval
        old (on the injected clock, less ``COMMIT_SLACK`` of it), otherwise when it will be.
        So each batch leaves right after its cycle when the interval is the control period,
        instead of falling just short every other cycle (a cycle a few ms early) and
        leaving in pairs.
        """
        interval = self.config.outbox.commit_interval_s
        last: float | None = None
        while True:
            await self._appended.wait()
            if last is not None:
                wait = last + interval - self.clock.monotonic()
                if wait > COMMIT_SLACK * interval:
                    await self.clock.sleep(wait)
            self._appended.clear()
            last = self.clock.monotonic()
            await self.commit()

    async def _upkeep_loop(self) -> None:
        """Outbox upkeep (TTL, quota, file space) every ``BOUNDS_EVERY_S``, in its own task."""
        while True:
            await self.clock.sleep(BOUNDS_EVERY_S)
            await self.enforce_bounds()

    async def commit(self) -> None:
        """Commit the outbox and hand what is now durable to the publisher.

        A storage error is counted and shown in ``/healthz``; the rows stay pending (see
        :class:`Outbox`) and control goes on.
        """
        try:
            committed = await self.outbox.commit()
        except OutboxError as exc:
            self._storage_failed("commit", exc)
            return
        finally:
            self._count_lost()
        self._storage_ok()
        if committed and self.link is not None:
            self.link.after_commit()
        self._publish_offline_appended()

    async def enforce_bounds(self) -> None:
        """One upkeep pass: TTL and quota thinning, free pages back to the file system,
        gauges. A storage error is counted and shown, and the next pass tries again."""
        try:
            thinned = await self.outbox.enforce_bounds(self.clock.now_ms())
            if thinned:
                self.metrics.outbox_downsampled.inc(thinned)
            reclaimed = await self.outbox.reclaim()
            if reclaimed:
                self.metrics.outbox_reclaimed_pages.inc(reclaimed)
            stats = await self.outbox.stats()
        except OutboxError as exc:
            self._storage_failed("upkeep", exc)
            return
        self.metrics.outbox_rows.set(stats.rows)
        self.metrics.outbox_bytes.set(stats.bytes_used)
        self.metrics.outbox_quota_alarm.set(1 if self.outbox.quota_fraction >= 0.9 else 0)

    def _storage_failed(self, op: str, exc: OutboxError) -> None:
        self.metrics.storage_errors.labels(op, exc.kind).inc()
        self.storage_errors[exc.kind] = self.storage_errors.get(exc.kind, 0) + 1
        if self.storage_error is None:
            _log.error("outbox storage failing (%s), control goes on: %s", op, exc)
        self.storage_error = (op, exc, self.clock.now_ms())
        self.metrics.storage_ok.set(0)

    def _storage_ok(self) -> None:
        if self.storage_error is not None:
            _log.info("outbox storage recovered (%d rows lost meanwhile)", self.outbox.lost_rows)
        self.storage_error = None
        self.metrics.storage_ok.set(1)

    def _count_lost(self) -> None:
        lost = self.outbox.lost_rows - self._lost_counted
        if lost > 0:
            self.metrics.outbox_lost_rows.inc(lost)
            self._lost_counted = self.outbox.lost_rows

    def hub_silent_s(self) -> float:
        """Seconds since the hub was last heard from."""
        return max(0.0, self.clock.monotonic() - self._last_contact)

    def hub_fresh(self) -> bool:
        """Whether the hub was heard from within the link watchdog (``site.watchdog_s``)."""
        return self.hub_silent_s() <= self.config.site.watchdog_s

    def cycle(self) -> list[Decision]:
        """One control cycle over a frozen snapshot: decide, guard, hand over, record."""
        return run_cycle(self)

    def _on_write(self, outcome: WriteOutcome) -> None:
        """A device write returned or failed (called from the device runner's task)."""
        on_write(self, outcome)

    def _end_executions(self, reason: str) -> None:
        end_executions(self, reason)

    def report(
        self,
        *,
        schedule_id: str,
        version: int,
        status: DispatchState,
        reason: str = "",
        device: str | None = None,
        instruction_id: str = "",
        p_target_w: float | None = None,
        p_applied_w: float | None = None,
        p_actual_w: float | None = None,
        deviation_w: float | None = None,
        energy_wh: float | None = None,
        started_ts_ms: int | None = None,
    ) -> None:
        """Queue a dispatch status through the outbox (shares the sequence with data)."""
        sid, seq = self.outbox.next_key()
        message = DispatchStatus(
            edge=self.config.site.edge,
            sid=sid,
            seq=seq,
            ts_ms=self.clock.now_ms(),
            schedule_id=schedule_id[:64],
            version=version,
            status=status,
            reason=reason[:1024],
            device=device,
            instruction_id=instruction_id[:64],
            p_target_w=p_target_w,
            p_applied_w=p_applied_w,
            p_actual_w=p_actual_w,
            deviation_w=deviation_w,
            energy_wh=energy_wh,
            started_ts_ms=started_ts_ms,
        )
        self._uplink(self.outbox.append(message))

    def _own_points(self, now_ms: int) -> list[Point]:
        """The agent's own points, once per control cycle (stamped with the cycle's time)."""
        if self._own_due_ms is None:
            return []
        now_ms, self._own_due_ms = self._own_due_ms, None
        edge = self.config.site.edge
        return [
            Point(device=edge, name="agent.cycle", value=self.cycles, ts_ms=now_ms),
            Point(device=edge, name="agent.buffered_points", value=len(self.buffer),
                  ts_ms=now_ms),
            Point(device=edge, name="agent.outbox_lost_rows", value=self.outbox.lost_rows,
                  ts_ms=now_ms),
            Point(device=edge, name="agent.storage_ok", value=self.storage_error is None,
                  ts_ms=now_ms),
        ]  # fmt: skip

    def _uplink(self, committed: Committed) -> None:
        """A message just appended to the outbox: publish it live now (the commit follows).

        Appended while the link is down, it is not published live, and the backlog replay
        of the next connect covers only what was committed by then. So it is kept (bounded)
        and published live by the first commit after the connect that makes it durable.
        """
        self._appended.set()
        link = self.link
        if link is None or not link.connected:
            if len(self._offline_appended) >= OFFLINE_APPENDED_MAX:
                self._offline_appended.pop(0)
                self._offline_overflow = True
            self._offline_appended.append(committed)
        if link is not None:
            link.offer_live([committed])

    def _publish_offline_appended(self) -> None:
        """Publish what was appended while disconnected and committed after the connect."""
        link, upto = self.link, self.outbox.committed_key
        if not self._offline_appended:
            return
        if link is None or not link.connected:
            # committed before the next connect: that connect's backlog replay covers it
            self._offline_appended = [c for c in self._offline_appended
                                      if (c.message.sid, c.message.seq) > upto]  # fmt: skip
            return
        since = link.connected_key
        due = [c for c in self._offline_appended
               if since < (c.message.sid, c.message.seq) <= upto]  # fmt: skip
        self._offline_appended = [c for c in self._offline_appended
                                  if (c.message.sid, c.message.seq) > upto]  # fmt: skip
        if due:
            link.offer_live(due)
        if self._offline_overflow:  # some were not kept: the backlog replay finds them
            self._offline_overflow = False
            link.request_replay(restart=not link.replaying)

    # ------------------------------------------------------------------ downlink

    def on_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Handle one downlink message; bad input is rejected, counted and reported."""
        on_message(self, topic, payload, retained)

    def _contact(self) -> None:
        self._last_contact = self.clock.monotonic()

    def _reject(
        self,
        topic: str,
        reason: str,
        kind: TopicKind | None,
        *,
        schedule_id: str = "",
        version: int = 0,
    ) -> None:
        reject(self, topic, reason, kind, schedule_id=schedule_id, version=version)

    def _on_config(self, pushed: SiteConfig) -> None:
        apply_pushed_config(self, pushed)

    def _on_command(self, cmd: Command, topic_device: str | None) -> None:
        on_command(self, cmd, topic_device)

    def _reply(self, rep: Reply) -> None:
        reply(self, rep)

    # ------------------------------------------------------------------ introspection

    def births(self, *, only_due: bool = False) -> list[Birth]:
        """The edge's birth and each device's (``only_due``: devices newly online only)."""
        edge, sid, now = self.config.site.edge, self.outbox.sid, self.clock.now_ms()
        metrics: list[MetricDef] = [
            MetricDef(name="agent.cycle", dtype="int", description="control cycles run"),
            MetricDef(name="agent.buffered_points", dtype="int"),
            MetricDef(name="agent.outbox_lost_rows", dtype="int",
                      description="rows whose seqs were allocated but never stored (storage "
                      "errors); the hub sees the gap through floor_seq"),
            MetricDef(name="agent.storage_ok", dtype="bool",
                      description="false while outbox writes fail (disk full, read-only, I/O)"),
        ]  # fmt: skip
        out = [] if only_due else [
            Birth(edge=edge, sid=sid, ts_ms=now, agent_version=AGENT_VERSION, metrics=metrics)
        ]  # fmt: skip
        for dev, runner in self.runners.items():
            if only_due and not runner.birth_due:
                continue
            runner.birth_due = False
            try:
                catalogue = runner.adapter.metrics()
            except AgentError:
                catalogue = []
            out.append(
                Birth(edge=edge, device=dev, sid=sid, ts_ms=now, device_kind=runner.config.kind,
                      protocol=runner.config.protocol, agent_version=AGENT_VERSION,
                      metrics=catalogue[:2000])
            )  # fmt: skip
        return out

    def health(self) -> dict[str, object]:
        sched = self.book.schedule
        online = sum(1 for r in self.runners.values() if r.status is DeviceStatus.ONLINE)
        return {
            "ok": self.started.is_set(),
            "edge": self.config.site.edge,
            "sid": self.outbox.sid,
            "mqtt_connected": bool(self.link and self.link.connected),
            "hub_fresh": self.hub_fresh(),
            "devices": {d: r.status.value for d, r in self.runners.items()},
            "device_status": device_status(
                self.runners, self.last_decisions, self.clock.now(), self.sessions
            ),
            "devices_online": online,
            "outbox_pending_commit": self.outbox.pending,
            "storage": self._storage_health(),
            "outbox_bytes": self.outbox.bytes_used,
            "last_ack": list(self.outbox.last_ack) if self.outbox.last_ack else None,
            "schedule": {
                "id": sched.id,
                "version": sched.version,
                "expires_ts_ms": sched.expires_ts_ms,
            }
            if sched
            else None,
            "config_version": self.config_version,
            "control": dict(self.source),
            "cycles": self.cycles,
            "pid": os.getpid(),
            "uptime_s": round(time.monotonic() - _STARTED, 1),
        }

    def _storage_health(self) -> dict[str, object]:
        failing = self.storage_error
        return {
            "ok": failing is None,
            "failing_op": failing[0] if failing else None,
            "error": str(failing[1]) if failing else None,
            "kind": failing[1].kind if failing else None,
            "since_ms": failing[2] if failing else None,
            "errors": dict(self.storage_errors),
            "lost_rows": self.outbox.lost_rows,
            "lost_seqs": [list(r) for r in self.outbox.lost_seqs],
        }


_STARTED = time.monotonic()


__all__ = ["AGENT_VERSION", "AdapterFactory", "Agent", "default_adapter_factory"]
