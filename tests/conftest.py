"""Fixtures for the whole project: real services on loopback, free ports, a manual clock.

* ``mosquitto``: a fresh mosquitto subprocess per test, with a config file we write, on a
  free 127.0.0.1 port (``.url``, ``.port``; ``.stop()``/``.start()`` to simulate outages).
* ``mosquitto_factory``: the same with extra config lines (ACL, TLS, listeners).
* ``postgres_url``: a throw-away PostgreSQL database for the test session
  (``VPP_TEST_PG`` overrides the server DSN, default
  ``postgresql://postgres:postgres@127.0.0.1:5432/postgres``, which `make test` sets up).
* ``free_port``, ``manual_clock``.

With ``CI=true`` a service that cannot be started fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from lingtan.broker import BrokerError, Mosquitto, mosquitto_binary
from lingtan.broker import free_port as _free_port
from protocol.clock import ManualClock
from tests.support import service_missing

PG_SERVER_DSN = os.environ.get(
    "VPP_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return _free_port()


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock that moves only when the test advances it (starts 2026-01-01T00:00Z)."""
    return ManualClock()


MosquittoFactory = Callable[..., Mosquitto]


@pytest.fixture
def mosquitto_factory() -> Iterator[MosquittoFactory]:
    """Start mosquitto subprocesses with extra config lines; all are stopped at teardown."""
    started: list[Mosquitto] = []

    def start(extra_config: list[str] | None = None, persistence: bool = True) -> Mosquitto:
        if mosquitto_binary() is None:
            service_missing("mosquitto is not installed (apt-get install mosquitto)")
        broker = Mosquitto(extra_config=list(extra_config or []), persistence=persistence)
        started.append(broker)
        try:
            broker.start()
        except BrokerError as exc:
            service_missing(f"mosquitto did not start: {exc}")
        return broker

    yield start
    for broker in started:
        broker.close()


@pytest.fixture
def mosquitto(mosquitto_factory: MosquittoFactory) -> Mosquitto:
    """A running mosquitto on a free loopback port, anonymous access, persistence on."""
    return mosquitto_factory()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this test session and dropped after."""
    try:
        import asyncpg
    except ImportError:
        service_missing("asyncpg is not installed")
    name = f"vpp_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_SERVER_DSN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing(f"PostgreSQL at {PG_SERVER_DSN} is not usable: {exc}")
    base = PG_SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
