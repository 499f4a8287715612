"""A cancelled MQTT loop stops even when aiomqtt's exit times out on the DISCONNECT, a connect
cancelled before its CONNACK leaves nothing behind, and neither a SUBACK for a cancelled
subscribe nor a connection the broker ended is a traceback or an ERROR."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from lingtan.broker import Mosquitto
from protocol.aio import keep_cancellation, mqtt_logger
from tests.support import SAFETY_TIMEOUT

CONNACK = b"\x20\x02\x00\x00"


class Broker:
    port = 0
    stalling = True
    """Accept a CONNECT, answer CONNACK, then never read again: what the client writes
    afterwards (its DISCONNECT too) stays queued behind a full socket. When False, a new
    session reads (and drops) everything, so a DISCONNECT goes through."""


@contextlib.asynccontextmanager
async def broker_that_stops_reading() -> AsyncIterator[Broker]:
    broker = Broker()
    held: list[asyncio.StreamWriter] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(CONNACK)
        await writer.drain()
        held.append(writer)
        while not broker.stalling and await reader.read(4096):
            pass

    server = await asyncio.start_server(session, "127.0.0.1", 0, limit=1024)
    broker.port = server.sockets[0].getsockname()[1]
    try:
        yield broker
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def reconnect_loop(broker: Broker, connected: asyncio.Event, *, wrapped: bool) -> None:
    while True:
        try:
            client = aiomqtt.Client("127.0.0.1", broker.port, timeout=0.3)
            async with keep_cancellation(client) if wrapped else client:
                if broker.stalling:  # larger than the socket buffers: the DISCONNECT waits
                    client._client.publish("t", b"x" * 16_000_000)
                connected.set()
                await asyncio.sleep(3600)
        except aiomqtt.MqttError:
            await asyncio.sleep(0.05)


async def cancel_after_connect(
    broker: Broker, *, wrapped: bool
) -> tuple[asyncio.Task[None], asyncio.Event]:
    connected = asyncio.Event()
    task = asyncio.create_task(reconnect_loop(broker, connected, wrapped=wrapped))
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await connected.wait()
    connected.clear()
    task.cancel()
    await asyncio.wait({task}, timeout=3.0)  # deadlock guard, not a timing target
    return task, connected


async def test_a_cancelled_loop_stops_when_the_disconnect_times_out() -> None:
    async with broker_that_stops_reading() as broker:
        task, _ = await cancel_after_connect(broker, wrapped=True)
        assert task.done() and task.cancelled()


async def test_without_it_aiomqtt_turns_the_cancellation_into_a_reconnect() -> None:
    """The hazard the wrapper exists for (if aiomqtt fixes it, this test says so)."""
    async with broker_that_stops_reading() as broker:
        task, _ = await cancel_after_connect(broker, wrapped=False)
        try:
            assert not task.done()  # the MqttError replaced the CancelledError: it runs on
        finally:
            broker.stalling = False  # its next session can say goodbye: stop it then
            async with asyncio.timeout(SAFETY_TIMEOUT):
                while not task.done():  # the stalled session eats one more cancellation
                    task.cancel()
                    await asyncio.wait({task}, timeout=1.0)


async def test_an_error_without_a_cancellation_still_propagates() -> None:
    class Failing:
        async def __aenter__(self) -> Failing:
            return self

        async def __aexit__(self, *exc: object) -> None:
            raise OSError("broken exit")

    with pytest.raises(OSError, match="broken exit"):
        async with keep_cancellation(Failing()):
            pass


@contextlib.asynccontextmanager
async def broker_with_late_subacks() -> AsyncIterator[tuple[int, asyncio.Event, asyncio.Event]]:
    """Answers CONNECT at once; holds each SUBACK until ``release`` is set (``subscribed``
    says a SUBSCRIBE arrived), as a broker does under load."""
    subscribed, release = asyncio.Event(), asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readexactly(1)
                length, shift = 0, 0
                while True:  # MQTT's variable-length remaining length
                    byte = (await reader.readexactly(1))[0]
                    length |= (byte & 0x7F) << shift
                    shift += 7
                    if not byte & 0x80:
                        break
                body = await reader.readexactly(length)
                if head[0] >> 4 == 1:  # CONNECT
                    writer.write(CONNACK)
                elif head[0] >> 4 == 8:  # SUBSCRIBE: packet id, then the filters
                    subscribed.set()
                    await release.wait()
                    writer.write(b"\x90\x03" + body[:2] + b"\x01")
                elif head[0] >> 4 == 14:  # DISCONNECT
                    return
                await writer.drain()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], subscribed, release
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def subscribe_cancelled_before_its_suback(logger: logging.Logger | None) -> None:
    async with (
        broker_with_late_subacks() as (port, subscribed, release),
        aiomqtt.Client("127.0.0.1", port, timeout=5, logger=logger) as client,
    ):
        call = asyncio.create_task(client.subscribe("t/#", qos=1))
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await subscribed.wait()
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        release.set()  # the SUBACK now comes for a message id aiomqtt forgot
        async with asyncio.timeout(SAFETY_TIMEOUT):  # answered in order: after it
            await client.subscribe("u/#", qos=1)


async def test_a_suback_for_a_cancelled_subscribe_is_one_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await subscribe_cancelled_before_its_suback(mqtt_logger())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("no longer awaited" in r.getMessage() for r in caplog.records)


async def test_without_it_aiomqtt_logs_a_traceback_for_that_suback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The noise the filter exists for (if aiomqtt stops logging it, this test says so)."""
    caplog.set_level(logging.DEBUG)
    await subscribe_cancelled_before_its_suback(logging.getLogger("tests.plain-mqtt"))
    assert [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


@contextlib.asynccontextmanager
async def broker_that_never_answers() -> AsyncIterator[tuple[int, asyncio.Event, asyncio.Event]]:
    """Reads the CONNECT and sends no CONNACK (``connecting`` says it arrived); hangs up when
    ``hang_up`` is set, as a broker that goes away does."""
    connecting, hang_up = asyncio.Event(), asyncio.Event()

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        connecting.set()
        await hang_up.wait()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connecting, hang_up
    finally:
        hang_up.set()
        server.close()
        await server.wait_closed()


async def connect_cancelled_before_its_connack(*, wrapped: bool) -> tuple[list[object], bool]:
    """Cancel a connect waiting for its CONNACK, then let the broker hang up. Returns what
    reached the loop's exception handler, and whether the client's socket is still open."""
    loop = asyncio.get_running_loop()
    reached: list[object] = []
    loop.set_exception_handler(lambda _loop, context: reached.append(context.get("exception")))
    try:
        async with broker_that_never_answers() as (port, connecting, hang_up):
            client = aiomqtt.Client("127.0.0.1", port, timeout=30)

            async def connect() -> None:
                async with keep_cancellation(client) if wrapped else client:
                    pass

            task = asyncio.create_task(connect())
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await connecting.wait()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            hang_up.set()
            for _ in range(50):  # the EOF reaches the reader (if one is left) within a few
                await asyncio.sleep(0.01)
            return reached, client._client.socket() is not None
    finally:
        loop.set_exception_handler(None)


async def test_a_connect_cancelled_before_its_connack_leaves_nothing_behind() -> None:
    reached, socket_open = await connect_cancelled_before_its_connack(wrapped=True)
    assert reached == []
    assert not socket_open


async def test_without_it_a_cancelled_connect_raises_out_of_the_loops_reader() -> None:
    """The traceback `vpp demo` printed on a SIGTERM while links came up (if aiomqtt fixes
    it, this test says so)."""
    reached, _ = await connect_cancelled_before_its_connack(wrapped=False)
    assert any(isinstance(error, asyncio.CancelledError) for error in reached), reached


async def client_whose_broker_went_away(mosquitto: Mosquitto, *, wrapped: bool) -> list[object]:
    """Connect, let the broker go away while nothing iterates the messages, exit, collect the
    client. Returns what reached the loop's exception handler."""
    loop = asyncio.get_running_loop()
    reached: list[object] = []
    loop.set_exception_handler(lambda _loop, context: reached.append(context.get("message")))
    try:
        client = aiomqtt.Client("127.0.0.1", mosquitto.port, timeout=SAFETY_TIMEOUT)
        async with keep_cancellation(client) if wrapped else client:
            mosquitto.stop()
            async with asyncio.timeout(SAFETY_TIMEOUT):
                while not client._disconnected.done():  # noqa: ASYNC110 - aiomqtt's own state
                    await asyncio.sleep(0.01)
        del client
        gc.collect()
        await asyncio.sleep(0)  # the exit's callbacks run
        return reached
    finally:
        loop.set_exception_handler(None)


async def test_a_connection_the_broker_ended_leaves_no_unretrieved_exception(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """A Ctrl-C that reached mosquitto too, a broker restart during a stop: asyncio logged
    "Future exception was never retrieved" (MqttCodeError 'Unexpected disconnection') at
    ERROR after `vpp demo` stopped."""
    caplog.set_level(logging.DEBUG, logger="protocol.aio")
    assert await client_whose_broker_went_away(mosquitto, wrapped=True) == []
    assert "MQTT connection ended after its client's exit" in caplog.text


async def test_without_it_the_ended_connection_is_an_unretrieved_exception(
    mosquitto: Mosquitto,
) -> None:
    """The noise the wrapper exists for (if aiomqtt looks at it itself, this test says so)."""
    reached = await client_whose_broker_went_away(mosquitto, wrapped=False)
    assert reached == ["Future exception was never retrieved"], reached


async def connect_cancelled_before_its_socket_is_open(*, wrapped: bool) -> list[object]:
    """Cancel a connect while aiomqtt's executor thread still opens the socket (held in the
    kernel: the listener's accept queue is full), then accept it, answer its CONNECT and
    hang up. Returns what reached the loop's exception handler once the client is gone."""
    loop = asyncio.get_running_loop()
    reached: list[object] = []
    loop.set_exception_handler(lambda _loop, context: reached.append(context.get("message")))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    queued: list[socket.socket] = []
    accepted: list[socket.socket] = []
    try:
        for _ in range(3):  # fill the accept queue: the next connect waits for room
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            queued.append(filler)
        client = aiomqtt.Client("127.0.0.1", port, timeout=SAFETY_TIMEOUT)

        async def connect(c: aiomqtt.Client) -> None:
            async with keep_cancellation(c) if wrapped else c:
                pass

        task = asyncio.create_task(connect(client))
        for _ in range(3):  # the connect is handed to the executor thread
            await asyncio.sleep(0)
        assert not client._connected.done()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with asyncio.timeout(SAFETY_TIMEOUT):
            answered = False
            while not answered:  # accept everything; answer the client's CONNECT
                with contextlib.suppress(BlockingIOError):
                    conn, _ = listener.accept()
                    conn.setblocking(False)
                    accepted.append(conn)
                for conn in accepted:
                    with contextlib.suppress(BlockingIOError):
                        if conn.recv(4096)[:1] == b"\x10":
                            conn.sendall(CONNACK)
                            answered = True
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the CONNACK reaches paho
            for conn in accepted:
                conn.close()
            while client._client.socket() is not None:  # noqa: ASYNC110 - paho's own state
                await asyncio.sleep(0.01)
        del client, task
        gc.collect()
        await asyncio.sleep(0)
        return reached
    finally:
        loop.set_exception_handler(None)
        for sock in (*queued, *accepted, listener):
            sock.close()


async def test_a_connect_cancelled_before_its_socket_is_open_leaves_no_client_behind() -> None:
    """A SIGTERM as the links start: aiomqtt's thread went on connecting, the CONNACK made the
    abandoned client "connected", and its end logged "Future exception was never retrieved"
    (`vpp demo` right after start)."""
    assert await connect_cancelled_before_its_socket_is_open(wrapped=True) == []


async def test_without_it_a_connect_cancelled_in_its_thread_ends_unretrieved() -> None:
    """What the wrapper guards against (if aiomqtt handles it itself, this test says so)."""
    reached = await connect_cancelled_before_its_socket_is_open(wrapped=False)
    assert reached == ["Future exception was never retrieved"], reached
