"""MQTT sync with the hub: retained state with a Will, birth, live data, backlog replay.

One :class:`HubLink` owns the connection. A tenacity loop (exponential backoff with jitter)
re-enters a fresh ``aiomqtt.Client`` after every disconnect; the session is persistent
(``clean_session=False``, fixed client id) and everything is QoS 1.

Publishing order, per connection: control messages (state, birth, replies) first, then live
data, then the backlog, oldest first, ``hist=true``, at ``flush_rate_per_s`` — so replay
always runs behind live data. Queues are bounded: the live queue (1,000 messages) drops the
*live copy* when full — the row is already committed in the outbox and is replayed instead;
the control queue (256) drops the oldest reply (the command's sender retries by ``cid``).

Backlog: on every connect, everything in the outbox up to the newest key is backlog. When
the hub comes back (``_hub/state`` online) or a row stays unacked for ``resend_after_s``,
the backlog is replayed again; receivers deduplicate by ``(edge, sid, seq)``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

import aiomqtt
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from protocol import Birth, State, TelemetryBatch, encode
from protocol.clock import Clock
from protocol.topics import EdgeTopics

from ._config import AgentConfig
from ._metrics import AgentMetrics
from ._outbox import KIND_DATA, Outbox, Uplinked, as_history

_log = logging.getLogger(__name__)

LIVE_QUEUE_MAX: Final = 1_000
CONTROL_QUEUE_MAX: Final = 256
INFLIGHT_WINDOW: Final = 64
REPLAY_CHUNK: Final = 256

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
        self._live: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(LIVE_QUEUE_MAX)
        self._control: asyncio.Queue[tuple[str, bytes, bool]] = asyncio.Queue(CONTROL_QUEUE_MAX)
        self._kick = asyncio.Event()
        self._replay_upto: Key | None = None
        self._replay_cursor: Key | None = None
        self.connected = False
        self.connected_event = asyncio.Event()
        self.hub_online = False
        self.connects = 0
        self.replayed_total = 0

    # ------------------------------------------------------------------ producer side

    def topic_of(self, message: Uplinked) -> str:
        if isinstance(message, TelemetryBatch):
            return self.topics.data
        return self.topics.dispatch_status

    def offer_live(self, messages: list[Uplinked]) -> None:
        """Publish committed messages live if connected (else they wait in the outbox)."""
        if not self.connected:
            return
        for message in messages:
            try:
                self._live.put_nowait((self.topic_of(message), encode(message)))
            except asyncio.QueueFull:
                self._metrics.live_dropped.inc()
                self.request_replay()
        self._kick.set()

    def send_control(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue a reply, birth or state message (dropped while disconnected)."""
        if not self.connected:
            return
        if self._control.full():
            self._control.get_nowait()
            self._metrics.live_dropped.inc()
        self._control.put_nowait((topic, payload, retain))
        self._kick.set()

    def request_replay(self, *, restart: bool = True) -> None:
        """Replay the backlog up to the newest committed key (behind live data).

        ``restart=False`` extends a replay in progress instead of starting it over.
        """
        self._replay_upto = self._outbox.last_key
        if restart:
            self._replay_cursor = None
        self._kick.set()

    def set_hub_online(self, online: bool) -> None:
        if online and not self.hub_online:
            _log.info("hub online: flushing the backlog")
            self.request_replay(restart=not self.replaying)
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
        return aiomqtt.Client(
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
            tls_params=tls,
            max_queued_incoming_messages=1_000,
            max_inflight_messages=100,
        )

    async def run(self) -> None:
        """Stay connected until cancelled, reconnecting with backoff and jitter."""
        while True:
            retrying = AsyncRetrying(
                wait=wait_exponential_jitter(initial=0.2, max=10.0, jitter=0.5),
                retry=retry_if_exception_type((aiomqtt.MqttError, OSError)),
            )
            async for attempt in retrying:
                with attempt:
                    await self._session()

    async def _session(self) -> None:
        try:
            async with self._client() as client:
                await self._connected(client)
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
        self.connects += 1
        self.connected = True
        self.connected_event.set()
        self._metrics.mqtt_connected.set(1)
        _log.info("connected to the hub broker %s (session %d)", self._config.hub.url,
                  self._outbox.sid)  # fmt: skip
        self.request_replay()

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

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self._on_message(str(message.topic), bytes(message.payload), bool(message.retain))

    async def _resend_timer(self) -> None:
        period = self._config.outbox.resend_after_s
        marker: Key | None = None
        while True:
            await asyncio.sleep(period)
            if marker is not None and not self.replaying:
                rows = await self._outbox.read_after(None, marker, 1)
                if rows:
                    self._replay_upto, self._replay_cursor = marker, None
                    self._kick.set()
            marker = self._outbox.last_key

    async def _publish(self, client: aiomqtt.Client) -> None:  # noqa: PLR0915
        window = asyncio.Semaphore(INFLIGHT_WINDOW)
        rate = self._config.outbox.flush_rate_per_s
        tokens, last = 0.0, time.monotonic()
        rate_mark, rate_count = time.monotonic(), 0

        async def send(topic: str, payload: bytes, retain: bool, kind: str) -> None:
            try:
                await client.publish(topic, payload, qos=1, retain=retain)
                self._metrics.published.labels(kind).inc()
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
                    topic, payload = self._live.get_nowait()
                    tg.create_task(send(topic, payload, False, "live"))
                    continue
                if self._replay_upto is not None:
                    now = time.monotonic()
                    tokens = min(rate, tokens + (now - last) * rate)
                    last = now
                    if tokens < 1.0:
                        window.release()
                        await asyncio.sleep((1.0 - tokens) / rate)
                        continue
                    want = max(1, min(int(tokens), REPLAY_CHUNK))
                    rows = await self._outbox.read_after(
                        self._replay_cursor, self._replay_upto, want
                    )
                    if not rows:
                        self._replay_upto = self._replay_cursor = None
                        window.release()
                        continue
                    window.release()
                    for row in rows:
                        await window.acquire()
                        topic = (
                            self.topics.data
                            if row.kind == KIND_DATA
                            else (self.topics.dispatch_status)
                        )
                        tg.create_task(send(topic, as_history(row, self.topics.edge), False,
                                            "replay"))  # fmt: skip
                        self._replay_cursor = (row.sid, row.seq)
                    tokens -= len(rows)
                    self.replayed_total += len(rows)
                    self._metrics.replayed.inc(len(rows))
                    rate_count += len(rows)
                    if now - rate_mark >= 1.0:
                        self._metrics.replay_rate.set(rate_count / (now - rate_mark))
                        rate_mark, rate_count = now, 0
                    continue
                window.release()
                self._kick.clear()
                await self._kick.wait()


__all__ = ["CONTROL_QUEUE_MAX", "INFLIGHT_WINDOW", "LIVE_QUEUE_MAX", "HubLink"]
