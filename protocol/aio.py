"""Asyncio helpers both ends need around their connections.

:func:`keep_cancellation` wraps an async context manager (an ``aiomqtt.Client``) so that
its exit never replaces a cancellation in flight with an error of its own. aiomqtt's
``Client.__aexit__`` waits for the broker to confirm the DISCONNECT and raises
``MqttError("Operation timed out")`` when that takes longer than the client's timeout
(a loaded machine, a broker that is going away). Raised from ``__aexit__`` while a
``CancelledError`` unwinds, that error *replaces* the cancellation: a reconnect loop
that catches ``MqttError`` then simply connects again, and the task that was asked to
stop runs on (a hub that never stops, a test's stand-in that hangs its teardown).

>>> import asyncio, contextlib
>>> class Slow:
...     async def __aenter__(self): return self
...     async def __aexit__(self, *exc): raise OSError("disconnect timed out")
>>> async def stop_it():
...     async def run():
...         async with keep_cancellation(Slow()):
...             await asyncio.sleep(60)
...     task = asyncio.create_task(run())
...     await asyncio.sleep(0)
...     task.cancel()
...     with contextlib.suppress(asyncio.CancelledError):
...         await task
...     return task.cancelled()
>>> asyncio.run(stop_it())
True

:func:`wait_holding_cancellation` waits for a clean-up task (a shutdown, a pool's dispose,
a final commit) to its end within a bound, holding the caller's cancellations back
meanwhile, so that a Ctrl-C or a test's cancel scope does not cut the clean-up halfway.

:func:`with_sqlite_worker` gives an ``aiosqlite`` connection (the hub's store, the agent's
outbox) the thread :func:`sqlite_worker`, aiosqlite 0.22's own except for a result that
can no longer be handed back. aiosqlite hands each result back with
``loop.call_soon_threadsafe``; when that loop has closed meanwhile (a statement still
running as a lifespan, a test's client or ``asyncio.run`` ends, a SIGTERM during start-up),
the call raises, aiosqlite's thread dies on it ("Exception in thread ... Event loop is
closed"), and what was queued behind (the rollback, the close) never runs: the sqlite3
connection stays open, and a write transaction it held keeps the file locked until the
garbage collector finds it ("database is locked" in the next writer). This one then rolls
back and closes the connection itself, and ends.

:func:`mqtt_logger` is the logger every ``aiomqtt.Client`` of ours is given. When a
``subscribe()`` or ``unsubscribe()`` is cancelled (a SIGTERM, a reconnect) aiomqtt forgets
its message id; the broker's SUBACK or UNSUBACK that still arrives is then logged with
``logger.exception``, a traceback of a ``KeyError`` that reports nothing wrong. The logger
turns exactly those records into one DEBUG line; every other record passes unchanged.

A connect cancelled while it waits for the broker's CONNACK (a Ctrl-C while devices and
links come up) is also :func:`keep_cancellation`'s: aiomqtt 2.5.1 then leaves the socket
open with its reader registered and its ``_connected`` future cancelled; when the socket
later closes, its ``on_disconnect`` asks that future for its exception, which *raises*
``CancelledError`` out of the loop's reader callback (an "Exception in callback" traceback,
and a socket left to the broker to close). The wrapper marks that attempt failed and closes
its socket itself. Cancelled earlier, while aiomqtt's executor thread still opens the socket,
the attempt is marked failed too: the thread's connection then never counts as connected.

An unexpected end of the connection that nothing looked at (the broker gone first) is one
DEBUG line once the wrapper exits, not asyncio's "Future exception was never retrieved".

>>> import io
>>> stream = io.StringIO()
>>> handler = logging.StreamHandler(stream)
>>> log = mqtt_logger()
>>> log.addHandler(handler)
>>> try:
...     {}[2]
... except KeyError:
...     log.exception('Unexpected message ID "%d" in on_subscribe callback', 2)
>>> log.warning("Message queue is full. Discarding message.")
>>> log.removeHandler(handler)
>>> print(stream.getvalue().strip())
Message queue is full. Discarding message.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from queue import SimpleQueue
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = [
    "cancel_on_stop_signals",
    "keep_cancellation",
    "mqtt_logger",
    "sqlite_worker",
    "wait_holding_cancellation",
    "with_sqlite_worker",
]

T = TypeVar("T")
_log = logging.getLogger(__name__)

_LATE_ACKS = (
    'Unexpected message ID "%d" in on_subscribe callback',
    'Unexpected message ID "%d" in on_unsubscribe callback',
)


class _LateAcks(logging.Filter):
    """Drops aiomqtt's report of an acknowledgement for a call no longer awaited, and
    logs it again at DEBUG without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg not in _LATE_ACKS:
            return True
        _log.debug("MQTT acknowledgement for a call no longer awaited: %s", record.getMessage())
        return False


