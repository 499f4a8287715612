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
from hypothesis import settings as hypothesis_settings

from lingtan.broker import BrokerError, Mosquitto, mosquitto_binary
from lingtan.broker import free_port as _free_port
from protocol.clock import ManualClock
from tests.support import service_missing

# No wall-clock limit on a property's example (Hypothesis' default deadline is 200 ms): on a
# loaded CI machine (2 cores, three xdist workers) one example of
# test_largest_remainder_adds_up_to_the_cent took 289 ms and failed the run with
# DeadlineExceeded, though nothing was wrong. Tests that set their own deadline keep it.
hypothesis_settings.register_profile("lingtan", deadline=None)
hypothesis_settings.load_profile("lingtan")

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


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_pg_database(prefix: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database ``{prefix}_<random>`` on the test server: its name
    and its SQLAlchemy (asyncpg) URL. Missing asyncpg or server: :func:`service_missing`.
    Drop it with :func:`drop_pg_database`."""
    try:
        import asyncpg
    except ImportError:
        service_missing("asyncpg is not installed")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing(f"PostgreSQL at {PG_SERVER_DSN} is not usable: {exc}")
    base = PG_SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


async def drop_pg_database(name: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this test session and dropped after."""
    name, url = asyncio.run(create_pg_database("vpp_test"))
    yield url
    asyncio.run(drop_pg_database(name))


SLOW_FIRST: tuple[str, ...] = (
    "tests/reliability/",
    "tests/e2e/",
    "tests/lingtan/test_cli.py",
    "tests/hub/test_schemathesis.py",
    "tests/test_packaging.py",
    "tests/firmware_sims/test_opcua.py",
    "tests/firmware_sims/test_third_party.py",
    "tests/edge_agent/test_hvac.py",
    "tests/protocol/test_codec.py",
    "tests/edge_agent/test_scan.py",
    "tests/deploy/",
)
"""Test files that take minutes (real processes, outages waited out in real time): they
start first, so parallel workers (``make test``) do not end on one long test while the
others idle. Measured with ``--durations``; the order of the rest is unchanged."""


HEAVY: tuple[str, ...] = (
    "tests/reliability/",
    "tests/e2e/",
    "tests/lingtan/test_cli.py::test_demo",
    "tests/lingtan/test_cli.py::test_vpp_demo",
)
"""Tests that run several real processes each (hubs, agents, parks, brokers, a browser):
one xdist group, so one worker runs them one after another while the other workers take
the rest; three of them at once on two cores starve each other's processes."""

HEAVY_TIMEOUT_S = 420
"""The per-test guard for :data:`HEAVY` tests (the global ``timeout`` is 180 s)."""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((i for i, p in enumerate(SLOW_FIRST) if path.startswith(p)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: within a rank, the collection order
    for item in items:
        if item.nodeid.startswith(HEAVY):
            item.add_marker(pytest.mark.xdist_group("heavy"))
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(HEAVY_TIMEOUT_S))


NICE_OTHERS = 5
"""Under xdist, a worker lowers its own CPU priority by this much before its first test that
is not :data:`HEAVY` (it runs the heavy group first when it has it): the multi-process tests
then get the cores first when the machine is busy, instead of starving behind two workers of
in-process tests. Their subprocesses inherit it."""


_niced: set[str] = set()


def pytest_runtest_setup(item: pytest.Item) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and worker not in _niced and not item.nodeid.startswith(HEAVY):
        os.nice(NICE_OTHERS)
        _niced.add(worker)
