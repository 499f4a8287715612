"""A hub stand-in on a real broker: records uplink, acks per session id, sends downlink."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from types import TracebackType

import aiomqtt

from protocol import (
    Ack,
    Birth,
    DispatchStatus,
    HubState,
    Reply,
    TelemetryBatch,
    decode_as,
    decode_uplink,
    encode,
)
from protocol.aio import keep_cancellation
from protocol.topics import EdgeTopics


@dataclass
class Received:
    sid: int
    seq: int
    hist: bool
    message: TelemetryBatch | DispatchStatus


@dataclass
class HubStandIn:
    """Subscribes to an edge's uplink; acks the highest contiguous seq of each sid."""

    port: int
    tenant: str
    edge: str
    auto_ack: bool = True
    start_at_first_seen: bool = False
    """Count contiguity from the first seq seen of a session (as the hub does) instead of 1."""
    client_id: str = "hub-standin"
    received: list[Received] = field(default_factory=list)
    statuses: list[DispatchStatus] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    retained_state: list[bytes] = field(default_factory=list)
    births: dict[str, Birth] = field(default_factory=dict)
    repeat_acks: bool = False
    """Ack after every message even when the ack did not move (as the hub does)."""
    drop_once: set[tuple[int, int]] = field(default_factory=set)
    """Keys to lose once after the broker delivered them (a hub that never stored them)."""
    _seen: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    _contiguous: dict[int, int] = field(default_factory=dict)
    _acked: dict[int, int] = field(default_factory=dict)
    _reack: bool = False
    _client: aiomqtt.Client | None = None
    _task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def topics(self) -> EdgeTopics:
        return EdgeTopics(self.tenant, self.edge)

    async def __aenter__(self) -> HubStandIn:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:  # fmt: skip
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _queue_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        """Record every message as paho hands it over.

        aiomqtt's message iterator stops at a disconnect even when messages are still
        queued, after paho has already PUBACKed them: those would be lost for a consumer
        that only reads ``client.messages``. Recording in the queue's ``put_nowait`` (called
        from paho's callback) keeps every delivered message.
        """
        standin = self

        class Recording(asyncio.Queue[aiomqtt.Message]):
            def put_nowait(self, item: aiomqtt.Message) -> None:
                standin._record(str(item.topic), bytes(item.payload))
                super().put_nowait(item)

        return Recording

    async def _run(self) -> None:
        while True:
            try:
                async with keep_cancellation(
                    aiomqtt.Client(
                        "127.0.0.1",
                        self.port,
                        identifier=self.client_id,
                        clean_session=False,
                        queue_type=self._queue_type(),
                        timeout=1.0,
                    )
                ) as client:
                    self._client = client
                    t = self.topics
                    for topic in (t.data, t.dispatch_status, t.reply, t.state, t.birth,
                                  f"{t.base}/+/birth"):  # fmt: skip
                        await client.subscribe(topic, qos=1)
                    await self._ack_all(client)
                    async for _ in client.messages:
                        await self._ack_all(client)
            except aiomqtt.MqttError:
                self._client = None
                await asyncio.sleep(0.2)

    async def _ack_all(self, client: aiomqtt.Client) -> None:
        if not self.auto_ack:
            return
        again, self._reack = self._reack or self.repeat_acks, False
        for sid, top in list(self._contiguous.items()):
            if top > self._acked.get(sid, 0) or (again and top > 0):
                ack = Ack(edge=self.edge, sid=sid, seq=top, ts_ms=1)
                await client.publish(self.topics.ack, encode(ack), qos=1)
                self._acked[sid] = top

    def _record(self, topic: str, payload: bytes) -> None:
        if topic.endswith("/birth"):
            self.births[topic] = decode_as(payload, Birth)
            return
        if topic == self.topics.state:
            self.retained_state.append(payload)
            # as the hub does: an edge that comes (back) online gets the latest ack again
            self._reack = True
            self.changed.set()
            return
        msg = decode_uplink(payload)
        if (
            isinstance(msg, TelemetryBatch | DispatchStatus)
            and (msg.sid, msg.seq) in self.drop_once
        ):
            self.drop_once.discard((msg.sid, msg.seq))
            return
        if isinstance(msg, Reply):
            self.replies.append(msg)
        elif isinstance(msg, TelemetryBatch | DispatchStatus):
            self.received.append(Received(msg.sid, msg.seq, msg.hist, msg))
            if isinstance(msg, DispatchStatus):
                self.statuses.append(msg)
            seen = self._seen[msg.sid]
            seen.add(msg.seq)
            if self.start_at_first_seen and msg.sid not in self._contiguous:
                self._contiguous[msg.sid] = msg.seq - 1
            top = self._contiguous.get(msg.sid, 0)
            while top + 1 in seen:
                top += 1
            self._contiguous[msg.sid] = top
        self.changed.set()

    def forget(self) -> None:
        """Lose everything received (a hub whose broker session dropped it all)."""
        self.received.clear()
        self._seen.clear()
        self._contiguous.clear()

    def contiguous(self, sid: int) -> int:
        return self._contiguous.get(sid, 0)

    def keys(self) -> list[tuple[int, int]]:
        return [(r.sid, r.seq) for r in self.received]

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        for _ in range(100):
            if self._client is not None:
                with contextlib.suppress(aiomqtt.MqttError):
                    await self._client.publish(topic, payload, qos=1, retain=retain)
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the hub stand-in could not publish")

    async def hub_online(self, online: bool = True, ts_ms: int = 1) -> None:
        await self.publish(
            self.topics.base.rsplit("/", 2)[0] + "/_hub/state",
            encode(HubState(online=online, ts_ms=ts_ms)),
            retain=True,
        )
