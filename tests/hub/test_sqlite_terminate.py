"""An SQLite connection that SQLAlchemy terminates while the terminating task is cancelled
(a request or a job stopped mid-statement) closes, stops its thread and leaves no task
waiting for ever: with SQLAlchemy's own aiosqlite terminate, that task kept the hub's
event loop from closing (``asyncio.run`` hung at exit; CI timed out in test_alerts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.util import greenlet_spawn

from hub.store import create_engine


@pytest.mark.parametrize("loop_cancels_the_close", [False, True])
async def test_a_terminate_cancelled_at_once_still_closes_and_ends(
    tmp_path: Path, loop_cancels_the_close: bool
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    dialect = engine.sync_engine.dialect
    connection = await greenlet_spawn(dialect.connect, str(tmp_path / "hub.db"))
    worker = connection._connection._thread
    assert worker.is_alive()
    before = asyncio.all_tasks()

    terminating = asyncio.create_task(greenlet_spawn(dialect.do_terminate, connection))
    await asyncio.sleep(0)  # terminate waits for its shielded graceful close
    terminating.cancel()
    with pytest.raises(asyncio.CancelledError):
        await terminating

    closing = asyncio.all_tasks() - before - {terminating}
    assert closing  # the graceful close, on its own
    if loop_cancels_the_close:  # as asyncio.run() does with what is left at exit
        for task in closing:
            task.cancel()
    # generous: a close that hangs never ends; one that works ends in milliseconds
    _, pending = await asyncio.wait(closing, timeout=30)
    assert not pending, f"still waiting: {pending}"
    await asyncio.to_thread(worker.join, 30)
    assert not worker.is_alive()  # the sqlite3 connection closed, its thread ended
    assert connection._connection._connection is None
    await engine.dispose()
