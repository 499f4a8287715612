"""OpenADR 2.0b VEN (openleadr): registers with a VTN, turns its events into dispatch plans
through the one dispatch seam, opts in or out by the VPP's available capacity and reports
the VPP's measured power.

openleadr is pinned exactly (0.5.36) and used only here, behind :class:`OpenAdrVen`:

* its ``run()`` gives up for good when the first registration fails and polls from an
  APScheduler job that a stop cancels mid-request; the VEN drives registration and polling
  itself instead (:meth:`OpenAdrVen._run`): registration retried with a doubling backoff,
  a poll loop that re-registers after :data:`REREGISTER_AFTER` failed polls in a row;
* its requests swallow every transport and parse error (logged, an empty answer); the
  subclass :class:`_Client` counts them in ``hub_openadr_errors_total`` at that one seam
  and states the timeout (``request_timeout_s``, connect and answer together);
* its scheduler still runs the telemetry report jobs at the sampling period the VTN asks
  for; the report's value comes from the hub's live cache.

A malformed event never reaches the dispatch seam: it is counted
(``hub_openadr_errors_total{kind="malformed_event"}``), opted out of and audited with the
field that was wrong. Every decision is audited (``openadr_event`` on the VPP) with its
reason and the instructions it stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec
from openleadr import OpenADRClient, enums, objects, utils

from hub.auth import SYSTEM, Principal, audit
from hub.dispatch import DispatchPlan, submit_plan
from hub.errors import HubError
from hub.store import Vpp
from hub.vpps import AggregatedParams, MemberState, aggregate, member_state, vpp_members

from ._openadr_config import OpenAdrVenConfig
from ._openadr_events import (
    Decision,
    DrEvent,
    MalformedEventError,
    decide,
    parse_event,
    storage_energy,
)

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)
# openleadr sets its logger to INFO at import and logs every message it sends in full.
logging.getLogger("openleadr").setLevel(logging.WARNING)

REREGISTER_AFTER = 3
"""Failed polls in a row after which the VEN registers again (the VTN may have restarted
and forgotten it)."""


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the VEN answered to one event (newest last in :attr:`OpenAdrVen.decisions`)."""

    event_id: str
    modification_number: int
    opt: str
    reason: str
    instruction_ids: tuple[str, ...] = ()


class _SampledReports(asyncio.Queue[Any]):
    """openleadr's queue of reports to send, without the empty ones (a sampling with no
    measured value): openleadr would send a report without intervals, which its own VTN
    answers with a 500."""

    async def put(self, item: Any) -> None:
        if getattr(item, "intervals", None):
            await super().put(item)


class _Client(OpenADRClient):  # type: ignore[misc]
    """openleadr's client with its request seam counted and its timeout stated."""

    client_session: aiohttp.ClientSession | None

    def __init__(self, *, on_result: Any, timeout_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_result = on_result
        self._timeout_s = timeout_s
        self.pending_reports = _SampledReports()

    async def _perform_request(self, service: str, message: Any) -> tuple[Any, Any]:
        result = await super()._perform_request(service, message)
        if result is None:  # an empty body: openleadr returns None, its callers unpack two
            self._on_result(service, ok=False)
            return None, {}
        self._on_result(service, ok=result[0] is not None)
        return result  # type: ignore[no-any-return]

    async def _ensure_client_session(self) -> None:
        if self.client_session is not None:
            return
        context: ssl.SSLContext | None = None
        if self.cert_path or self.ca_file:
            context = ssl.create_default_context(cafile=self.ca_file)
            context.check_hostname = self.check_hostname
            if self.cert_path:
                context.load_cert_chain(self.cert_path, self.key_path, self.passphrase)
        self.client_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context) if context is not None else None,
            headers={"content-type": "application/xml"},
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
        )


def _power_real_kw() -> Any:
    """powerReal in kW (a copy: openleadr writes the scale into the measurement it gets)."""
    base = enums.MEASUREMENTS.POWER_REAL
    return dataclasses.replace(
        base,
        scale="k",
        power_attributes=objects.PowerAttributes(hertz=50, voltage=220, ac=True),
    )


