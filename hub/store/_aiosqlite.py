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

Its connections' worker thread also outlives their event loop safely: a statement still
running when its loop closes no longer leaves the database locked (``protocol.aio.sqlite_worker``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_, in_greenlet

from protocol.aio import with_sqlite_worker

DRIVER = "sqlite+lingtan_aiosqlite"
"""The driver name of :class:`AiosqliteDialect` in engine URLs."""


def connect(database: str | Path, **kwargs: Any) -> aiosqlite.Connection:
    """``aiosqlite.connect`` whose connection's thread outlives its event loop safely (module
    doc); a daemon thread, as SQLAlchemy makes it."""
    connection = aiosqlite.connect(database, **kwargs)
    return with_sqlite_worker(connection, stop=_STOP_RUNNING_SENTINEL, daemon=True)


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

__all__ = ["DRIVER", "AiosqliteDialect", "connect"]