def mqtt_logger() -> logging.Logger:
    """aiomqtt's own logger (``"mqtt"``, so logging configuration keeps its name), with the
    filter for late acknowledgements installed once."""
    logger = logging.getLogger("mqtt")
    if not any(isinstance(f, _LateAcks) for f in logger.filters):
        logger.addFilter(_LateAcks())
    return logger


class keep_cancellation(Generic[T]):  # noqa: N801 - used like a function, as contextlib's
    """``async with keep_cancellation(cm) as x``: ``cm``'s, except that an exception its
    exit raises while a cancellation unwinds is logged and the cancellation goes on."""

    def __init__(self, cm: AbstractAsyncContextManager[T]) -> None:
        self._cm = cm

    async def __aenter__(self) -> T:
        try:
            return await self._cm.__aenter__()
        except asyncio.CancelledError:
            _abandon_connect(self._cm)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return await self._cm.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if exc_type is None or not issubclass(exc_type, asyncio.CancelledError):
                raise
            _log.debug("%r did not exit cleanly while cancelled: %s", self._cm, error)
            return False  # the cancellation propagates
        finally:
            _look_at_disconnect(self._cm)


def _abandon_connect(cm: object) -> None:
    """After a cancelled ``aiomqtt.Client.__aenter__`` (told by its shape: this package
    imports no MQTT library; aiomqtt is pinned in pyproject), what aiomqtt does itself after
    a connect that failed: a fresh ``_connected`` (a late ``on_disconnect`` then returns
    early, as before any CONNACK) and the lock released; and the socket closed now (paho's
    close also removes the loop's reader and stops aiomqtt's housekeeping task)."""
    connected = getattr(cm, "_connected", None)
    if not isinstance(connected, asyncio.Future):
        return
    if not connected.done():
        # Cancelled while the socket was still being opened (aiomqtt connects in an executor
        # thread, which goes on): a failed ``_connected`` makes the CONNACK that may still
        # come, and the end of that connection, return early instead of making an unowned
        # client "connected" whose end is then an unretrieved "Unexpected disconnection".
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(ConnectionAbortedError("connect cancelled before the socket was open"))
        failed.exception()  # looked at: no "never retrieved" for it
        cm._connected = failed  # type: ignore[attr-defined]
        _release(cm)
        return
    if not connected.cancelled():
        return
    cm._connected = asyncio.get_running_loop().create_future()  # type: ignore[attr-defined]
    with suppress(Exception):  # a socket half set up: nothing more to do if closing fails
        cm._client._sock_close()  # type: ignore[attr-defined]
    _release(cm)


def _release(cm: object) -> None:
    lock = getattr(cm, "_lock", None)
    if isinstance(lock, asyncio.Lock) and lock.locked():
        lock.release()


def _look_at_disconnect(cm: object) -> None:
    """After an ``aiomqtt.Client``'s exit: how its connection ended, once known, is one
    DEBUG line. aiomqtt 2.5.1 keeps an unexpected end (the broker went away: a Ctrl-C that
    reached mosquitto too, a broker restart) as the exception of its ``_disconnected``
    future, which nothing looks at when no one was iterating the messages: its exit then
    returns early, and a connection that ends after an exit cut short by a cancellation
    sets it with no one left. asyncio logs "Future exception was never retrieved" at ERROR
    once the client is collected. The session is over either way."""
    disconnected = getattr(cm, "_disconnected", None)
    if isinstance(disconnected, asyncio.Future):
        disconnected.add_done_callback(_log_disconnect)


