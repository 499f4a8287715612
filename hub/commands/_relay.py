"""The hub's command relay: a :class:`~protocol.Command` to one device of one edge, and
its :class:`~protocol.Reply` back to the replica that is waiting for it.

Replies and replicas: every replica has a reply topic of its own under each edge's tree,
``vpp/v1/{tenant}/{edge}/reply/{replica}`` (the command's ``reply_to``; the edge's ACL lets
it publish under its own ``reply/+``), and subscribes to ``vpp/v1/+/+/reply/{replica}``
without ``$share``: a reply reaches the replica that sent the command whatever the others
share. ``{replica}`` is the MQTT client id (made a valid topic level) and a random suffix,
new at every start: a reply to a replica that restarted is dropped by the broker.

Its own MQTT connection (clean session, client id ``<hub client id>-cmd``): the ingest
connection PUBACKs an uplink only once it is stored (flow control), so a slow database
would hold a reply back behind telemetry; and a reply is nothing to keep across a restart.

Pending commands: ``cid`` -> (tenant, edge, future), at most ``command_max_pending``; one
more is :class:`Unavailable`. A reply is matched by ``cid`` and must come from the edge
the command went to (another edge's "reply" is dropped). A reply nobody waits for (it came
after the deadline) is counted in ``hub_command_replies_dropped_total{reason}``.

Deadlines: the hub waits ``timeout_s``; the command expires a little earlier
(:func:`expiry_ms`), so an agent that executes it just before its expiry still has time
to have its reply arrive, and an agent that gets it later refuses it (``expired``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import secrets
import ssl
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import aiomqtt

from hub._settings import mqtt_client_id, mqtt_endpoint
from protocol import Command, ProtocolError, Reply, decode_as, encode, sniff_encoding
from protocol.aio import keep_cancellation, mqtt_logger
from protocol.topics import EdgeTopics, parse_replica_reply, replica_reply_filter

from ._types import ArgValue, CommandOutcome, NoReply, Replied, Unavailable

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

REPLY_GRACE_MS = 1_000
"""At most this much of a command's timeout is left between its expiry and the hub's
giving up on it (for the reply's way back)."""


def expiry_ms(now_ms: int, timeout_s: float) -> int:
    """When a command the hub waits ``timeout_s`` for expires at the edge.

    >>> expiry_ms(0, 10.0), expiry_ms(0, 1.0)
    (9000, 800)
    """
    timeout_ms = int(timeout_s * 1000)
    return now_ms + timeout_ms - min(REPLY_GRACE_MS, timeout_ms // 5)


def replica_id(client_id: str) -> str:
    """A topic level naming this replica: its MQTT client id, made valid, and a random
    suffix (unique even if two replicas were given one client id).

    >>> replica_id("lingtan-hub-box-8080")[:-9]
    'lingtan-hub-box-8080'
    >>> replica_id("hub/a b")[:-9]
    'hub-a-b'
    """
    base = re.sub(r"[^A-Za-z0-9_.\-]", "-", client_id).lstrip("_.-")[:48] or "hub"
    return f"{base}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class _Pending:
    tenant: str
    edge: str
    reply: asyncio.Future[Reply]


class CommandRelay:
    """Async context manager owning the relay's MQTT connection (one supervisor task)."""

    def __init__(self, ctx: HubContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._endpoint = mqtt_endpoint(settings)
        self._client_id = f"{mqtt_client_id(settings)}-cmd"
        self.replica = replica_id(mqtt_client_id(settings))
        self._max_pending = settings.command_max_pending
        self._pending: dict[str, _Pending] = {}
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected_event = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def __aenter__(self) -> CommandRelay:
        self._task = asyncio.create_task(self._supervise(), name="hub-commands")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pending in self._pending.values():
            pending.reply.cancel()

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        tenant: str,
        edge: str,
        device: str,
        op: str,
        args: dict[str, ArgValue],
        timeout_s: float,
        *,
        cid: str | None = None,
    ) -> CommandOutcome:
        """Publish the command (``cid``: new if None) and wait up to ``timeout_s`` for its
        reply."""
        metrics = self._ctx.metrics
        client = self._client
        if client is None:
            metrics.commands.labels("unavailable").inc()
            return Unavailable("the hub is not connected to the MQTT broker")
        if len(self._pending) >= self._max_pending:
            metrics.commands.labels("unavailable").inc()
            return Unavailable(f"{len(self._pending)} commands are waiting for replies")
        topics = EdgeTopics(tenant, edge)
        now_ms = self._ctx.clock.now_ms()
        command = Command(
            cid=cid or uuid.uuid4().hex,
            device=device,
            op=op,
            args=args,
            reply_to=topics.reply_to(self.replica),
            ts_ms=now_ms,
            expires_ts_ms=expiry_ms(now_ms, timeout_s),
        )
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[command.cid] = _Pending(tenant, edge, future)
        metrics.commands_pending.set(len(self._pending))
        try:
            async with asyncio.timeout(timeout_s):
                await client.publish(topics.cmd(device), encode(command), qos=1)
                reply = await future
        except TimeoutError:
            metrics.commands.labels("timeout").inc()
            return NoReply(command)
        except aiomqtt.MqttError as exc:
            metrics.commands.labels("unavailable").inc()
            reason = f"the broker connection failed while sending ({exc})"
            return Unavailable(reason, command)
        finally:
            self._pending.pop(command.cid, None)
            metrics.commands_pending.set(len(self._pending))
        metrics.commands.labels("replied").inc()
        return Replied(command, reply)

    # ------------------------------------------------------------------ replies

    def on_message(self, topic: str, payload: object) -> None:
        """Hand a reply to the command waiting for it (or count why nobody waits)."""
        dropped = self._ctx.metrics.command_replies_dropped
        where = parse_replica_reply(topic)
        if where is None or where[2] != self.replica:
            dropped.labels("topic").inc()
            return
        if not isinstance(payload, bytes | bytearray) or not payload:
            dropped.labels("payload").inc()
            return
        try:
            reply = decode_as(bytes(payload), Reply, sniff_encoding(bytes(payload)))
        except ProtocolError:
            dropped.labels("payload").inc()
            return
        pending = self._pending.get(reply.cid)
        if pending is None:
            dropped.labels("late").inc()
            _log.info("reply to command %s from %s came after its deadline", reply.cid, where[1])
            return
        if (pending.tenant, pending.edge) != where[:2]:
            dropped.labels("wrong_edge").inc()
            return
        if not pending.reply.done():
            pending.reply.set_result(reply)

    # ------------------------------------------------------------------ connection

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self._endpoint.tls:
            return None
        return ssl.create_default_context(cafile=self._endpoint.ca)

    async def _supervise(self) -> None:
        delay, failed = 0.5, False
        endpoint = self._endpoint
        while True:
            try:
                client = aiomqtt.Client(
                    endpoint.host,
                    endpoint.port,
                    username=endpoint.username,
                    password=endpoint.password,
                    tls_context=self._tls_context(),
                    identifier=self._client_id,
                    clean_session=True,
                    keepalive=30,
                    logger=mqtt_logger(),
                    timeout=10,
                    max_queued_outgoing_messages=self._max_pending,
                )
                async with keep_cancellation(client):
                    await client.subscribe(replica_reply_filter(self.replica), qos=1)
                    self._client = client
                    self.connected_event.set()
                    if failed:
                        _log.info("command relay: MQTT broker reachable again")
                    failed, delay = False, 0.5
                    async for message in client.messages:
                        self.on_message(message.topic.value, message.payload)
            except aiomqtt.MqttError as exc:
                if not failed:
                    _log.warning("command relay: MQTT broker unreachable (%s); retrying", exc)
                failed = True
            except Exception:
                self._ctx.metrics.mqtt_task_failures.inc()
                if not failed:
                    _log.exception("command relay failed; restarting it after a backoff")
                failed = True
            finally:
                self._client = None
                self.connected_event.clear()
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
            delay = min(delay * 2, 15.0)


__all__ = ["REPLY_GRACE_MS", "CommandRelay", "expiry_ms", "replica_id"]
