"""MQTT sync with the hub: retained state with a Will, birth, live data, backlog replay.

One :class:`HubLink` owns the connection. A tenacity loop (exponential backoff with jitter)
re-enters a fresh ``aiomqtt.Client`` after every disconnect; the session is persistent
(``clean_session=False``, fixed client id) and everything is QoS 1.

Publishing order, per connection: control messages (state, birth, replies) first, then live
data, then the backlog, oldest first, ``hist=true``, at ``flush_rate_per_s`` — so replay
always runs behind live data. Queues are bounded: the live queue (1,000 messages) drops the
*live copy* when full — the row is in the outbox and is replayed once committed;
the control queue (256) drops the oldest reply (the command's sender retries by ``cid``).

Backlog: on every connect, everything in the outbox up to the newest key is backlog, and
what the broker has not acknowledged yet is replayed. Delivery never depends on the broker
having held messages for the hub: when the hub comes back (``_hub/state`` turns online: a new
hub session) or when the hub's acks stop advancing for ``resend_after_s`` while rows wait,
*everything* the hub has not acknowledged is replayed, whatever the broker acknowledged
(the broker may have dropped it: a clean hub session, a full queue, a broker restart);
receivers deduplicate by ``(edge, sid, seq)``.

Every timer here (replay grace, resend, replay rate, reconnect pauses) runs on the agent's
injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Final

import aiomqtt
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from protocol import Birth, State, TelemetryBatch, encode
from protocol.aio import keep_cancellation, mqtt_logger
from protocol.clock import Clock
from protocol.topics import EdgeTopics

from ._config import AgentConfig
from ._metrics import AgentMetrics
from ._outbox import KIND_DATA, Committed, Outbox, Uplinked, as_history

_log = logging.getLogger(__name__)

LIVE_QUEUE_MAX: Final = 1_000
CONTROL_QUEUE_MAX: Final = 256
INFLIGHT_WINDOW: Final = 64
REPLAY_CHUNK: Final = 256
DELIVERED_MAX: Final = 200_000

Key = tuple[int, int]


class HubLink:
    """The agent's MQTT connection to the hub (reconnects by itself; run it in a task)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        outbox: Outbox,
        clock: Clock,
        metrics: AgentMetrics,
        on_message: Callable[[str, bytes, bool], None],
        births: Callable[[], list[Birth]],
    ) -> None:
        self._config = config
        self._outbox = outbox
        self._clock = clock
        self._metrics = metrics
        self._on_message = on_message
        self._births = births
        self.topics = EdgeTopics(config.site.tenant, config.site.edge)
        self._live: asyncio.Queue[tuple[str, bytes, Key]] = asyncio.Queue(LIVE_QUEUE_MAX)
        self._delivered: dict[int, set[int]] = {}
        """Keys the broker acknowledged (PUBACK) in this process and the hub has not acked
        yet: a reconnect does not replay them again (the broker holds them for the hub's
        persistent session). Bounded: cleared past DELIVERED_MAX (more replays, no loss)."""
        self._delivered_count = 0
        self._force = False
        self._ack_seen = asyncio.Event()
        self._hold_until = 0.0
        self._control: asyncio.Queue[tuple[str, bytes, bool]] = asyncio.Queue(CONTROL_QUEUE_MAX)
        self._kick = asyncio.Event()
        self._live_dropped = False
        self._replay_upto: Key | None = None
        self._replay_cursor: Key | None = None
        self.connected = False
        self._in_session = False
        """A connection is being made or is up (``connected`` comes only once the state
        and births are out): downlink already flows, so replies may be queued."""
        self.connected_key: Key = (0, 0)
        """The newest key when the connection came up: older rows are backlog."""
        self.connected_event = asyncio.Event()
        self.hub_online = False
        self.connects = 0
        self.replayed_total = 0
        self.ack_progress = 0
        """Acks that moved the hub's cursor forward (a hub stuck at a gap keeps sending the
        same ack: that is a stall, not progress)."""
        self._ack_top: dict[int, int] = {}
        self.resends = 0
        """Forced replays because the hub's acks stalled."""

    # ------------------------------------------------------------------ producer side

    def topic_of(self, message: Uplinked) -> str:
        if isinstance(message, TelemetryBatch):
            return self.topics.data
        return self.topics.dispatch_status

    def offer_live(self, messages: list[Committed]) -> None:
        """Publish just-appended messages live if connected (else they wait in the outbox
        and go out as backlog once committed)."""
        if not self.connected:
            return
        for message, payload in messages:
            try:
                self._live.put_nowait((self.topic_of(message), payload, (message.sid, message.seq)))
            except asyncio.QueueFull:
                self._metrics.live_dropped.inc()
                self._live_dropped = True
        self._kick.set()

    def after_commit(self) -> None:
        """Rows are now committed: live copies dropped meanwhile go out as backlog."""
        if self._live_dropped:
            self._live_dropped = False
            self.request_replay(restart=not self.replaying)

    def send_control(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue a reply, birth or state message (dropped while disconnected). Queued also
        while the connection comes up: a command the broker held for this persistent
        session arrives then, and its reply must not be lost."""
        if not (self.connected or self._in_session):
            return
        if self._control.full():
            self._control.get_nowait()
            self._metrics.live_dropped.inc()
        self._control.put_nowait((topic, payload, retain))
        self._kick.set()

    def request_replay(self, *, restart: bool = True, force: bool = False) -> None:
        """Replay the backlog up to the newest committed key (behind live data).

        ``restart=False`` extends a replay in progress instead of starting it over;
        ``force`` also re-sends what the broker already acknowledged.
        """
        self._replay_upto = self._outbox.committed_key
        if restart:
            self._replay_cursor = None
        self._force = self._force or force
        self._kick.set()

    def acked(self, sid: int, seq: int) -> None:
        """The hub stored everything of ``sid`` up to ``seq``: forget those deliveries."""
        if seq > self._ack_top.get(sid, -1):
            self._ack_top[sid] = seq
            self.ack_progress += 1
            while len(self._ack_top) > 64:  # bounded: the oldest sessions first
                del self._ack_top[min(self._ack_top)]
        self._ack_seen.set()
        self._kick.set()
        seen = self._delivered.get(sid)
        if seen:
            done = {s for s in seen if s <= seq}
            seen -= done
            self._delivered_count -= len(done)
        for old in [s for s in self._delivered if s < sid and not self._delivered[s]]:
            del self._delivered[old]

    def _mark_delivered(self, key: Key) -> None:
        if self._delivered_count >= DELIVERED_MAX:
            self._delivered.clear()
            self._delivered_count = 0
        seen = self._delivered.setdefault(key[0], set())
        if key[1] not in seen:
            seen.add(key[1])
            self._delivered_count += 1

    def _was_delivered(self, sid: int, seq: int) -> bool:
        return seq in self._delivered.get(sid, ())

    def set_hub_online(self, online: bool) -> None:
        """The hub's retained state. Turning online is a new hub session: whatever it has
        not acknowledged is sent again from the oldest row, even what the broker took."""
        if online and not self.hub_online:
            _log.info("hub online: replaying everything it has not acknowledged")
            self.request_replay(restart=True, force=True)
        elif not online and self.hub_online:
            _log.info("hub offline: live data and backlog wait in the outbox for its return")
        self.hub_online = online

    @property
    def replaying(self) -> bool:
        return self._replay_upto is not None

    # ------------------------------------------------------------------ connection

    def _client(self) -> aiomqtt.Client:
        hub = self._config.hub
        will = aiomqtt.Will(
            self.topics.state,
            encode(State(online=False, sid=self._outbox.sid, ts_ms=self._clock.now_ms())),
            qos=1,
            retain=True,
        )
        tls = None
        if hub.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=hub.ca_file, certfile=hub.cert_file, keyfile=hub.key_file
            )
        client = aiomqtt.Client(
            hub.host,
            hub.port,
            username=hub.username,
            password=hub.password,
            identifier=hub.client_id
            or f"lingtan-edge-{self._config.site.tenant}-{self._config.site.edge}",
            clean_session=False,
            will=will,
            keepalive=hub.keepalive_s,
            timeout=10.0,
            logger=mqtt_logger(),
            tls_params=tls,
            queue_type=self._inbox_type(),
            max_inflight_messages=100,
        )
        # our own window bounds the publishes in flight; aiomqtt would warn above 10
        client.pending_calls_threshold = INFLIGHT_WINDOW + CONTROL_QUEUE_MAX + 16
        return client

    async def run(self) -> None:
        """Stay connected until cancelled, reconnecting with backoff and jitter."""
        while True:
            retrying = AsyncRetrying(
                sleep=self._clock.sleep,
                wait=wait_exponential_jitter(
                    multiplier=0.2, max=self._config.hub.reconnect_max_s, jitter=0.2
                ),
                retry=retry_if_exception_type((aiomqtt.MqttError, OSError)),
            )
            async for attempt in retrying:
                with attempt:
                    before = self.connects
                    try:
                        await self._session()
                    except (aiomqtt.MqttError, OSError):
                        if self.connects == before:
                            raise  # never got connected: back off further
            # Connected, then lost: start over with a short pause, not the grown one.
            await self._clock.sleep(random.uniform(0.1, 0.3))  # noqa: S311 - jitter

    async def _session(self) -> None:
        # From CONNECT on: paho hands over what the broker held for this session as soon
        # as the CONNACK is in, before aiomqtt's connect returns.
        self._in_session = True
        task = asyncio.current_task()
        # Counted from here: Python 3.11's TaskGroup leaves one behind on its parent when a
        # task fails while the group is already exiting (the last session's, at an outage).
        cancels = task.cancelling() if task is not None else 0
        try:
            async with keep_cancellation(self._client()) as client:
                await self._connected(client)
                # Subscribes and publishes wait with Python 3.11's asyncio.wait_for (inside
                # aiomqtt), which returns the result and drops a cancellation that lands
                # with the broker's ack. A stop right as the link comes up then went on
                # into the session's tasks, which nothing cancels again: the agent's stop
                # waited for good ("agent task still running after 80 cancellations").
                if task is not None and task.cancelling() > cancels:
                    raise asyncio.CancelledError
                try:
                    await self._run_tasks(client)
                except asyncio.CancelledError:
                    await self._say_offline(client)
                    raise
        except aiomqtt.MqttError as exc:
            if self.connected:
                _log.warning("hub connection lost: %s", exc)
            raise
        finally:
            self._in_session = False
            if self.connected:
                self.connected = False
                self.connected_event.clear()
                self._metrics.mqtt_connected.set(0)
            while not self._live.empty():  # they are in the outbox: replayed next time
                self._live.get_nowait()
            while not self._control.empty():
                self._control.get_nowait()

    async def _connected(self, client: aiomqtt.Client) -> None:
        for topic_filter in self.topics.downlink_filters():
            await client.subscribe(topic_filter, qos=1)
        state = State(online=True, sid=self._outbox.sid, ts_ms=self._clock.now_ms())
        await client.publish(self.topics.state, encode(state), qos=1, retain=True)
        for birth in self._births():
            topic = (
                self.topics.birth
                if birth.device is None
                else self.topics.device_birth(birth.device)
            )
            await client.publish(topic, encode(birth), qos=1, retain=True)
        await self._prime_session(client)
        self.connects += 1
        self._ack_seen.clear()
        self._hold_until = self._clock.monotonic() + self._config.outbox.replay_grace_s
        self.connected = True
        self.connected_key = self._outbox.committed_key
        self.connected_event.set()
        self._metrics.mqtt_connected.set(1)
        _log.info("connected to the hub broker %s (session %d)", self._config.hub.url,
                  self._outbox.sid)  # fmt: skip
        self.request_replay()

    async def _prime_session(self, client: aiomqtt.Client) -> None:
        """Send the current session's oldest unacked row before any live data.

        Live data goes ahead of the backlog, and a receiver that meets a session for the
        first time may start counting contiguity at the first seq it sees (the hub does):
        seeing seq 101 live before the stored 1..100 would ack them unseen. One message,
        the oldest of this session, fixes where the count starts.
        """
        sid, committed = self._outbox.committed_key
        if sid != self._outbox.sid:
            return  # nothing committed in this session yet: live data starts at seq 1
        rows = await self._outbox.read_after((sid, 0), (sid, committed), 1)
        if not rows or self._was_delivered(rows[0].sid, rows[0].seq):
            return
        row = rows[0]
        topic = self.topics.data if row.kind == KIND_DATA else self.topics.dispatch_status
        await client.publish(topic, as_history(row, self.topics.edge), qos=1)
        self._mark_delivered((row.sid, row.seq))

    async def _run_tasks(self, client: aiomqtt.Client) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._receive(client))
                tg.create_task(self._publish(client))
                tg.create_task(self._resend_timer())
        except* aiomqtt.MqttError as group:
            raise group.exceptions[0] from None

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """A clean stop clears the retained state itself (the Will is for crashes)."""
        state = State(online=False, sid=self._outbox.sid, ts_ms=self._clock.now_ms())
        try:
            async with asyncio.timeout(2.0):
                await client.publish(self.topics.state, encode(state), qos=1, retain=True)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            _log.info("could not publish the offline state: %s", exc)

    def _inbox_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        """Handle each downlink message as paho hands it over, and queue nothing.

        aiomqtt's message iterator stops at a disconnect even with messages still queued
        that paho has already acknowledged to the broker (QoS 1): they would be lost. The
        handler is synchronous and quick (decode, validate, record), so it runs right in
        paho's callback; the queue stays empty, which also bounds it.
        """
        link = self

        class Inbox(asyncio.Queue[aiomqtt.Message]):
            def put_nowait(self, item: aiomqtt.Message) -> None:
                try:
                    link._on_message(str(item.topic), bytes(item.payload), bool(item.retain))
                except Exception:  # a bug in a handler must not break the connection
                    _log.exception("downlink handler failed on %s", item.topic)
                    link._metrics.rejections.labels("internal", "handler error").inc()

        return Inbox

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for _ in client.messages:  # never yields (see _inbox_type); ends at disconnect
            pass

    async def _resend_timer(self) -> None:
        """Acks that stop advancing while rows wait: replay them, whatever the broker took.

        Every ``resend_after_s``: if rows committed before the previous check are still
        unacknowledged and the hub's ack has not moved meanwhile (it repeats a stuck ack
        after every message), everything up to them is replayed (forced). A hub that is
        merely slow keeps moving its ack and is left alone.
        """
        period = self._config.outbox.resend_after_s
        marker: Key | None = None
        while True:
            progress_before = self.ack_progress
            await self._clock.sleep(period)
            stalled = self.ack_progress == progress_before
            if marker is not None and stalled and not self.replaying and self.hub_online:
                rows = await self._outbox.read_after(None, marker, 1)
                if rows:
                    _log.info("hub acks stalled with rows waiting: replaying them")
                    self._replay_upto, self._replay_cursor = marker, None
                    self._force = True
                    self.resends += 1
                    self._kick.set()
            marker = self._outbox.committed_key

    async def _kick_or_sleep(self, seconds: float) -> None:
        """Wait for a kick (new work) or ``seconds`` of the agent's clock, whichever first."""
        kicked = asyncio.ensure_future(self._kick.wait())
        slept = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({kicked, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (kicked, slept):
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter

    async def _publish(self, client: aiomqtt.Client) -> None:  # noqa: PLR0915
        window = asyncio.Semaphore(INFLIGHT_WINDOW)
        rate = self._config.outbox.flush_rate_per_s
        clock = self._clock
        tokens, last = 0.0, clock.monotonic()
        rate_mark, rate_count = clock.monotonic(), 0

        async def send(topic: str, payload: bytes, retain: bool, kind: str,
                       key: Key | None = None) -> None:  # fmt: skip
            try:
                await client.publish(topic, payload, qos=1, retain=retain)
            except ValueError as exc:  # paho refuses the topic: drop this message only
                _log.warning("cannot publish to %r: %s", topic, exc)
                self._metrics.rejections.labels("publish", "invalid topic").inc()
            else:
                self._metrics.published.labels(kind).inc()
                if key is not None:
                    self._mark_delivered(key)
            finally:
                window.release()

        async with asyncio.TaskGroup() as tg:
            while True:
                await window.acquire()
                if not self._control.empty():
                    topic, payload, retain = self._control.get_nowait()
                    tg.create_task(send(topic, payload, retain, "control"))
                    continue
                if not self._live.empty():
                    topic, payload, key = self._live.get_nowait()
                    tg.create_task(send(topic, payload, False, "live", key))
                    continue
                if self._replay_upto is not None:
                    now = clock.monotonic()
                    if now < self._hold_until and not self._ack_seen.is_set():
                        # the backlog waits for the hub's first ack (live data does not)
                        window.release()
                        self._kick.clear()
                        await self._kick_or_sleep(self._hold_until - now)
                        continue
                    tokens = min(rate, tokens + (now - last) * rate)
                    last = now
                    if tokens < 1.0:
                        window.release()
                        await clock.sleep((1.0 - tokens) / rate)
                        continue
                    want = max(1, min(int(tokens), REPLAY_CHUNK))
                    rows = await self._outbox.read_after(
                        self._replay_cursor, self._replay_upto, want
                    )
                    if not rows:
                        self._replay_upto = self._replay_cursor = None
                        self._force = False
                        window.release()
                        continue
                    window.release()
                    force, sent = self._force, 0
                    for row in rows:
                        self._replay_cursor = (row.sid, row.seq)
                        if self._outbox.is_acked(row.sid, row.seq) or (
                            not force and self._was_delivered(row.sid, row.seq)
                        ):
                            continue
                        sent += 1
                        await window.acquire()
                        topic = (
                            self.topics.data
                            if row.kind == KIND_DATA
                            else (self.topics.dispatch_status)
                        )
                        payload = as_history(row, self.topics.edge)
                        key = (row.sid, row.seq)
                        tg.create_task(send(topic, payload, False, "replay", key))
                    tokens -= sent
                    self.replayed_total += sent
                    self._metrics.replayed.inc(sent)
                    rate_count += sent
                    if now - rate_mark >= 1.0:
                        self._metrics.replay_rate.set(rate_count / (now - rate_mark))
                        rate_mark, rate_count = now, 0
                    continue
                window.release()
                self._kick.clear()
                await self._kick.wait()


__all__ = ["CONTROL_QUEUE_MAX", "INFLIGHT_WINDOW", "LIVE_QUEUE_MAX", "HubLink"]
