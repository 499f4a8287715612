"""SQLAlchemy's aiosqlite dialect with a terminate that cannot hang the event loop.

SQLAlchemy terminates a connection it invalidates (a task cancelled in the middle of a
statement: a request or a job stopped with the hub). Its aiosqlite terminate (SQLAlchemy
2.1, aiosqlite 0.22) starts a shielded graceful close and, when that wait is cancelled,
also stops the connection's worker thread at once. The graceful close goes on in its own
task: its ``close()`` queues a second stop behind the first, the thread has already ended
at the first, and the task waits for ever. The event loop's final cancellation lands on
the first wait of that close and the second never ends, so ``asyncio.run`` (the hub's
lifespan, a test's runner) hangs at exit.

Here a cancelled terminate leaves the graceful close to finish alone: it closes the
sqlite3 connection and stops the thread once, and its task ends (a cancellation of that
task also ends it: the stop it then queues is the only one). Outside an event loop
(garbage collection) the thread is told to stop, as upstream does.

Its connections' worker thread also outlives their event loop safely. aiosqlite 0.22's
worker hands each result back with ``loop.call_soon_threadsafe``; when that loop has closed
meanwhile (a statement still running as a lifespan, a test's client or ``asyncio.run``
ends), that call raises, the thread dies on it, and what was queued behind (the rollback,
the close) never runs: the sqlite3 connection stays open, and a write transaction it held
keeps the database locked until the garbage collector finds it ("database is locked" in
the next writer, 10 s later). Here the thread then rolls back and closes the connection
itself, and ends.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from pathlib import Path
from queue import SimpleQueue
from threading import Thread
from typing import Any

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL, set_exception, set_result
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVER = "sqlite+lingtan_aiosqlite"
"""The driver name of :class:`AiosqliteDialect` in engine URLs."""


_Queue = SimpleQueue[tuple[asyncio.Future[Any] | None, Callable[[], Any]]]


class Connection(aiosqlite.Connection):
    """aiosqlite's connection whose worker thread closes the sqlite3 connection itself and
    ends when its event loop is gone (module doc); a daemon thread, as SQLAlchemy makes it."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._thread = Thread(target=_worker, args=(self._tx, weakref.ref(self)), daemon=True)


def _worker(tx: _Queue, owner: weakref.ref[Connection]) -> None:
    """aiosqlite 0.22's ``_connection_worker_thread``, except for a result that can no longer
    be handed back."""
    while True:
        future, function = tx.get()
        deliver: Callable[[asyncio.Future[Any], Any], None]
        try:
            result = function()
        except BaseException as error:  # handed to the caller, as upstream
            result, deliver, value = None, set_exception, error
        else:
            deliver, value = set_result, result
        if future is not None:
            try:
                future.get_loop().call_soon_threadsafe(deliver, future, value)
            except RuntimeError:  # its loop is closed: nothing will await this connection
                _close_abandoned(owner())
                return
        if result is _STOP_RUNNING_SENTINEL:
            return


def _close_abandoned(connection: Connection | None) -> None:
    sqlite = None if connection is None else connection._connection
    if connection is None or sqlite is None:
        return  # collected (its __del__ queued the close: gone with this thread) or closed
    connection._connection = None
    connection._running = False
    try:
        sqlite.rollback()  # close() alone would too; said, not left to sqlite3
    finally:
        sqlite.close()


def connect(database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> Connection:
    """``aiosqlite.connect`` making a :class:`Connection`."""
    return Connection(lambda: sqlite3.connect(str(database), **kwargs), iter_chunk_size)


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Any:
        kw.setdefault("async_creator_fn", connect)
        return super().connect(*arg, **kw)


class AiosqliteDialect(SQLiteDialect_aiosqlite):
    """``sqlite+aiosqlite`` whose terminate never stops the thread twice and whose worker
    threads outlive their event loop safely (module doc)."""

    supports_statement_cache = True  # compiles as its parent does

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _Dbapi(aiosqlite, sqlite3)

    def do_terminate(self, dbapi_connection: Any) -> None:
        if in_greenlet():
            await_(asyncio.shield(dbapi_connection._terminate_graceful_close()))
        else:
            dbapi_connection._terminate_force_close()


registry.register("sqlite.lingtan_aiosqlite", __name__, "AiosqliteDialect")

__all__ = ["DRIVER", "AiosqliteDialect", "Connection", "connect"]