class OpenAdrVen:
    """One VEN of one VPP in one DR program. :meth:`start` returns at once (registration
    runs in the background, retried until it succeeds); :meth:`stop` ends it cleanly."""

    def __init__(self, ctx: HubContext, config: OpenAdrVenConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.label = config.connector_id or config.ven_name
        self.decisions: list[EventRecord] = []
        self.registered = asyncio.Event()
        self.ven_id: str | None = config.ven_id
        self._client: _Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing: set[str] = set()
        self._failed_polls = 0
        self._answered: dict[tuple[str, int], str] = {}
        """(event id, modification number) -> the opt sent: a new client (after a
        re-registration) is handed the open events again, and they are not planned twice."""
        self._who = Principal(
            user_id=SYSTEM.user_id, username=f"openadr:{config.ven_name}"[:100], role=SYSTEM.role
        )
        metrics = ctx.metrics
        self._errors = metrics.openadr_errors
        self._events = metrics.openadr_events
        self._registered_gauge = metrics.openadr_registered.labels(self.label)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"openadr-ven-{self.label}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_registered(False)

    async def _run(self) -> None:
        backoff = self.config.retry_s
        while True:
            client: _Client | None = None
            try:
                client = self._client = self._new_client()  # reads the certificate files
                if await self._register(client):
                    backoff = self.config.retry_s
                    await self._poll_until_lost(client)
                else:
                    self._errors.labels(self.label, "registration").inc()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._errors.labels(self.label, "registration").inc()
                _log.exception("OpenADR VEN %s: registration with %s failed", self.label,
                               self.config.vtn_url)  # fmt: skip
            finally:
                self._set_registered(False)
                self._client = None
                if client is not None:
                    await self._close(client)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.config.retry_max_s)

    def _new_client(self) -> _Client:
        c = self.config
        client = _Client(
            on_result=self._request_result,
            timeout_s=c.request_timeout_s,
            ven_name=c.ven_name,
            vtn_url=c.vtn_url,
            ven_id=self.ven_id,
            cert=c.cert,
            key=c.key,
            passphrase=c.passphrase,
            ca_file=c.ca_file,
            vtn_fingerprint=c.vtn_fingerprint,
            check_hostname=c.check_hostname,
            show_fingerprint=False,
            disable_signature=not (c.cert and c.key),
        )
        client.add_handler("on_event", self._on_event)
        client.add_handler("on_update_event", self._on_event)
        client.add_report(
            callback=self._report_value,
            resource_id=c.vpp_id,
            measurement=_power_real_kw(),
            scale="k",
            unit="W",
            report_name=enums.REPORT_NAME.TELEMETRY_USAGE,
            reading_type=enums.READING_TYPE.DIRECT_READ,
            report_type=enums.REPORT_TYPE.READING,
            report_duration=dt.timedelta(seconds=c.report_max_s),
            report_specifier_id=f"{c.ven_name}-telemetry",
            r_id=f"{c.vpp_id}-power",
            sampling_rate=objects.SamplingRate(
                min_period=dt.timedelta(seconds=c.report_min_s),
                max_period=dt.timedelta(seconds=c.report_max_s),
                on_change=False,
            ),
        )
        return client

    async def _register(self, client: _Client) -> bool:
        """Query, register, offer the telemetry report, start its jobs, sync events."""
        loop = asyncio.get_running_loop()
        client.loop = loop
        _, payload = await client.query_registration()
        response = payload.get("response") if isinstance(payload, dict) else None
        request_id = response.get("request_id") if isinstance(response, dict) else None
        await client.create_party_registration(ven_id=client.ven_id, request_id=request_id)
        if not client.registration_id:
            return False
        self.ven_id = client.ven_id
        await client.register_reports(client.reports)
        client.report_queue_task = loop.create_task(client._report_queue_worker())
        client.scheduler.start()
        await client.sync_events()
        self._set_registered(True)
        _log.info("OpenADR VEN %s registered with %s as %s", self.label, self.config.vtn_url,
                  client.ven_id)  # fmt: skip
        return True

    async def _poll_until_lost(self, client: _Client) -> None:
        """Poll at the VTN's frequency until the VTN cancels the registration or polls fail
        :data:`REREGISTER_AFTER` times in a row."""
        period = self.config.poll_s
        if period is None:
            freq = client.poll_frequency
            period = freq.total_seconds() if isinstance(freq, dt.timedelta) else 10.0
        period = min(max(period, 0.1), 86400.0)
        self._failed_polls = 0
        while client.registration_id:
            try:
                await client._poll()
            except Exception:
                self._errors.labels(self.label, "poll").inc()
                self._failed_polls += 1
                _log.exception("OpenADR VEN %s: handling a poll answer failed", self.label)
            if self._failed_polls >= REREGISTER_AFTER:
                _log.warning("OpenADR VEN %s: %d polls failed, registering again", self.label,
                             self._failed_polls)  # fmt: skip
                return
            await asyncio.sleep(period)

    async def _close(self, client: _Client) -> None:
        with contextlib.suppress(Exception):
            if client.scheduler.running:
                client.scheduler.shutdown(wait=False)
        task = client.report_queue_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if client.client_session is not None:
            await client.client_session.close()

    def _set_registered(self, value: bool) -> None:
        self._registered_gauge.set(1 if value else 0)
        if value:
            self.registered.set()
        else:
            self.registered.clear()

    def _request_result(self, service: str, *, ok: bool) -> None:
        """Every request to the VTN: failures counted, logged once, the recovery once."""
        if service == "OadrPoll":
            self._failed_polls = 0 if ok else self._failed_polls + 1
        if ok:
            if service in self._failing:
                self._failing.discard(service)
                _log.info("OpenADR VEN %s: %s works again", self.label, service)
            return
        self._errors.labels(self.label, f"request:{service}").inc()
        if service not in self._failing:
            self._failing.add(service)
            _log.warning("OpenADR VEN %s: a %s request to %s failed (see openleadr's log)",
                         self.label, service, self.config.vtn_url)  # fmt: skip

    # -- events --------------------------------------------------------------------------

    async def _on_event(self, raw: Any) -> str:
        """openleadr's on_event/on_update_event: 'optIn' or 'optOut', never an exception."""
        try:
            event = parse_event(raw)
        except MalformedEventError as err:
            self._errors.labels(self.label, "malformed_event").inc()
            event_id = _event_id(raw)
            _log.warning("OpenADR VEN %s: malformed event %s refused: %s", self.label, event_id,
                         err)  # fmt: skip
            record = EventRecord(
                event_id=event_id, modification_number=-1, opt="optOut",
                reason=f"malformed event: {err}",
            )  # fmt: skip
            await self._record(record, None)
            return "optOut"
        key = (event.event_id, event.modification_number)
        if key in self._answered:
            return self._answered[key]
        try:
            decision, ids = await self._serve(event)
        except Exception as err:
            self._errors.labels(self.label, "event").inc()
            _log.exception("OpenADR VEN %s: event %s could not be served", self.label,
                           event.event_id)  # fmt: skip
            decision, ids = Decision(opt="optOut", reason=f"internal error: {err}"), ()
        record = EventRecord(
            event_id=event.event_id,
            modification_number=event.modification_number,
            opt=decision.opt,
            reason=decision.reason,
            instruction_ids=ids,
        )
        await self._record(record, event)
        self._answered[key] = decision.opt
        while len(self._answered) > 1000:
            del self._answered[next(iter(self._answered))]
        return decision.opt

    async def _serve(self, event: DrEvent) -> tuple[Decision, tuple[str, ...]]:
        status, params, members = await self._vpp_now()
        decision = decide(
            event,
            params,
            vpp_status=status,
            now=self._now(),
            levels_kw=self.config.simple_levels_kw or None,
            market_context=self.config.market_context,
            storage=storage_energy(members),
        )
        if decision.opt != "optIn" or not decision.targets:
            return decision, ()
        plan = DispatchPlan(
            vpp_id=self.config.vpp_id,
            targets=decision.targets,
            source="demand_response",
            priority=self.config.priority,
            created_by=f"openadr:{event.event_id}:{event.modification_number}"[:100],
        )
        try:
            outcome = await submit_plan(self.ctx, plan, actor=self._who)
        except HubError as err:
            return Decision(opt="optOut", reason=f"dispatch refused the plan: {err}"), ()
        return decision, tuple(t.instruction_id for t in outcome.targets)

    async def _record(self, record: EventRecord, event: DrEvent | None) -> None:
        self.decisions.append(record)
        del self.decisions[:-100]
        self._events.labels(self.label, record.opt).inc()
        _log.info("OpenADR VEN %s: %s event %s (%s)", self.label, record.opt, record.event_id,
                  record.reason)  # fmt: skip
        try:
            async with self.ctx.sessions() as session:
                audit(
                    session,
                    self._who,
                    "openadr_event",
                    "vpp",
                    self.config.vpp_id,
                    None,
                    {
                        **msgspec.to_builtins(record),
                        "market_context": event.market_context if event else None,
                        "ven_id": self.ven_id,
                    },
                )
                await session.commit()
        except Exception:
            self._errors.labels(self.label, "audit").inc()
            _log.exception("OpenADR VEN %s: the decision on %s was not audited", self.label,
                           record.event_id)  # fmt: skip

    # -- the VPP -------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ctx.clock.now_ms() / 1000, dt.UTC)

    async def _vpp_now(self) -> tuple[str | None, AggregatedParams, list[MemberState]]:
        """The VPP's status (None: it does not exist), aggregated parameters and members,
        as ``GET vpps/{id}/aggregated-params`` computes them."""
        fresh = self.ctx.clock.now_ms() - int(self.ctx.settings.stale_after_s * 1000)
        async with self.ctx.sessions() as session:
            vpp = await session.get(Vpp, self.config.vpp_id)
            rows = await vpp_members(session, self.config.vpp_id) if vpp is not None else []
        states = [member_state(i, t, m, self.ctx.cache, fresh) for m, i, t in rows]
        return (vpp.status if vpp is not None else None), aggregate(states), states

    async def measured_kw(self) -> float | None:
        """The VPP's measured power now (kW, generator convention): its members' live
        power, each times its allocation ratio; None when no member has a fresh value."""
        _, _, states = await self._vpp_now()
        known = [s.p_kw * s.allocation_ratio for s in states if s.p_kw is not None]
        return round(sum(known), 3) if known else None

    async def _report_value(self) -> list[tuple[dt.datetime, float]]:
        """The telemetry report's sample: the measured power as load (kW, consumption
        positive); no sample when nothing is measured or the hub cannot tell."""
        try:
            value = await self.measured_kw()
        except Exception:
            self._errors.labels(self.label, "report").inc()
            _log.exception("OpenADR VEN %s: no telemetry value", self.label)
            return []
        if value is None:
            return []
        return [(self._now(), -value if value else 0.0)]


def _event_id(raw: Any) -> str:
    with contextlib.suppress(Exception):
        return str(utils.getmember(raw, "event_descriptor.event_id"))
    return "?"


async def start_ven(ctx: HubContext, config: OpenAdrVenConfig) -> OpenAdrVen:
    """Start a VEN for ``config`` (registration runs in the background); the caller stops
    it with :meth:`OpenAdrVen.stop` (the app's lifespan does for ``Settings.openadr_vens``)."""
    ven = OpenAdrVen(ctx, config)
    await ven.start()
    return ven


__all__ = ["EventRecord", "OpenAdrVen", "start_ven"]
