"""The hub's lifespan closes its database connections even when its shutdown is cancelled,
and leaves nothing it started running once it has ended."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import threading
import warnings
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text

from hub import Settings, serve
from hub._context import HubContext
from hub.auth import Principal, TokenService
from tests.hub.conftest import JWT_SECRET, add_role_users
from tests.hub.helpers import make_battery, make_vpp
from tests.support import SAFETY_TIMEOUT


async def test_a_cancelled_shutdown_still_closes_the_database_connections(app: Litestar) -> None:
    lifespan = app.lifespan()
    await lifespan.__aenter__()
    ctx: HubContext = app.state.hub
    async with ctx.sessions() as session:  # a connection, back in the pool afterwards
        await session.execute(text("SELECT 1"))
    stopping = asyncio.create_task(lifespan.__aexit__(None, None, None))
    # cancelled at every step, as a test client's cancel scope or a second Ctrl-C does
    for _ in range(200):
        if stopping.done():
            break
        stopping.cancel()
        await asyncio.sleep(0.005)
    with pytest.raises(asyncio.CancelledError):
        await stopping
    del session, stopping
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


async def test_nothing_the_hub_started_outlives_its_lifespan(tmp_path: Path) -> None:
    """Served as in production (uvicorn in this loop) with every background part running
    (the singleton jobs, fleet gauges, console snapshots, kept reads renewed in the
    background): once ``serve()`` returns, no task of the hub is left in the loop, no
    database connection of its is open and its SQLite file is free to write. A task or a
    connection left behind would write to (or lock) a file the next test on this worker
    truncates ("database is locked" in its setup)."""
    path = tmp_path / "hub.db"
    url = f"sqlite:///{path}"
    settings = Settings(
        db_url=url,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        run_jobs=True,
        fleet_metrics_s=0.1,
    )
    mine = asyncio.current_task()
    before = set(asyncio.all_tasks())
    threads = set(threading.enumerate())
    token = TokenService(JWT_SECRET, 3600).issue(
        Principal(user_id="admin-id", username="admin-user", role="admin")
    )
    h = {"Authorization": f"Bearer {token}"}
    async with serve(settings) as base, httpx.AsyncClient(base_url=base) as http:
        await add_role_users(url)
        battery = await make_battery(http, h)  # type: ignore[arg-type]
        vpp = (await make_vpp(http, h, [battery["id"]]))["id"]  # type: ignore[arg-type]
        kept = ["/api/v1/vpp/vpps", f"/api/v1/vpp/vpps/{vpp}", "/api/v1/vpp/resource-instances"]
        for _ in range(3):  # past half the kept reads' 1 s: the next GETs renew them
            for path_ in [*kept, "/api/v1/vpp/console/snapshot"]:
                r = await http.get(path_, headers=h)
                assert r.status_code == 200, r.text
            await asyncio.sleep(0.6)
        # the last renewals start now and may still run when the hub is asked to stop
        await asyncio.gather(*(http.get(p, headers=h) for p in kept))
    left = [t for t in asyncio.all_tasks() - before if t is not mine and not t.done()]
    assert left == [], [t.get_name() for t in left]
    for thread in set(threading.enumerate()) - threads:
        if "_connection_worker_thread" in thread.name:  # an aiosqlite connection's
            thread.join(SAFETY_TIMEOUT)  # it ends once its connection is closed
            assert not thread.is_alive(), f"a database connection is still open: {thread}"
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")  # raises "database is locked" if anyone holds it
        conn.execute("ROLLBACK")
