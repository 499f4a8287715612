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
counted in ``hub_ingest_malformed_total{reason}`` and dropped before any write; so are
messages whose topic's tenant is not a tenant the edge id is registered in (reason
``tenant_mismatch``, see ``_tenants``). Every key is ``(tenant, edge, ...)``: the topic's
tenant and edge, never the edge id alone.
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
from sqlalchemy import bindparam, delete, select, text, tuple_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from hub._settings import mqtt_client_id, mqtt_endpoint
from hub.dispatch import drain_outbox, ensure_edge, record_status
from hub.store import (
    Device,
    Edge,
    IngestAhead,
    IngestCursor,
    IngestGap,
    ResourceInstance,
    Telemetry,
    background_writes,
    dialect_insert,
    edge_key,
    utcnow,
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
from protocol.aio import keep_cancellation, mqtt_logger
from protocol.topics import HUB_STATE, EdgeTopics, TopicError, TopicKind, hub_uplink_filters, parse

from ._tenants import EdgeTenants
from ._tracker import Gap, advance, session_start

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
    """Each message with its topic's tenant: ``(tenant, message)``, states
    ``(tenant, edge, state)``."""
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

    def edges(self) -> set[tuple[str, str]]:
        """The ``(tenant, edge)`` of every message."""
        return {
            *((t, m.edge) for t, m in self.telemetry),
            *((t, m.edge) for t, m in self.statuses),
            *((t, e) for t, e, _ in self.states),
            *((t, m.edge) for t, m in self.births),
            *((t, e) for t, e, *_ in self.skipped),
        }

    def without(self, refused: set[tuple[str, str]]) -> tuple[_Batch, int]:
        """This batch less the messages of ``refused`` edges, and how many those were."""
        kept = _Batch(
            telemetry=[(t, m) for t, m in self.telemetry if (t, m.edge) not in refused],
            statuses=[(t, m) for t, m in self.statuses if (t, m.edge) not in refused],
            states=[(t, e, m) for t, e, m in self.states if (t, e) not in refused],
            births=[(t, m) for t, m in self.births if (t, m.edge) not in refused],
            skipped=[k for k in self.skipped if (k[0], k[1]) not in refused],
        )
        return kept, len(self) - len(kept)

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
        self._dirty = asyncio.Event()
        self._connected = False
        self._stopping = False
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None
        self._heartbeats: dict[tuple[str, str, str], float] = {}
        self._lowest_seen: dict[tuple[str, str, int], int] = {}
        """Edges without a floor (``floor_seq=0``, older agents): the lowest seq this
        replica saw of a session that has no cursor yet, stored or not, so a batch that
        failed to store keeps the next one from starting the session past it."""
        self._tenants = EdgeTenants(clock=ctx.clock.monotonic)  # the hub's clock
        self._refused_seen: set[tuple[str, str]] = set()
        self._crashed = False
        self._reassert = asyncio.Event()
        self.connected_event = asyncio.Event()

    # ------------------------------------------------------------------ public

    @property
    def connected(self) -> bool:
        return self._connected

    def schedule_changed(self, edge: tuple[str, str]) -> None:
        """A plan staged the schedule of ``edge`` (tenant, edge id) in the outbox: drain it
        now (not at the next poll). Nothing is lost when this is not called: the outbox is
        the record."""
        self._dirty.set()

    async def __aenter__(self) -> MqttBus:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        with background_writes():  # the ingest's writes are no caller's (hub.store)
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
                    clean_session=not settings.mqtt_persistent_session,
                    keepalive=30,
                    logger=mqtt_logger(),
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
                async with keep_cancellation(client):
                    self._client = client
                    for topic_filter in hub_uplink_filters(group=settings.mqtt_group):
                        await client.subscribe(topic_filter, qos=1)
                    # Every replica watches the hub state: another one's Will (or its
                    # shutdown) says offline while this one is up, and this one says
                    # online again, so the state is offline only when no replica is left.
                    await client.subscribe(HUB_STATE, qos=1)
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
                        group.create_task(self._presence(client))
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

    async def _presence(self, client: aiomqtt.Client) -> None:
        """Say online again whenever the retained hub state says offline (another
        replica's Will or shutdown) while this replica is connected."""
        while True:
            await self._reassert.wait()
            self._reassert.clear()
            if self._stopping:
                return
            _log.info("hub state said offline while this replica is up: online again")
            await client.publish(HUB_STATE, self._hub_state(online=True), qos=1, retain=True)

    def _hub_state_seen(self, payload: object) -> None:
        if not isinstance(payload, bytes | bytearray) or not payload:
            return
        try:
            state = decode_as(bytes(payload), HubState, sniff_encoding(bytes(payload)))
        except ProtocolError:
            return
        if not state.online and not self._stopping:
            self._reassert.set()

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
            if message.topic.value == HUB_STATE:
                self._hub_state_seen(message.payload)
            else:
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

        Messages of an edge id registered only in other tenants than their topic's are
        dropped first (counted, logged once per edge), never stored or acknowledged.

        If the batch cannot be stored, its messages are stored one by one, so that one
        the database refuses does not hold the others back; what still fails is counted
        in ``hub_ingest_store_errors_total`` and not acknowledged. When nothing could be
        stored (database down), the first error is raised."""
        batch = await self._admitted(batch)
        if batch.empty:
            return {}
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

    async def _admitted(self, batch: _Batch) -> _Batch:
        pairs = batch.edges()
        unsettled = self._tenants.unsettled(pairs)
        if unsettled:  # not on the hot path: ids met for the first time, stale refusals
            found: dict[str, set[str]] = {edge: set() for edge in unsettled}
            async with self._ctx.sessions() as session:
                rows = await session.execute(
                    select(Edge.id, Edge.tenant).where(Edge.id.in_(unsettled))
                )
                for edge, tenant in rows:
                    found[edge].add(tenant)
            self._tenants.learn(found)
        refused = self._tenants.refused(pairs)
        if not refused:
            return batch
        kept, dropped = batch.without(refused)
        self._ctx.metrics.ingest_malformed.labels("tenant_mismatch").inc(dropped)
        for tenant, edge in sorted(refused - self._refused_seen):
            _log.warning(
                "edge %r is not registered in tenant %r (only in others): its messages on "
                "that tenant's topics are dropped (vpp hub edge add %s --tenant %s)",
                edge,
                tenant,
                edge,
                tenant,
            )
        if len(self._refused_seen) < 10_000:
            self._refused_seen |= refused
        return kept

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
                        "tenant": tenant,
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
        if len(self._lowest_seen) > 10_000:
            self._lowest_seen.clear()  # a hint for old agents only: bounded
        for full, stored in seqs.items():
            if not floors[full]:
                low = min(stored)
                self._lowest_seen[full] = min(low, self._lowest_seen.get(full, low))
        acks = await self._store_rows(batch, rows, seqs, newest_ts, floors)
        ctx.metrics.ingest_points.inc(len(rows))
        updates = self._update_cache(batch)
        if ctx.live_mirror is not None:
            await ctx.live_mirror.publish(updates)
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
            for tenant, st in batch.statuses:
                if not await record_status(session, tenant, st):
                    self._ctx.metrics.ingest_duplicates.inc()
            if batch.states or batch.births:
                await self._store_states_and_births(session, batch)
            beats = await self._heartbeats_and_status(session, batch)
            gaps: list[tuple[str, Gap]] = []
            acks = await self._advance_cursors(session, seqs, newest_ts, floors, gaps)
            await self._store_gaps(session, gaps)
            await session.commit()
        # only once committed: a batch that failed leaves its devices due
        if batch.states or batch.births:  # their edge rows exist now, under these tenants
            self._tenants.admit(
                [(t, e) for t, e, _ in batch.states] + [(t, b.edge) for t, b in batch.births]
            )
        now = self._ctx.clock.monotonic()
        for key in beats:
            self._heartbeats[key] = now
        for tenant, gap in gaps:
            self._ctx.metrics.ingest_gap_seqs.inc(gap.count)
            _log.warning(
                "edge %s/%s session %d: seqs %d..%d will never arrive (lost at the edge); "
                "recorded in ingest_gaps",
                tenant,
                gap.edge,
                gap.sid,
                gap.first,
                gap.last,
            )
        return acks

    async def _store_gaps(self, session: AsyncSession, gaps: list[tuple[str, Gap]]) -> None:
        if not gaps:
            return
        now = _utc(self._ctx.clock.now_ms())
        await session.execute(
            dialect_insert(session, IngestGap).on_conflict_do_nothing(),
            [
                {
                    "tenant": tenant,
                    "edge_id": g.edge,
                    "sid": g.sid,
                    "first_seq": g.first,
                    "last_seq": g.last,
                    "detected_at": now,
                }
                for tenant, g in gaps
            ],
        )

    async def _advance_cursors(
        self,
        session: AsyncSession,
        seqs: dict[tuple[str, str, int], list[int]],
        newest_ts: dict[tuple[str, str, int], int],
        floors: dict[tuple[str, str, int], int],
        gaps: list[tuple[str, Gap]],
    ) -> dict[tuple[str, str, int], tuple[int, int]]:
        """Move the cursors of this batch's ``(tenant, edge, sid)`` in its transaction (see
        ``_tracker``): lock them in key order (creating the missing ones at the session's
        start), read what any replica stored above them, advance, write back."""
        if not seqs:
            return {}
        keys = sorted(seqs)
        stored_ahead: dict[tuple[str, str, int], set[int]] = defaultdict(set)
        cursors = await self._lock_cursors(session, keys, stored_ahead)
        missing = [key for key in keys if key not in cursors]
        created = set(missing)
        if missing:
            await session.execute(
                dialect_insert(session, IngestCursor).on_conflict_do_nothing(),
                [
                    {
                        "tenant": tenant,
                        "edge_id": edge,
                        "sid": sid,
                        "acked_seq": self._session_start(key, seqs[key], floors[key]) - 1,
                    }
                    for key in missing
                    for tenant, edge, sid in (key,)
                ],
            )
            cursors.update(await self._lock_cursors(session, missing, stored_ahead))
        moved: list[dict[str, Any]] = []
        new_ahead: list[dict[str, Any]] = []
        passed: list[dict[str, Any]] = []
        acks: dict[tuple[str, str, int], tuple[int, int]] = {}
        duplicates = 0
        for key in keys:
            tenant, edge, sid = key
            own = seqs[key]
            before = cursors[key]
            known = stored_ahead[key]
            fresh = {s for s in own if s > before and s not in known}
            duplicates += len(set(own)) - len(fresh)
            result = advance(edge, sid, before, known | fresh, floors[key])
            gaps.extend((tenant, gap) for gap in result.gaps)
            if result.acked != before:
                moved.append({"t": tenant, "e": edge, "s": sid, "a": result.acked})
            new_ahead.extend(
                {"tenant": tenant, "edge_id": edge, "sid": sid, "seq": s}
                for s in fresh
                if s in result.ahead
            )
            if any(s <= result.acked for s in known):
                passed.append({"t": tenant, "e": edge, "s": sid, "a": result.acked})
            if result.acked != before or key not in created:
                # a new session's cursor that did not move has nothing to acknowledge yet
                acks[key] = (result.acked, newest_ts[key])
        if duplicates:
            self._ctx.metrics.ingest_duplicates.inc(duplicates)
        if moved:
            cursors_table: Any = IngestCursor.__table__
            cursor = cursors_table.c
            await session.execute(
                update(cursors_table)
                .where(
                    cursor.tenant == bindparam("t"),
                    cursor.edge_id == bindparam("e"),
                    cursor.sid == bindparam("s"),
                )
                .values(acked_seq=bindparam("a")),
                moved,
            )
        if new_ahead:
            await session.execute(
                dialect_insert(session, IngestAhead).on_conflict_do_nothing(), new_ahead
            )
        if passed:
            ahead_table: Any = IngestAhead.__table__
            ahead = ahead_table.c
            await session.execute(
                delete(ahead_table).where(
                    ahead.tenant == bindparam("t"),
                    ahead.edge_id == bindparam("e"),
                    ahead.sid == bindparam("s"),
                    ahead.seq <= bindparam("a"),
                ),
                passed,
            )
        return acks

    def _session_start(self, key: tuple[str, str, int], seqs: list[int], floor: int) -> int:
        start = session_start(seqs, floor)
        if floor:
            return start
        return min(start, self._lowest_seen.get(key, start))

    @staticmethod
    async def _lock_cursors(
        session: AsyncSession,
        keys: list[tuple[str, str, int]],
        ahead: dict[tuple[str, str, int], set[int]],
    ) -> dict[tuple[str, str, int], int]:
        """The cursors of ``keys`` (tenant, edge, sid), row-locked until the transaction
        ends (in key order, so two replicas locking overlapping sets cannot deadlock), and
        into ``ahead`` the seqs stored above them (one round trip)."""
        rows = await session.execute(
            select(
                IngestCursor.tenant,
                IngestCursor.edge_id,
                IngestCursor.sid,
                IngestCursor.acked_seq,
                IngestAhead.seq,
            )
            .outerjoin(
                IngestAhead,
                (IngestAhead.tenant == IngestCursor.tenant)
                & (IngestAhead.edge_id == IngestCursor.edge_id)
                & (IngestAhead.sid == IngestCursor.sid),
            )
            .where(tuple_(IngestCursor.tenant, IngestCursor.edge_id, IngestCursor.sid).in_(keys))
            .order_by(IngestCursor.tenant, IngestCursor.edge_id, IngestCursor.sid)
            .with_for_update(of=IngestCursor)
        )
        cursors: dict[tuple[str, str, int], int] = {}
        for tenant, edge, sid, acked, seq in rows:
            cursors[(tenant, edge, sid)] = int(acked)
            if seq is not None:
                ahead[(tenant, edge, sid)].add(int(seq))
        return cursors

    def _update_cache(self, batch: _Batch) -> list[tuple[Any, ...]]:
        """Update the live cache; return the same as updates for the other replicas
        (``hub.store.LiveMirror``; built only when one is configured)."""
        ctx = self._ctx
        share = ctx.live_mirror is not None
        updates: list[tuple[Any, ...]] = []
        for tenant, tb in batch.telemetry:
            key = edge_key(tenant, tb.edge)
            bad: dict[str, bool] = {}
            for p in tb.points:
                ctx.cache.put(key, p.device, p.name, p.value, p.ts_ms)
                bad[p.device] = bad.get(p.device, True) and p.quality == "bad"
                if share and isinstance(p.value, int | float):
                    updates.append(("p", key, p.device, p.name, p.value, p.ts_ms))
            for device, all_bad in bad.items():
                ctx.cache.mark_quality(key, device, all_bad)
                if share:
                    updates.append(("q", key, device, all_bad))
        for tenant, edge, state in batch.states:
            key = edge_key(tenant, edge)
            ctx.cache.set_edge(key, online=state.online, sid=state.sid, ts_ms=state.ts_ms)
            if share:
                updates.append(("e", key, state.online, state.sid, state.ts_ms))
        for tenant, st in batch.statuses:
            key = edge_key(tenant, st.edge)
            live = not st.hist  # a replayed report must not set today's gauge
            if live and st.device is not None and st.deviation_w is not None:
                ctx.metrics.dispatch_deviation_w.labels(tenant, st.edge, st.device).set(
                    st.deviation_w
                )
            if st.device is not None and st.p_actual_w is not None:
                ctx.cache.put(key, st.device, "p_w", st.p_actual_w, st.ts_ms)
                if share:
                    updates.append(("p", key, st.device, "p_w", st.p_actual_w, st.ts_ms))
        return updates

    async def _store_states_and_births(self, session: AsyncSession, batch: _Batch) -> None:
        """Edges' state and last sight, devices' catalogue: set-based (one read of the
        edges, one of the devices, then one flush that writes each table in primary key
        order, executemany), whatever the number of devices in the batch.

        Edges never seen are created first, in key order; an edge that said offline has
        its instances marked OFFLINE (MAINTENANCE untouched), rows locked in key order."""
        edge_keys = sorted(
            {(t, e) for t, e, _ in batch.states} | {(t, b.edge) for t, b in batch.births}
        )
        # held: the session's identity map keeps only the objects referenced somewhere
        known = (
            await session.scalars(select(Edge).where(tuple_(Edge.tenant, Edge.id).in_(edge_keys)))
        ).all()
        edges = {
            key: await ensure_edge(session, tenant=key[0], edge_id=key[1]) for key in edge_keys
        }  # the ones just read come from the identity map: no statement
        del known
        device_keys = sorted({(t, b.edge, b.device) for t, b in batch.births if b.device})
        devices: dict[tuple[str, str, str], Device] = {}
        if device_keys:
            rows = await session.scalars(
                select(Device).where(
                    tuple_(Device.tenant, Device.edge_id, Device.device_id).in_(device_keys)
                )
            )
            devices = {(d.tenant, d.edge_id, d.device_id): d for d in rows}
        offline: set[tuple[str, str]] = set()
        for tenant, edge_id, st in batch.states:  # in arrival order: the last one wins
            edge = edges[(tenant, edge_id)]
            edge.online = st.online
            edge.sid = st.sid
            edge.last_seen = _utc(st.ts_ms)
            if not st.online:
                offline.add((tenant, edge_id))
        for tenant, birth in batch.births:
            edge = edges[(tenant, birth.edge)]
            # Not online: a retained birth is replayed to a hub long after the edge left;
            # only ``state`` says whether it is there.
            edge.last_seen = max(edge.last_seen or _utc(birth.ts_ms), _utc(birth.ts_ms))
            if birth.device is None:
                continue
            key = (tenant, birth.edge, birth.device)
            device = devices.get(key)
            if device is None:
                device = devices[key] = Device(
                    tenant=tenant, edge_id=birth.edge, device_id=birth.device
                )
                session.add(device)
            device.kind = birth.device_kind
            device.protocol = birth.protocol
            device.metrics = [
                {"name": m.name, "unit": m.unit, "writable": m.writable} for m in birth.metrics
            ]
            device.last_seen = _utc(birth.ts_ms)
        await session.flush()  # the unit of work writes each table in primary key order
        if offline:
            await self._instances_offline(session, sorted(offline))

    @staticmethod
    async def _instances_offline(session: AsyncSession, edges: list[tuple[str, str]]) -> None:
        instance = ResourceInstance
        match_rows = (
            tuple_(instance.edge_tenant, instance.edge_id).in_(edges),
            instance.status.in_(["ONLINE", "ERROR"]),
        )
        ids = list(
            await session.scalars(
                select(instance.id)
                .where(*match_rows)
                .order_by(instance.edge_tenant, instance.edge_id, instance.device_id)
                .with_for_update()  # key order (PostgreSQL; SQLite has one writer)
            )
        )
        if ids:
            await session.execute(
                update(instance)
                .where(instance.id.in_(ids), instance.status.in_(["ONLINE", "ERROR"]))
                .values(status="OFFLINE", status_reason="edge offline")
                .execution_options(synchronize_session=False)
            )

    def _due_heartbeats(self, batch: _Batch) -> list[tuple[tuple[str, str, str], int, bool]]:
        """The devices of ``batch``'s live telemetry whose heartbeat or status is due, in
        key order: ``((tenant, edge, device), newest ts_ms, all points bad)``. Due: the
        quality changed (per the live cache) or this replica last wrote it
        ``heartbeat_write_s`` ago or more."""
        now = self._ctx.clock.monotonic()
        spacing = self._ctx.settings.heartbeat_write_s
        seen: dict[tuple[str, str, str], tuple[int, bool]] = {}
        for tenant, tb in batch.telemetry:
            if tb.hist:
                continue
            for p in tb.points:
                key = (tenant, tb.edge, p.device)
                ts, bad = seen.get(key, (0, True))
                seen[key] = (max(ts, p.ts_ms), bad and p.quality == "bad")
        due: list[tuple[tuple[str, str, str], int, bool]] = []
        for key in sorted(seen):
            ts_ms, bad = seen[key]
            tenant, edge, device = key
            previous = self._ctx.cache.device(edge_key(tenant, edge), device)
            changed = previous is None or previous.bad != bad
            last = self._heartbeats.get(key)
            if changed or last is None or now - last >= spacing:
                due.append((key, ts_ms, bad))
        return due

    async def _heartbeats_and_status(
        self, session: AsyncSession, batch: _Batch
    ) -> list[tuple[str, str, str]]:
        """Throttled heartbeats; status ONLINE on good data, ERROR on all-bad data.
        MAINTENANCE is never changed here. Returns the devices written, for the caller to
        record in the throttle once the transaction committed.

        Set-based: at most one statement per kind of change for the whole batch, whatever
        its number of devices, rows locked in key order (``_update_instances``). A
        heartbeat within ``heartbeat_write_s / 2`` of the stored one (another replica's,
        or this one's) is not written again."""
        due = self._due_heartbeats(batch)
        if not due:
            return []
        half = dt.timedelta(seconds=self._ctx.settings.heartbeat_write_s / 2)
        beats = []
        for (tenant, edge, device), ts_ms, _ in due:
            ts = _utc(ts_ms)
            beats.append(
                {"t": tenant, "e": edge, "d": device, "ts": ts, "lo": ts - half, "hi": ts + half}
            )
        await _update_instances(session, _HEARTBEAT, beats)
        bad = [{"t": t, "e": e, "d": d} for (t, e, d), _, is_bad in due if is_bad]
        good = [{"t": t, "e": e, "d": d} for (t, e, d), _, is_bad in due if not is_bad]
        if bad:
            await _update_instances(session, _TO_ERROR, bad)
        if good:
            await _update_instances(session, _TO_ONLINE, good)
        return [key for key, _, _ in due]


_STAMP: Any = ResourceInstance.__table__.c.last_heartbeat.type
_INSTANCE_KEY = "ri.edge_tenant = u.t AND ri.edge_id = u.e AND ri.device_id = u.d"


@dataclass(frozen=True, slots=True)
class _InstanceUpdate:
    """One set-based UPDATE of ``vpp_resource_instances`` matched on (tenant, edge,
    device): the SET and the extra condition, in SQL over ``ri`` (the row) and ``u``
    (the parameters: ``t``, ``e``, ``d`` and ``extra``)."""

    set_sql: str
    where_sql: str
    extra: tuple[tuple[str, str], ...] = ()
    """Further per-row parameters: (name, PostgreSQL array element type)."""


_HEARTBEAT = _InstanceUpdate(
    "last_heartbeat = u.ts",
    "(ri.last_heartbeat IS NULL OR ri.last_heartbeat < u.lo OR ri.last_heartbeat > u.hi)",
    (("ts", "TIMESTAMPTZ"), ("lo", "TIMESTAMPTZ"), ("hi", "TIMESTAMPTZ")),
)
_TO_ERROR = _InstanceUpdate(
    "status = 'ERROR', status_reason = 'device reports bad quality'", "ri.status = 'ONLINE'"
)
_TO_ONLINE = _InstanceUpdate(
    "status = 'ONLINE', status_reason = NULL", "ri.status IN ('OFFLINE', 'ERROR')"
)


async def _update_instances(
    session: AsyncSession, change: _InstanceUpdate, rows: list[dict[str, Any]]
) -> None:
    """Apply ``change`` to the instances of ``rows`` (sorted by key) in one statement.

    PostgreSQL: one ``UPDATE ... FROM`` a ``SELECT ... ORDER BY key FOR UPDATE`` over
    ``unnest`` of the parameters, so the rows are locked in key order (two replicas
    locking overlapping sets wait for each other instead of deadlocking). SQLite (one
    writer at a time): an executemany of one UPDATE, in key order too.

    The statement starts ``UPDATE vpp_resource_instances SET <columns>`` so that
    ``hub.store.written_tables`` names the table (and a heartbeat only its volatile
    columns), never "every table"."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        names = ("t", "e", "d", *(name for name, _ in change.extra))
        types = ("TEXT", "TEXT", "TEXT", *(kind for _, kind in change.extra))
        arrays = ", ".join(f"CAST(:{n} AS {k}[])" for n, k in zip(names, types, strict=True))
        selected = ", ".join(f"u.{n}" for n in names[3:])
        sql = (  # module constants only; every value is bound
            f"UPDATE vpp_resource_instances SET {change.set_sql.replace('u.', 'v.')}, "  # noqa: S608
            f"updated_at = :now FROM (SELECT ri.id{', ' if selected else ''}{selected} "
            f"FROM vpp_resource_instances AS ri JOIN unnest({arrays}) AS u({', '.join(names)}) "
            f"ON {_INSTANCE_KEY} WHERE {change.where_sql} "
            "ORDER BY ri.edge_tenant, ri.edge_id, ri.device_id FOR UPDATE OF ri) AS v "
            "WHERE vpp_resource_instances.id = v.id"
        )
        params: dict[str, Any] = {n: [row[n] for row in rows] for n in names}
        params["now"] = now
        await session.execute(text(sql), params)
        return
    sql = (  # module constants only; every value is bound
        f"UPDATE vpp_resource_instances SET {change.set_sql.replace('u.', ':')}, "  # noqa: S608
        "updated_at = :now WHERE edge_tenant = :t AND edge_id = :e AND device_id = :d AND "
        f"{change.where_sql.replace('ri.', '').replace('u.', ':')}"
    )
    stamps = ("now", *(n for n, kind in change.extra if kind == "TIMESTAMPTZ"))
    typed = text(sql).bindparams(*(bindparam(n, type_=_STAMP) for n in stamps))
    await session.execute(typed, [{**row, "now": now} for row in rows])


async def known_instances(session: AsyncSession, tenant: str, edge: str) -> list[str]:
    """Ids of the instances bound to ``(tenant, edge)`` (used by tests and tools)."""
    return list(
        await session.scalars(
            select(ResourceInstance.id).where(
                ResourceInstance.edge_tenant == tenant, ResourceInstance.edge_id == edge
            )
        )
    )
