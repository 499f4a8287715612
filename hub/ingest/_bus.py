"""The hub's MQTT side: one supervised connection that ingests uplinks, acknowledges
them, keeps the live cache, and publishes retained schedules and the hub's state.

Tasks (owned by one TaskGroup per connection, under the supervisor task owned by
:class:`MqttBus`):

* ``_read``: takes what has arrived (up to ``ingest_batch`` messages) and decodes it;
* ``_write``: stores one decoded batch in one transaction, then updates the cache and
  publishes ``ack`` per ``(edge, sid)`` (reading and writing overlap).
* ``_publish_schedules``: drains the dispatch outbox (schedules staged with their
  instructions) on connecting, when :meth:`MqttBus.schedule_changed` says a plan staged
  one, and every ``outbox_poll_s``.

Flow control: messages are PUBACKed to the broker only once handled (stored, or counted
and dropped), so the broker's in-flight window (mosquitto ``max_inflight_messages``, MQTT 5
receive maximum) bounds what is queued here; a slow database slows the broker down instead
of overflowing the hub. Queues: aiomqtt's incoming queue, bounded by that window (no local
limit: aiomqtt would drop messages that are then never PUBACKed, stalling the window), and
the reader-writer hand-over, two decoded batches at most.

Any other error in these tasks is counted, logged once, and the tasks restart after a
backoff (ingest must not stop while ``/readyz`` stays green); one edge's schedule failing
does not stop the others'.

Malformed payloads (bad topic, undecodable, wrong kind for the topic, edge mismatch) are
counted in ``hub_ingest_malformed_total{reason}`` and dropped before any write.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import re
import ssl
from collections import defaultdict
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiomqtt
import msgspec
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from hub._settings import mqtt_client_id, mqtt_endpoint
from hub.dispatch import drain_outbox, ensure_edge, record_status
from hub.store import (
    Device,
    IngestCursor,
    IngestGap,
    ResourceInstance,
    Telemetry,
    dialect_insert,
)
from protocol import (
    Ack,
    Birth,
    DispatchStatus,
    HubState,
    ProtocolError,
    State,
    TelemetryBatch,
    decode_as,
    encode,
    sniff_encoding,
)
from protocol.topics import HUB_STATE, EdgeTopics, TopicError, TopicKind, hub_uplink_filters, parse

from ._tracker import AckTracker, Gap

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

_KIND_TYPES: dict[TopicKind, type[Any]] = {
    TopicKind.STATE: State,
    TopicKind.BIRTH: Birth,
    TopicKind.DEVICE_BIRTH: Birth,
    TopicKind.DATA: TelemetryBatch,
    TopicKind.DISPATCH_STATUS: DispatchStatus,
}


@dataclass(slots=True)
class _Batch:
    """Decoded messages of one ingest round."""

    telemetry: list[tuple[str, TelemetryBatch]] = field(default_factory=list)
    statuses: list[tuple[str, DispatchStatus]] = field(default_factory=list)
    states: list[tuple[str, str, State]] = field(default_factory=list)
    births: list[tuple[str, Birth]] = field(default_factory=list)
    skipped: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    """``(tenant, edge, sid, seq, ts_ms)`` of rejected sequenced messages: nothing is
    written for them, but they count as handled for contiguity (see ``_decode``)."""

    @property
    def empty(self) -> bool:
        return not (self.telemetry or self.statuses or self.states or self.births or self.skipped)

    def __len__(self) -> int:
        return (
            len(self.telemetry)
            + len(self.statuses)
            + len(self.states)
            + len(self.births)
            + len(self.skipped)
        )

    def split(self) -> list[_Batch]:
        """One batch per message (to store them one by one when the whole batch fails)."""
        return [
            *(_Batch(telemetry=[t]) for t in self.telemetry),
            *(_Batch(statuses=[s]) for s in self.statuses),
            *(_Batch(states=[s]) for s in self.states),
            *(_Batch(births=[b]) for b in self.births),
            *(_Batch(skipped=[k]) for k in self.skipped),
        ]


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control(value: object) -> bool:
    """Whether any string inside ``value`` (a decoded Struct) holds a control character."""
    match value:
        case str():
            return _CONTROL.search(value) is not None
        case msgspec.Struct():
            return any(_has_control(getattr(value, name)) for name in value.__struct_fields__)
        case list() | tuple():
            return any(_has_control(item) for item in value)
        case dict():
            return any(_has_control(k) or _has_control(v) for k, v in value.items())
        case _:
            return False


def _leaf(error: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


class MqttBus:
    """Async context manager owning the hub's MQTT connection and its tasks."""

    def __init__(self, ctx: HubContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._endpoint = mqtt_endpoint(settings)
        self._host = self._endpoint.host
        self._port = self._endpoint.port
        self._identifier = mqtt_client_id(settings)
        self._tracker = AckTracker()
        self._dirty = asyncio.Event()
        self._connected = False
        self._stopping = False
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None
        self._heartbeats: dict[tuple[str, str], float] = {}
        self._crashed = False
        self.connected_event = asyncio.Event()

    # ------------------------------------------------------------------ public

    @property
    def connected(self) -> bool:
        return self._connected

    def schedule_changed(self, edge: str) -> None:
        """A plan staged ``edge``'s schedule in the outbox: drain it now (not at the next
        poll). Nothing is lost when this is not called: the outbox is the record."""
        self._dirty.set()

    async def __aenter__(self) -> MqttBus:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        self._task = self._group.create_task(self._supervise(), name="hub-mqtt")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        client = self._client
        if client is not None and self._connected:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(2):
                    await client.publish(
                        HUB_STATE, self._hub_state(online=False), qos=1, retain=True
                    )
        if self._task is not None:
            self._task.cancel()
        assert self._group is not None
        await self._group.__aexit__(None, None, None)

    # ------------------------------------------------------------------ connection

    def _stop_requested(self) -> bool:
        return self._stopping

    def _hub_state(self, *, online: bool) -> bytes:
        return encode(HubState(online=online, ts_ms=self._ctx.clock.now_ms()))

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self._endpoint.tls:
            return None
        return ssl.create_default_context(cafile=self._endpoint.ca)

    async def _supervise(self) -> None:
        delay = 0.5
        failed = False
        settings = self._ctx.settings
        while not self._stop_requested():
            try:
                client = aiomqtt.Client(
                    self._host,
                    self._port,
                    username=self._endpoint.username,
                    password=self._endpoint.password,
                    tls_context=self._tls_context(),
                    identifier=self._identifier,
                    # Persistent: the broker keeps the subscriptions and what arrives while
                    # the hub restarts. Delivery does not depend on it (edges replay what
                    # the hub has not acked when it comes back); it only spares the replay.
                    clean_session=False,
                    keepalive=30,
                    timeout=10,
                    will=aiomqtt.Will(HUB_STATE, self._hub_state(online=False), qos=1, retain=True),
                    # Bounded by the broker's in-flight window (manual PUBACK below): a
                    # local limit would make aiomqtt drop messages it never acknowledges,
                    # which would stall that window for good.
                    max_queued_incoming_messages=0,
                    max_queued_outgoing_messages=settings.ingest_queue * 10,
                )
                # PUBACK only once a message is handled (stored or dropped): the broker's
                # in-flight window then holds the rest back instead of our queue overflowing.
                client._client.manual_ack_set(True)
                async with client:
                    self._client = client
                    for topic_filter in hub_uplink_filters(group=settings.mqtt_group):
                        await client.subscribe(topic_filter, qos=1)
                    await client.publish(
                        HUB_STATE, self._hub_state(online=True), qos=1, retain=True
                    )
                    self._connected = True
                    self._ctx.metrics.mqtt_connected.set(1)
                    self.connected_event.set()
                    if failed:
                        _log.info("MQTT broker %s:%s reachable again", self._host, self._port)
                    else:
                        _log.info("connected to MQTT broker %s:%s", self._host, self._port)
                    failed = False
                    if not self._crashed:
                        delay = 0.5  # a crash loop keeps backing off
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._ingest(client))
                        group.create_task(self._publish_schedules(client))
            except* aiomqtt.MqttError as errors:
                if not failed:
                    _log.warning(
                        "MQTT broker %s:%s unreachable (%s); retrying in the background",
                        self._host,
                        self._port,
                        _leaf(errors),
                    )
                failed = True
            except* Exception as errors:
                # A bug or an unexpected input must not stop ingest for good (while
                # /readyz stays green): count it, log it once, back off and start again.
                self._ctx.metrics.mqtt_task_failures.inc()
                if not self._crashed:
                    _log.error(
                        "MQTT tasks failed; restarting them after a backoff",
                        exc_info=_leaf(errors),
                    )
                self._crashed = True
            finally:
                self._client = None
                self._connected = False
                self.connected_event.clear()
                self._ctx.metrics.mqtt_connected.set(0)
            if self._stop_requested():
                return
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
            delay = min(delay * 2, 15.0)

    # ------------------------------------------------------------------ schedules

    async def _publish_schedules(self, client: aiomqtt.Client) -> None:
        """Drain the dispatch outbox (:func:`hub.dispatch.drain_outbox`) on every connection
        (so at start-up: what a crash left between commit and publish goes out), whenever
        a plan staged a schedule here, and every ``outbox_poll_s`` (another hub's)."""
        ctx = self._ctx

        async def publish(topic: str, payload: bytes) -> None:
            await client.publish(topic, payload, qos=1, retain=True)

        while True:
            self._dirty.clear()
            try:
                await drain_outbox(ctx, publish)
            except SQLAlchemyError as exc:
                _log.warning("cannot drain the dispatch outbox (%s); retrying", exc)
                await asyncio.sleep(1.0)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ctx.settings.outbox_poll_s):
                    await self._dirty.wait()

    # ------------------------------------------------------------------ ingest

    async def _ingest(self, client: aiomqtt.Client) -> None:
        """Reader and writer in a pipeline: the next batch is received and decoded while
        the previous one is written. The hand-over queue holds two batches at most."""
        decoded: asyncio.Queue[tuple[_Batch, list[aiomqtt.Message]]] = asyncio.Queue(maxsize=2)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._read(client, decoded))
            group.create_task(self._write(client, decoded))

    @staticmethod
    def _puback(client: aiomqtt.Client, messages: list[aiomqtt.Message]) -> None:
        paho = client._client
        for message in messages:
            if message.qos > 0:
                paho.ack(message.mid, message.qos)

    async def _read(
        self, client: aiomqtt.Client, out: asyncio.Queue[tuple[_Batch, list[aiomqtt.Message]]]
    ) -> None:
        settings = self._ctx.settings
        messages = client.messages
        async for first in messages:
            batch = [first]
            while len(messages) > 0 and len(batch) < settings.ingest_batch:
                batch.append(await anext(messages))
            self._ctx.metrics.ingest_queue.set(len(messages))
            decoded = self.decode(batch)
            if decoded.empty:
                self._puback(client, batch)
            else:
                await out.put((decoded, batch))

    async def _write(
        self, client: aiomqtt.Client, decoded: asyncio.Queue[tuple[_Batch, list[aiomqtt.Message]]]
    ) -> None:
        failing = False
        while True:
            batch, messages = await decoded.get()
            try:
                await self.store_and_ack(client, batch)
            except SQLAlchemyError as exc:
                self._puback(client, messages)
                # Not acknowledged: the edges keep these messages and send them again.
                self._ctx.metrics.ingest_store_errors.inc()
                if not failing:
                    _log.warning("cannot store ingest batch (%s); not acknowledging it", exc)
                failing = True
                continue
            self._puback(client, messages)
            if failing:
                _log.info("storing ingest batches again")
            if self._crashed:
                _log.info("MQTT tasks running again")
            failing = self._crashed = False

    def _decode(self, message: aiomqtt.Message, out: _Batch) -> None:
        metrics = self._ctx.metrics
        try:
            topic = parse(message.topic.value)
        except TopicError:
            metrics.ingest_malformed.labels("topic").inc()
            return
        cls = _KIND_TYPES.get(topic.kind)
        payload = message.payload
        if cls is None or not isinstance(payload, bytes | bytearray) or topic.edge is None:
            metrics.ingest_malformed.labels("kind").inc()
            return
        if not payload:
            return  # a cleared retained message
        encoding = sniff_encoding(payload)
        try:
            decoded = decode_as(payload, cls, encoding)
        except ProtocolError:
            metrics.ingest_malformed.labels("payload").inc()
            return
        edge = topic.edge
        if isinstance(decoded, TelemetryBatch | DispatchStatus | Birth) and decoded.edge != edge:
            metrics.ingest_malformed.labels("edge_mismatch").inc()
            return
        tenant = topic.tenant or self._ctx.settings.tenant
        # A JSON string can only hold a control character escaped, so no backslash, no walk.
        if (encoding != "json" or b"\\" in payload) and _has_control(decoded):
            # PostgreSQL refuses NUL in text (and control characters have no business in
            # names): the message is dropped, but its seq counts as handled, otherwise
            # it would hold that edge's acks back for ever.
            metrics.ingest_malformed.labels("control_chars").inc()
            if isinstance(decoded, TelemetryBatch | DispatchStatus):
                out.skipped.append((tenant, edge, decoded.sid, decoded.seq, decoded.ts_ms))
            return
        metrics.ingest_messages.labels(topic.kind.value).inc()
        match decoded:
            case TelemetryBatch():
                out.telemetry.append((tenant, decoded))
            case DispatchStatus():
                out.statuses.append((tenant, decoded))
            case State():
                out.states.append((tenant, edge, decoded))
            case Birth():
                out.births.append((tenant, decoded))

    def decode(self, messages: list[aiomqtt.Message]) -> _Batch:
        batch = _Batch()
        for message in messages:
            self._decode(message, batch)
        return batch

    async def handle(
        self, client: aiomqtt.Client | None, messages: list[aiomqtt.Message]
    ) -> dict[tuple[str, str, int], int]:
        """Decode, store, cache and acknowledge one batch of messages (without a client,
        nothing is published). Returns the acknowledged seq per ``(tenant, edge, sid)``."""
        batch = self.decode(messages)
        if batch.empty:
            return {}
        return await self.store_and_ack(client, batch)

    async def store_and_ack(
        self, client: aiomqtt.Client | None, batch: _Batch
    ) -> dict[tuple[str, str, int], int]:
        acks = await self.store(batch)
        if client is None:
            return {key: seq for key, (seq, _) in acks.items()}
        now_ms = self._ctx.clock.now_ms()
        for (tenant, edge, sid), (seq, ts_ms) in acks.items():
            ack = Ack(edge=edge, sid=sid, seq=seq, ts_ms=now_ms)
            await client.publish(EdgeTopics(tenant, edge).ack, encode(ack), qos=1)
            self._ctx.metrics.ack_lag_seconds.observe(max(0.0, (now_ms - ts_ms) / 1000))
        return {key: seq for key, (seq, _) in acks.items()}

    async def store(self, batch: _Batch) -> dict[tuple[str, str, int], tuple[int, int]]:
        """One transaction for the whole batch; returns the acks to publish.

        If the batch cannot be stored, its messages are stored one by one, so that one
        the database refuses does not hold the others back; what still fails is counted
        in ``hub_ingest_store_errors_total`` and not acknowledged. When nothing could be
        stored (database down), the first error is raised."""
        try:
            return await self._store_batch(batch)
        except SQLAlchemyError as exc:
            if len(batch) < 2:
                raise
            first = exc
        acks: dict[tuple[str, str, int], tuple[int, int]] = {}
        failed = 0
        for single in batch.split():
            try:
                stored = await self._store_batch(single)
            except SQLAlchemyError as exc:
                failed += 1
                last = exc
                continue
            for key, (seq, ts_ms) in stored.items():
                held = acks.get(key)
                acks[key] = (max(seq, held[0]), max(ts_ms, held[1])) if held else (seq, ts_ms)
        if failed == len(batch):
            raise first
        if failed:
            self._ctx.metrics.ingest_store_errors.inc(failed)
            _log.warning(
                "stored %d of %d messages one by one; the others are not acknowledged (%s)",
                len(batch) - failed,
                len(batch),
                last,
            )
        return acks

    async def _store_batch(self, batch: _Batch) -> dict[tuple[str, str, int], tuple[int, int]]:
        ctx = self._ctx
        seqs: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        newest_ts: dict[tuple[str, str, int], int] = {}
        floors: dict[tuple[str, str, int], int] = defaultdict(int)
        rows: list[dict[str, Any]] = []
        for tenant, tb in batch.telemetry:
            key = (tenant, tb.edge, tb.sid)
            seqs[key].append(tb.seq)
            newest_ts[key] = max(newest_ts.get(key, 0), tb.ts_ms)
            floors[key] = max(floors[key], tb.floor_seq)
            for idx, p in enumerate(tb.points):
                rows.append(
                    {
                        "edge_id": tb.edge,
                        "sid": tb.sid,
                        "seq": tb.seq,
                        "idx": idx,
                        "device_id": p.device,
                        "name": p.name,
                        "ts_ms": p.ts_ms,
                        "value": _as_float(p.value),
                        "quality": p.quality,
                    }
                )
        for tenant, st in batch.statuses:
            key = (tenant, st.edge, st.sid)
            seqs[key].append(st.seq)
            newest_ts[key] = max(newest_ts.get(key, 0), st.ts_ms)
            floors[key] = max(floors[key], st.floor_seq)
        for tenant, edge, sid, seq, ts_ms in batch.skipped:
            key = (tenant, edge, sid)
            seqs[key].append(seq)
            newest_ts[key] = max(newest_ts.get(key, 0), ts_ms)
        try:
            await self._restore_cursors([(edge, sid) for _, edge, sid in seqs])
        finally:
            # Seen even when the cursors could not be read: a failed batch holds acks back.
            for key, stored in seqs.items():
                self._tracker.seen(key[1], key[2], stored, floors[key])
        snapshot = self._tracker.snapshot([(edge, sid) for _, edge, sid in seqs])
        try:
            acks = await self._store_rows(batch, rows, seqs, newest_ts, floors)
        except BaseException:
            self._tracker.rollback(snapshot)
            raise
        ctx.metrics.ingest_points.inc(len(rows))
        self._update_cache(batch)
        return acks

    async def _store_rows(
        self,
        batch: _Batch,
        rows: list[dict[str, Any]],
        seqs: dict[tuple[str, str, int], list[int]],
        newest_ts: dict[tuple[str, str, int], int],
        floors: dict[tuple[str, str, int], int],
    ) -> dict[tuple[str, str, int], tuple[int, int]]:
        async with self._ctx.sessions() as session:
            if rows:
                await session.execute(
                    dialect_insert(session, Telemetry).on_conflict_do_nothing(), rows
                )
            for _, st in batch.statuses:
                if not await record_status(session, st):
                    self._ctx.metrics.ingest_duplicates.inc()
            for tenant, edge, state in batch.states:
                await self._store_state(session, tenant, edge, state)
            for tenant, birth in batch.births:
                await self._store_birth(session, tenant, birth)
            await self._heartbeats_and_status(session, batch)
            gaps: list[Gap] = []
            acks = await self._advance_cursors(session, seqs, newest_ts, floors, gaps)
            await self._store_gaps(session, gaps)
            await session.commit()
        for gap in gaps:
            self._ctx.metrics.ingest_gap_seqs.inc(gap.count)
            _log.warning(
                "edge %s session %d: seqs %d..%d will never arrive (lost at the edge); "
                "recorded in ingest_gaps",
                gap.edge,
                gap.sid,
                gap.first,
                gap.last,
            )
        return acks

    async def _store_gaps(self, session: AsyncSession, gaps: list[Gap]) -> None:
        if not gaps:
            return
        now = _utc(self._ctx.clock.now_ms())
        await session.execute(
            dialect_insert(session, IngestGap).on_conflict_do_nothing(),
            [
                {
                    "edge_id": g.edge,
                    "sid": g.sid,
                    "first_seq": g.first,
                    "last_seq": g.last,
                    "detected_at": now,
                }
                for g in gaps
            ],
        )

    async def _restore_cursors(self, keys: list[tuple[str, int]]) -> None:
        """Read the persisted ack of every ``(edge, sid)`` not seen since the hub started,
        before any of its seqs are seen (else the first live seq after a restart would
        start contiguity past the backlog the hub never stored)."""
        missing = [key for key in keys if self._tracker.needs_restore(*key)]
        if not missing:
            return
        async with self._ctx.sessions() as session:
            for edge, sid in missing:
                cursor = await session.get(IngestCursor, (edge, sid))
                self._tracker.restore(edge, sid, None if cursor is None else cursor.acked_seq)

    async def _advance_cursors(
        self,
        session: AsyncSession,
        seqs: dict[tuple[str, str, int], list[int]],
        newest_ts: dict[tuple[str, str, int], int],
        floors: dict[tuple[str, str, int], int],
        gaps: list[Gap],
    ) -> dict[tuple[str, str, int], tuple[int, int]]:
        acks: dict[tuple[str, str, int], tuple[int, int]] = {}
        for (tenant, edge, sid), stored in seqs.items():
            before = self._tracker.acked(edge, sid)
            acked = self._tracker.stored(edge, sid, stored, floors[(tenant, edge, sid)], gaps)
            if acked is None:
                continue
            if acked != before:
                await session.execute(
                    dialect_insert(session, IngestCursor)
                    .values(edge_id=edge, sid=sid, acked_seq=acked)
                    .on_conflict_do_update(
                        index_elements=["edge_id", "sid"], set_={"acked_seq": acked}
                    )
                )
            acks[(tenant, edge, sid)] = (acked, newest_ts[(tenant, edge, sid)])
        return acks

    def _update_cache(self, batch: _Batch) -> None:
        ctx = self._ctx
        for _, tb in batch.telemetry:
            bad: dict[str, bool] = {}
            for p in tb.points:
                ctx.cache.put(tb.edge, p.device, p.name, p.value, p.ts_ms)
                bad[p.device] = bad.get(p.device, True) and p.quality == "bad"
            for device, all_bad in bad.items():
                ctx.cache.mark_quality(tb.edge, device, all_bad)
        for _, edge, state in batch.states:
            ctx.cache.set_edge(edge, online=state.online, sid=state.sid, ts_ms=state.ts_ms)
        for _, st in batch.statuses:
            live = not st.hist  # a replayed report must not set today's gauge
            if live and st.device is not None and st.deviation_w is not None:
                ctx.metrics.dispatch_deviation_w.labels(st.edge, st.device).set(st.deviation_w)
            if st.device is not None and st.p_actual_w is not None:
                ctx.cache.put(st.edge, st.device, "p_w", st.p_actual_w, st.ts_ms)

    async def _store_state(
        self, session: AsyncSession, tenant: str, edge_id: str, st: State
    ) -> None:
        edge = await ensure_edge(session, edge_id, tenant)
        edge.online = st.online
        edge.sid = st.sid
        edge.last_seen = _utc(st.ts_ms)
        if not st.online:
            await session.execute(
                update(ResourceInstance)
                .where(
                    ResourceInstance.edge_id == edge_id,
                    ResourceInstance.status.in_(["ONLINE", "ERROR"]),
                )
                .values(status="OFFLINE", status_reason="edge offline")
            )

    async def _store_birth(self, session: AsyncSession, tenant: str, birth: Birth) -> None:
        edge = await ensure_edge(session, birth.edge, tenant)
        # Not online: a retained birth is replayed to a hub long after the edge left;
        # only ``state`` says whether it is there.
        edge.last_seen = max(edge.last_seen or _utc(birth.ts_ms), _utc(birth.ts_ms))
        if birth.device is None:
            return
        device = await session.get(Device, (birth.edge, birth.device))
        if device is None:
            device = Device(edge_id=birth.edge, device_id=birth.device)
            session.add(device)
        device.kind = birth.device_kind
        device.protocol = birth.protocol
        device.metrics = [
            {"name": m.name, "unit": m.unit, "writable": m.writable} for m in birth.metrics
        ]
        device.last_seen = _utc(birth.ts_ms)

    async def _heartbeats_and_status(self, session: AsyncSession, batch: _Batch) -> None:
        """Throttled heartbeats; status ONLINE on good data, ERROR on all-bad data.
        MAINTENANCE is never changed here."""
        now = self._ctx.clock.monotonic()
        spacing = self._ctx.settings.heartbeat_write_s
        seen: dict[tuple[str, str], tuple[int, bool]] = {}
        for _, tb in batch.telemetry:
            if tb.hist:
                continue
            for p in tb.points:
                key = (tb.edge, p.device)
                ts, bad = seen.get(key, (0, True))
                seen[key] = (max(ts, p.ts_ms), bad and p.quality == "bad")
        for (edge, device), (ts_ms, bad) in seen.items():
            previous_bad = self._ctx.cache.device(edge, device)
            changed = previous_bad is None or previous_bad.bad != bad
            last = self._heartbeats.get((edge, device))
            if not changed and last is not None and now - last < spacing:
                continue
            self._heartbeats[(edge, device)] = now
            match_row = (ResourceInstance.edge_id == edge, ResourceInstance.device_id == device)
            await session.execute(
                update(ResourceInstance).where(*match_row).values(last_heartbeat=_utc(ts_ms))
            )
            if bad:
                await session.execute(
                    update(ResourceInstance)
                    .where(*match_row, ResourceInstance.status == "ONLINE")
                    .values(status="ERROR", status_reason="device reports bad quality")
                )
            else:
                await session.execute(
                    update(ResourceInstance)
                    .where(*match_row, ResourceInstance.status.in_(["OFFLINE", "ERROR"]))
                    .values(status="ONLINE", status_reason=None)
                )


async def known_instances(session: AsyncSession, edge: str) -> list[str]:
    """Ids of the instances bound to ``edge`` (used by tests and tools)."""
    return list(
        await session.scalars(select(ResourceInstance.id).where(ResourceInstance.edge_id == edge))
    )
