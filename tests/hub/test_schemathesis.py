"""Schemathesis over the whole OpenAPI document with valid credentials: no 5xx."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hub import Settings, demo_seed, serve
from hub.app import create_app
from hub.auth import Principal, TokenService
from hub.store import User, create_engine, sessionmaker
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET

SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(db_url="sqlite+aiosqlite://", mqtt_url=None)).openapi_schema.to_schema()
).exclude(path="/api/v1/vpp/console/stream")  # never ends: tests/hub/test_web.py reads it
TOKEN = TokenService(JWT_SECRET, 3600).issue(
    Principal(user_id="fuzz-admin", username="fuzz", role="admin")
)


async def add_fuzz_admin(url: str) -> None:
    """The user of ``TOKEN`` (tokens are checked against the users table)."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            if await session.get(User, "fuzz-admin") is None:
                session.add(User(id="fuzz-admin", username="fuzz", password_hash="", role="admin"))
                await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def base_url(db_url: str) -> Iterator[str]:
    """A real hub on a loopback port, in a thread with its own event loop. Its singleton
    jobs do not run: they would write to the worker's shared test database on their own
    timers (see tests/hub/conftest.py), also while the hub stops."""
    hub_settings = Settings(
        db_url=db_url,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        run_jobs=False,
    )
    ready: queue.Queue[str | BaseException] = queue.Queue()
    stop = threading.Event()

    async def main() -> None:
        try:
            await demo_seed(
                hub_settings,
                edge="fuzz-edge",
                tenant="fuzz",
                devices=[("bess-1", "battery", 100.0, 200.0)],
                password="fuzz-password",
                username="fuzz-user",
            )
            await add_fuzz_admin(db_url)
            async with serve(hub_settings) as url:
                ready.put(url)
                await asyncio.to_thread(stop.wait)
        except BaseException as exc:  # surfaced to the fixture below
            ready.put(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    got = ready.get(timeout=SAFETY_TIMEOUT)
    if isinstance(got, BaseException):
        raise got
    yield got
    stop.set()
    # serve() ends within its own bounds (15 s, then uvicorn is cancelled; the engine's
    # dispose within 10 s more). A hub still running past them would go on using the
    # worker's database under the next test: fail here instead.
    thread.join(2 * SAFETY_TIMEOUT)
    assert not thread.is_alive(), "the fuzzed hub did not stop"


@SCHEMA.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: schemathesis.Case[Any], base_url: str) -> None:
    response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
