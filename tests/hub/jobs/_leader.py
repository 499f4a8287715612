"""A hub-like process that campaigns for one singleton job (the leader-killed test).

``python -m tests.hub.jobs._leader DB_URL JOB TABLE``: runs a :class:`JobSupervisor` with
one job that, as leader, appends run ``n + 1`` to ``TABLE`` (n, token, holder, started,
ended in ms) in a transaction fenced by ``lease.check``. Prints ``ready`` once started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

from sqlalchemy import text

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.jobs import JobSupervisor, Lease, SingletonJob
from hub.store import LiveCache, create_engine, sessionmaker
from protocol.clock import RealClock

WORK_S = 0.15
INTERVAL_S = 0.2


async def main(url: str, job: str, table: str) -> None:
    engine = create_engine(url, pool_size=2)
    settings = Settings(db_url=url, mqtt_url=None, jwt_secret="x" * 40)
    ctx = HubContext(
        settings=settings,
        clock=RealClock(),
        engine=engine,
        sessions=sessionmaker(engine),
        cache=LiveCache(),
        tokens=TokenService(settings.jwt_secret, 60),
        metrics=Metrics(),
    )
    holder = f"pid-{os.getpid()}"

    async def run(ctx: HubContext, lease: Lease) -> None:
        async with ctx.sessions() as session, session.begin():
            await lease.check(session)
            started = time.time()
            n = (await session.execute(text(f"SELECT coalesce(max(n), 0) FROM {table}"))).scalar()
            await asyncio.sleep(WORK_S)
            await session.execute(
                text(f"INSERT INTO {table} VALUES (:n, :token, :holder, :started, :ended)"),
                {
                    "n": int(n or 0) + 1,
                    "token": lease.token,
                    "holder": holder,
                    "started": int(started * 1000),
                    "ended": int(time.time() * 1000),
                },
            )

    async with JobSupervisor(ctx, [SingletonJob(job, INTERVAL_S, run)], retry_s=0.5, check_s=0.5):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(*sys.argv[1:4]))
