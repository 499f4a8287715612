"""A statement still running on an SQLite connection when its event loop closes (a lifespan,
a test's client or ``asyncio.run`` ending mid-statement) leaves the database unlocked: the
connection's worker thread rolls back and closes it. aiosqlite 0.22's own worker died on
the closed loop instead, with the rest of its queue (the rollback, the close) undone, and
a write transaction held the file locked until garbage collection: "database is locked"
in the next writer (CI: tests/hub/reports' clean_db truncate, twice)."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from hub.store import create_engine
from hub.store._aiosqlite import connect
from protocol.aio import SQLITE_WORKER
from tests.support import SAFETY_TIMEOUT


def write_then_leave_mid_statement(
    path: Path, connect_with: Callable[..., aiosqlite.Connection]
) -> aiosqlite.Connection:
    """In a loop of its own: a write transaction, then a statement that is still running
    when the loop closes. Returns the connection."""
    started = threading.Event()

    def slow() -> int:
        started.set()
        time.sleep(0.3)
        return 1

    async def leave() -> aiosqlite.Connection:
        connection = await connect_with(str(path))
        await connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
        await connection.commit()
        await connection.create_function("slow", 0, slow)
        await connection.execute("INSERT INTO t VALUES (1)")  # the write lock, held
        asyncio.get_running_loop().create_task(connection.execute("SELECT slow()"))
        await asyncio.to_thread(started.wait, SAFETY_TIMEOUT)
        return connection  # asyncio.run cancels the task and closes the loop

    return asyncio.run(leave())


def can_write(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=2)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_a_statement_running_as_its_loop_closes_leaves_the_database_unlocked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.db"
    worker = write_then_leave_mid_statement(path, connect)._thread
    worker.join(SAFETY_TIMEOUT)
    assert not worker.is_alive()  # it ended by itself once the answer had no loop to go to
    assert can_write(path)


def test_without_it_aiosqlite_keeps_the_database_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hazard our connection exists for (if aiosqlite fixes it, this test says so)."""
    died: list[type[BaseException]] = []  # types only: a traceback would keep the connection
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_type))
    path = tmp_path / "hub.db"
    connection = write_then_leave_mid_statement(path, aiosqlite.connect)
    connection._thread.join(SAFETY_TIMEOUT)
    assert died == [RuntimeError]  # "Event loop is closed"
    assert not can_write(path)  # the sqlite3 connection still holds the write lock
    del connection
    with pytest.warns(ResourceWarning, match="deleted before being closed"):
        gc.collect()  # its __del__ queues a close for the dead thread: a cycle, again
    gc.collect()
    assert can_write(path)  # only the garbage collector let it go


async def test_the_hubs_sqlite_engine_makes_such_connections(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            raw: Any = await conn.get_raw_connection()
            driver = raw.dbapi_connection._connection  # SQLAlchemy's adapter, then aiosqlite's
            assert driver._thread.name == SQLITE_WORKER
            assert driver._thread.daemon and driver._thread.is_alive()
    finally:
        await engine.dispose()