def _log_disconnect(disconnected: asyncio.Future[Any]) -> None:
    if not disconnected.cancelled() and (error := disconnected.exception()) is not None:
        _log.debug("MQTT connection ended after its client's exit: %s", error)


def cancel_on_stop_signals() -> None:
    """Called in a program's main task: SIGINT and SIGTERM (a Ctrl-C; systemd's, docker's or
    a supervisor's stop) cancel that task, so that its clean-up runs the same way for both.
    The handlers go with the event loop."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)


SQLITE_WORKER = "sqlite-worker"
"""The name of :func:`with_sqlite_worker`'s threads."""


def with_sqlite_worker(connection: T, *, stop: object, daemon: bool | None = None) -> T:
    """``connection``, an ``aiosqlite.Connection`` not yet awaited (its thread not started),
    with :func:`sqlite_worker` as its thread; ``stop`` is aiosqlite's
    ``_STOP_RUNNING_SENTINEL`` (this package imports no database library)."""
    calls = connection._tx  # type: ignore[attr-defined]
    connection._thread = threading.Thread(  # type: ignore[attr-defined]
        target=sqlite_worker,
        args=(calls, weakref.ref(connection), stop),
        name=SQLITE_WORKER,
        daemon=daemon,
    )
    return connection


def sqlite_worker(
    calls: SimpleQueue[tuple[asyncio.Future[Any] | None, Callable[[], Any]]],
    owner: weakref.ref[Any],
    stop: object,
) -> None:
    """The loop of an ``aiosqlite.Connection``'s thread (module doc): runs its ``calls`` (its
    ``_tx``) and hands each result or error to its future; a call returning ``stop`` (its
    ``_STOP_RUNNING_SENTINEL``) ends it. ``owner`` is a weak reference to the connection, for
    the close when a future's loop is gone."""
    while True:
        future, function = calls.get()
        deliver: Callable[[asyncio.Future[Any], Any], None]
        try:
            result = function()
        except BaseException as error:  # handed to the caller, as aiosqlite does
            result, deliver, value = None, _set_exception, error
        else:
            deliver, value = _set_result, result
        if future is not None:
            try:
                future.get_loop().call_soon_threadsafe(deliver, future, value)
            except RuntimeError:  # its loop is closed: nothing will await this connection
                _close_abandoned(owner())
                return
        if result is stop:
            return


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _close_abandoned(connection: Any) -> None:
    sqlite = getattr(connection, "_connection", None)
    if not isinstance(sqlite, sqlite3.Connection):
        return  # collected (its __del__'s close went with this thread) or closed already
    connection._connection = None
    connection._running = False
    try:
        sqlite.rollback()  # close() alone would too; said, not left to sqlite3
    finally:
        sqlite.close()


async def wait_holding_cancellation(
    task: asyncio.Future[Any], timeout_s: float
) -> asyncio.CancelledError | None:
    """Wait until ``task`` is done or ``timeout_s`` of loop time passed, whatever the number
    of cancellations of the caller meanwhile. Returns the first cancellation held back (or
    ``None``), for the caller to raise once it has dealt with the task; the task is neither
    cancelled nor awaited for its result here (it may still run: ``task.done()`` tells).

    >>> async def stop_during_cleanup():
    ...     async def caller():
    ...         cleanup = asyncio.create_task(asyncio.sleep(0.05, "closed"))
    ...         held = await wait_holding_cancellation(cleanup, 5)
    ...         return cleanup.result(), type(held).__name__
    ...     task = asyncio.create_task(caller())
    ...     await asyncio.sleep(0)
    ...     task.cancel()
    ...     return await task
    >>> asyncio.run(stop_during_cleanup())
    ('closed', 'CancelledError')
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    held: asyncio.CancelledError | None = None
    while not task.done() and loop.time() < deadline:
        try:
            async with asyncio.timeout_at(deadline):
                await asyncio.wait((task,))  # never cancels nor raises the task's error
        except asyncio.CancelledError as exc:
            held = held or exc
        except TimeoutError:
            break
    return held
