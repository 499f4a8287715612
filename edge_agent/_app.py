"""The agent: the one place that wires devices, guard, schedule, outbox, MQTT and metrics.

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
from typing import Any, Final, Literal, assert_never

import msgspec

from protocol import (
    Ack,
    Birth,
    Command,
    DispatchSchedule,
    DispatchState,
    DispatchStatus,
    HubState,
    MetricDef,
    Point,
    ProtocolError,
    Reply,
    SiteConfig,
    State,
    decode_as,
    encode,
    sniff_encoding,
)
from protocol.clock import Clock, RealClock
from protocol.topics import TopicError, TopicKind, parse

from ._config import (
    AgentConfig,
    DefaultControlConfig,
    DeviceConfig,
    DeviceLimitsConfig,
    SiteLimitsConfig,
)
from ._control import (
    CycleInput,
    Decision,
    ManualOverride,
    ScheduleBook,
    Source,
    decide,
    is_controllable,
)
from ._device import DeviceRunner, PointBuffer, WriteOutcome
from ._errors import AgentError, ConfigError
from ._execution import ExecutionBook, Report, Step
from ._http import MetricsServer
from ._metrics import AgentMetrics
from ._outbox import Committed, Outbox, OutboxError
from ._safety import Applied, Clamped, Rejected
from ._status import device_status
from ._sync import HubLink
from ._telemetry import TelemetryPump
from .devices._base import DeviceAdapter, DeviceStatus, Setpoint

_log = logging.getLogger(__name__)

AGENT_VERSION: Final = "0.1.0"
POINT_BUFFER_MAX: Final = 200_000
REPLY_CACHE_MAX: Final = 1_024
BOUNDS_EVERY_S: Final = 60.0
OFFLINE_APPENDED_MAX: Final = 1_000
COMMIT_SLACK: Final = 0.05
"""A commit may come this fraction of ``commit_interval_s`` early (timer jitter)."""

AdapterFactory = Callable[[DeviceConfig], DeviceAdapter]


def default_adapter_factory(config: AgentConfig, clock: Clock) -> AdapterFactory:
    """Adapters for real devices (Modbus TCP or OPC UA), imported only when needed."""

    def create(device: DeviceConfig) -> DeviceAdapter:
        if device.protocol == "modbus":
            from .devices.modbus import ModbusAdapter

            custom = config.register_maps.get(device.register_map)
            modbus: DeviceAdapter = ModbusAdapter(device, custom_map=custom, clock=clock)
            return modbus
        from .devices.opcua import OpcUaAdapter

        opcua: DeviceAdapter = OpcUaAdapter(device, clock=clock)
        return opcua

    return create


def merge_site_config(base: AgentConfig, pushed: SiteConfig) -> AgentConfig:
    """The local config narrowed by a config pushed from the hub (raises ConfigError).

    Site and device limits only narrow the local ones; default control and watchdog are
    replaced.
    """
    known = {d.id for d in base.devices}
    for index, dl in enumerate(pushed.device_limits):
        if dl.device not in known:
            raise ConfigError(
                f"unknown device {dl.device!r}", field=f"$.device_limits[{index}].device"
            )
    ls, ps = base.site.limits, pushed.site_limits
    ramps = [r for r in (ls.ramp_w_per_s, ps.ramp_w_per_s) if r is not None]
    soc_min, soc_max = max(ls.soc_min_pct, ps.soc_min_pct), min(ls.soc_max_pct, ps.soc_max_pct)
    if soc_min > soc_max:
        raise ConfigError("site SoC window is empty once merged", field="$.site_limits")
    limits = SiteLimitsConfig(
        import_max_w=min(ls.import_max_w, ps.import_max_w),
        export_max_w=min(ls.export_max_w, ps.export_max_w),
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        ramp_w_per_s=min(ramps) if ramps else None,
    )
    by_dev = {dl.device: dl for dl in pushed.device_limits}
    devices = []
    for dev in base.devices:
        if dev.id not in by_dev:
            devices.append(dev)
            continue
        dl, mine = by_dev[dev.id], dev.limits
        d_ramps = [r for r in (mine.ramp_w_per_s, dl.ramp_w_per_s) if r is not None]
        lo, hi = max(mine.soc_min_pct, dl.soc_min_pct), min(mine.soc_max_pct, dl.soc_max_pct)
        if lo > hi:
            raise ConfigError(f"SoC window of {dev.id} is empty once merged",
                              field="$.device_limits")  # fmt: skip
        t_max = [t for t in (mine.temp_max_c, dl.temp_max_c) if t is not None]
        t_start = [t for t in (mine.temp_derate_start_c, dl.temp_derate_start_c) if t is not None]
        try:
            narrowed = DeviceLimitsConfig(
                p_max_discharge_w=min(mine.p_max_discharge_w, dl.p_max_discharge_w),
                p_max_charge_w=min(mine.p_max_charge_w, dl.p_max_charge_w),
                soc_min_pct=lo,
                soc_max_pct=hi,
                ramp_w_per_s=min(d_ramps) if d_ramps else None,
                temp_derate_start_c=min(t_start) if t_start else None,
                temp_max_c=min(t_max) if t_max else None,
                revert_s=mine.revert_s,
            )
        except ValueError as exc:
            raise ConfigError(str(exc), field="$.device_limits") from exc
        devices.append(msgspec.structs.replace(dev, limits=narrowed))
    default = DefaultControlConfig(
        mode=pushed.default_control.mode, peak_limit_w=pushed.default_control.peak_limit_w
    )
    site = msgspec.structs.replace(
        base.site, limits=limits, default_control=default, watchdog_s=pushed.watchdog_s
    )
    return msgspec.structs.replace(base, site=site, devices=devices)


STOP_ATTEMPTS: Final = 40
STOP_RETRY_S: Final = 0.25
"""Shutdown re-cancels the agent's task every 0.25 s, at most 40 times (10 s)."""


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
        self.cycles += 1
        now_ms = self.clock.now_ms()
        views = {dev: runner.view() for dev, runner in self.runners.items()}
        silent = self.hub_silent_s()
        decisions = decide(
            self.config,
            self.book,
            CycleInput(
                now_ms=now_ms,
                views=views,
                hub_silent_s=silent,
                dt_s=self.config.site.control_period_s,
                manual=self._manual,
            ),
        )
        for decision in decisions:
            self._apply(decision)
        self._follow_executions(decisions, now_ms)
        self.last_decisions = decisions
        self._report_schedule_end(now_ms, silent)
        for source in ("manual", "schedule", "default", "watchdog"):
            active = any(d.source == source for d in decisions)
            self.metrics.control_mode.labels(source).set(1 if active else 0)
        self._own_due_ms = now_ms  # the agent's own points join the next batch
        self.buffer.arrived.set()
        self._device_births()
        self._state_storage()
        return decisions

    def _state_storage(self) -> None:
        """Say in the retained ``state`` that storage fails (and once that it recovered).

        The link publishes ``state`` on every connect without it, so while storage fails it
        is said again after each reconnect.
        """
        link = self.link
        if link is None or not link.connected:
            return
        failing = self.storage_error
        text = f"{failing[1].kind}: {failing[1]}"[:256] if failing else ""
        key = (link.connects, text)
        sent = self._storage_state_sent
        if key == sent or (not text and (sent is None or sent[1] == "")):
            return  # said already, or never failed (the link's own state says all is well)
        self._storage_state_sent = key
        state = State(online=True, sid=self.outbox.sid, ts_ms=self.clock.now_ms(),
                      storage_error=text)  # fmt: skip
        link.send_control(link.topics.state, encode(state), retain=True)

    def _device_births(self) -> None:
        """Publish the birth of each device that came online since the last cycle."""
        link = self.link
        if link is None or not link.connected:
            return
        for birth in self.births(only_due=True):
            if birth.device is not None:
                link.send_control(link.topics.device_birth(birth.device), encode(birth),
                                  retain=True)  # fmt: skip

    def _apply(self, decision: Decision) -> None:
        runner = self.runners[decision.device]
        self.source[decision.device] = decision.source
        now_s = self.clock.now()
        actual = runner.reading.p_w if runner.reading is not None else None
        step: Step | None = None
        if decision.source in {"schedule", "manual"}:
            step = Step(
                key=decision.instruction_id
                if decision.source == "schedule"
                else f"manual:{decision.instruction_id}",
                schedule_id=decision.schedule_id or f"manual:{decision.instruction_id}",
                version=decision.version,
                instruction_id=decision.instruction_id,
                target_w=decision.requested_w,
                result=decision.result,
            )
        limits = runner.config.limits
        rating = max(limits.p_max_discharge_w, limits.p_max_charge_w)
        self._send(self.executions.decided(decision.device, step, now_s, actual, rating))
        match decision.result:
            case Applied(p_w=p):
                pass
            case Clamped(p_w=p, reason=reason):
                self.metrics.clamps.labels(reason).inc()
            case Rejected():
                return
            case _ as unreachable:
                assert_never(unreachable)
        if step is not None:
            self.executions.submitted(decision.device, p)
        held = runner.submit(Setpoint(p, runner.config.limits.revert_s))
        if held is not None and step is not None:  # already written, revert still fresh
            self._send(self.executions.written(decision.device, p, held.p_w, "", now_s, actual))

    def _on_write(self, outcome: WriteOutcome) -> None:
        """A device write returned or failed (called from the device runner's task)."""
        runner = self.runners.get(outcome.device)
        actual = runner.reading.p_w if runner is not None and runner.reading else None
        accepted = outcome.result.p_w if outcome.result is not None else None
        self._send(
            self.executions.written(
                outcome.device, outcome.setpoint.p_w, accepted, outcome.error,
                outcome.ts_ms / 1000.0, actual,
            )
        )  # fmt: skip

    def _follow_executions(self, decisions: list[Decision], now_ms: int) -> None:
        """Integrate the polls of running instructions, report their power when due, and
        end those no longer in force on a device that got no decision this cycle."""
        now_s = now_ms / 1000.0
        decided = {d.device for d in decisions}
        in_force = self.book.targets_at(now_ms)
        for device, ex in list(self.executions.running.items()):
            runner = self.runners[device]
            reading = runner.reading
            p = reading.p_w if reading is not None else None
            self._send(self.executions.polled(device, runner.reading_ts, p, now_s))
            if device in decided:
                continue
            key = ex.step.key
            if key.startswith("manual:"):
                manual = self._manual.get(device)
                alive = (
                    manual is not None
                    and manual.expires_ms > now_ms
                    and f"manual:{manual.cid}" == key
                )
            else:
                target = in_force[1].get(device) if in_force is not None else None
                alive = target is not None and target[1] == ex.step.instruction_id
            if not alive:
                self._send(self.executions.end(device, now_s, "instruction ended"))

    def _end_executions(self, reason: str) -> None:
        now_s = self.clock.now()
        try:
            for device in list(self.executions.running):
                self._send(self.executions.end(device, now_s, reason))
        except Exception:  # shutdown goes on whatever the outbox says
            _log.exception("could not report the end of the running instructions")

    def _send(self, reports: list[Report]) -> None:
        for r in reports:
            self.report(
                schedule_id=r.schedule_id,
                version=r.version,
                status=r.status,
                reason=r.reason,
                device=r.device,
                instruction_id=r.instruction_id,
                p_target_w=r.p_target_w,
                p_applied_w=r.p_applied_w,
                p_actual_w=r.p_actual_w,
                deviation_w=r.deviation_w,
                energy_wh=r.energy_wh,
                started_ts_ms=r.started_ts_ms,
            )

    def _report_schedule_end(self, now_ms: int, hub_silent_s: float) -> None:
        """Report once that the schedule ended, expired, or was stopped by its own
        ``max_offline_s`` (default control in force in each case)."""
        sched = self.book.schedule
        if sched is None:
            return
        state = self.book.finished(now_ms)
        key = (sched.id, sched.version)
        if state in {"done", "expired"}:
            if self._schedule_end_reported != key:
                self._schedule_end_reported = key
                status: DispatchState = "done" if state == "done" else "expired"
                reason = "schedule ended" if state == "done" else "schedule expired"
                self.report(schedule_id=sched.id, version=sched.version, status=status,
                            reason=f"{reason}: default control in force")  # fmt: skip
            return
        if state != "running":
            return
        if not self.book.offline_stopped(hub_silent_s):
            self._offline_stop_reported = None  # followed again once the hub is back
            return
        if self._offline_stop_reported != key:
            self._offline_stop_reported = key
            self.report(
                schedule_id=sched.id,
                version=sched.version,
                status="expired",
                reason=f"hub silent for more than the schedule's max_offline_s "
                f"({sched.max_offline_s:g} s): default control in force",
            )

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

    def on_message(self, topic: str, payload: bytes, retained: bool = False) -> None:  # noqa: PLR0912
        """Handle one downlink message; bad input is rejected, counted and reported."""
        try:
            parsed = parse(topic)
        except TopicError:
            self._reject("unknown", "unknown topic", None)
            return
        encoding = sniff_encoding(payload)
        kind = parsed.kind
        try:
            match kind:
                case TopicKind.HUB_STATE:
                    hub = decode_as(payload, HubState, encoding)
                    if not retained:
                        self._contact()
                    if self.link is not None:
                        self.link.set_hub_online(hub.online)
                case TopicKind.ACK:
                    ack = decode_as(payload, Ack, encoding)
                    if ack.edge != self.config.site.edge:
                        self._reject("ack", f"ack for edge {ack.edge!r}", None)
                        return
                    self._contact()
                    self.outbox.ack(ack.sid, ack.seq)
                    if self.link is not None:
                        self.link.acked(ack.sid, ack.seq)
                case TopicKind.DISPATCH:
                    if not retained:
                        self._contact()
                    self._on_dispatch(decode_as(payload, DispatchSchedule, encoding))
                case TopicKind.CONFIG:
                    if not retained:
                        self._contact()
                    self._on_config(decode_as(payload, SiteConfig, encoding))
                case TopicKind.CMD:
                    self._contact()
                    self._on_command(decode_as(payload, Command, encoding), parsed.device)
                case _:
                    self._reject(str(kind), "not a downlink topic", None)
        except ProtocolError as exc:
            self._reject(str(kind), f"malformed {kind} message: {exc}", kind)

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
        label = _reason_label(reason)
        self.metrics.rejections.labels(topic, label).inc()
        _log.warning("rejected %s input: %s", topic, reason)
        if kind is TopicKind.CMD:
            self._reply(Reply(cid="invalid", ok=False, code="rejected", message=reason[:1024],
                              ts_ms=self.clock.now_ms()))  # fmt: skip
        elif kind in {TopicKind.DISPATCH, TopicKind.CONFIG}:
            self.report(schedule_id=schedule_id, version=version, status="rejected",
                        reason=reason)  # fmt: skip

    def _on_dispatch(self, schedule: DispatchSchedule) -> None:
        controllable = {d.id: d for d in self.config.devices if is_controllable(d)}
        verdict = self.book.check(
            schedule,
            edge=self.config.site.edge,
            controllable=controllable,
            known=set(self.runners),
            now_ms=self.clock.now_ms(),
        )
        if verdict.duplicate:
            return
        if not verdict.accepted:
            self._reject("dispatch", verdict.reason, TopicKind.DISPATCH,
                         schedule_id=schedule.id, version=schedule.version)  # fmt: skip
            return
        previous = self.book.accept(schedule)
        if previous is not None:
            self.report(schedule_id=previous.id, version=previous.version, status="superseded",
                        reason=f"superseded by {schedule.id} v{schedule.version}")  # fmt: skip
        self.report(schedule_id=schedule.id, version=schedule.version, status="accepted")
        for device in verdict.ignored:  # the rest of the schedule runs without them
            reason = f"device {device!r} cannot be controlled: its targets are ignored"
            self.metrics.rejections.labels("dispatch", _reason_label(reason)).inc()
            self.report(schedule_id=schedule.id, version=schedule.version, status="rejected",
                        reason=reason, device=device)  # fmt: skip
        _log.info("schedule %s v%d accepted", schedule.id, schedule.version)

    def _on_config(self, pushed: SiteConfig) -> None:
        extra: dict[str, Any] = {"schedule_id": "config", "version": pushed.version}
        if pushed.edge != self.config.site.edge:
            self._reject("config", f"config is for edge {pushed.edge!r}", TopicKind.CONFIG,
                         **extra)  # fmt: skip
            return
        if pushed.version == self.config_version:
            return  # retained redelivery
        if pushed.version < self.config_version:
            reason = f"stale config version {pushed.version}: {self.config_version} is in force"
            self._reject("config", reason, TopicKind.CONFIG, **extra)
            return
        try:
            merged = merge_site_config(self.base_config, pushed)
        except ConfigError as exc:
            self._reject("config", f"invalid config: {exc}", TopicKind.CONFIG, **extra)
            return
        self.config = merged
        self.config_version = pushed.version
        for dev in merged.devices:
            self.runners[dev.id].config = dev
        self.report(schedule_id="config", version=pushed.version, status="accepted",
                    reason="config applied")  # fmt: skip
        _log.info("config version %d applied", pushed.version)

    def _on_command(self, cmd: Command, topic_device: str | None) -> None:
        cached = self._replies.get(cmd.cid)
        if cached is not None:  # idempotent by cid: the same answer, nothing re-executed
            self._send_reply(cmd.reply_to, cached)
            return
        ok, code, message, result = self._execute(cmd, topic_device)
        rep = Reply(cid=cmd.cid, ok=ok, code=code, message=message, result=result,
                    ts_ms=self.clock.now_ms())  # fmt: skip
        self._replies[cmd.cid] = rep
        while len(self._replies) > REPLY_CACHE_MAX:
            self._replies.popitem(last=False)
        if not ok:
            self.metrics.rejections.labels("cmd", code).inc()
        self._send_reply(cmd.reply_to, rep)

    def _execute(  # noqa: PLR0911
        self, cmd: Command, topic_device: str | None
    ) -> tuple[bool, ReplyCode, str, dict[str, float | int | str | bool]]:
        now_ms = self.clock.now_ms()
        if topic_device != cmd.device:
            return False, "rejected", f"device {cmd.device!r} does not match the topic", {}
        if cmd.expires_ts_ms <= now_ms:
            return False, "expired", f"command expired at {cmd.expires_ts_ms} (now {now_ms})", {}
        runner = self.runners.get(cmd.device)
        if runner is None:
            return False, "unknown_device", f"unknown device {cmd.device!r}", {}
        match cmd.op:
            case "ping":
                return True, "ok", "", {"status": runner.status.value}
            case "read":
                values = runner.reading.values if runner.reading else {}
                return (
                    True,
                    "ok",
                    "",
                    {k: v for k, v in values.items() if isinstance(v, int | float | str)},
                )
            case "set_power":
                raw = cmd.args.get("p_w")
                if not is_controllable(runner.config):
                    return False, "unsupported", f"device {cmd.device!r} cannot be controlled", {}
                if isinstance(raw, bool) or not isinstance(raw, int | float):
                    return False, "rejected", "args.p_w must be a number (W)", {}
                self._manual[cmd.device] = ManualOverride(float(raw), cmd.expires_ts_ms, cmd.cid)
                message = "setpoint in force until expires_ts_ms, within the SafetyGuard"
                return True, "ok", message, {"p_w": float(raw)}
            case "release":
                self._manual.pop(cmd.device, None)
                return True, "ok", "manual setpoint released", {}
            case _:
                return False, "unsupported", f"unknown op {cmd.op!r}", {}

    def _reply(self, rep: Reply) -> None:
        if self.link is not None:
            self.link.send_control(self.link.topics.reply, encode(rep))

    def _send_reply(self, reply_to: str, rep: Reply) -> None:
        if self.link is None:
            return
        topic = (
            reply_to
            if _reply_topic_ok(reply_to, self.link.topics.base)
            else (self.link.topics.reply)
        )
        self.link.send_control(topic, encode(rep))

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
            "device_status": device_status(self.runners, self.last_decisions, self.clock.now()),
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

ReplyCode = Literal["ok", "rejected", "expired", "unknown_device", "unsupported", "error"]


def _reply_topic_ok(reply_to: str, base: str) -> bool:
    """Whether ``reply_to`` is a topic we may publish to: under our own tree, no wildcard.

    Anything else (``+``/``#`` would make the MQTT client raise, NUL is invalid) gets the
    reply on the edge's own reply topic instead.
    """
    return (
        reply_to.startswith(base + "/")
        and not any(c in reply_to for c in "+#\x00")
        and len(reply_to.encode()) <= 65_535
    )


def _reason_label(reason: str) -> str:
    """A low-cardinality metric label for a rejection reason (its first words)."""
    head = reason.split(":", maxsplit=1)[0]
    words = [w for w in head.split() if not any(c.isdigit() for c in w) and "'" not in w]
    return " ".join(words[:4])[:60] or "invalid"


__all__ = ["AGENT_VERSION", "AdapterFactory", "Agent", "default_adapter_factory",
           "merge_site_config"]  # fmt: skip
