"""The hub's lifespan closes its database connections even when its shutdown is cancelled."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest
from litestar import Litestar
from sqlalchemy import text

from hub._context import HubContext


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
