"""Engines, sessions and migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is chosen by URL.
Alembic runs inside ``AsyncConnection.run_sync`` so the same code migrates both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Final

import msgspec
from sqlalchemy import event, exc, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from ._aiosqlite import DRIVER as _AIOSQLITE

_log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``sqlite:///`` and pick the async drivers."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_JSON = msgspec.json.Decoder()


def json_loads(text: str | bytes) -> Any:
    """JSON columns read with msgspec (several times faster than ``json.loads`` on the
    instance and template parameters every list reads); text msgspec refuses (``NaN``
    written by an older hub into SQLite) still goes through ``json.loads``."""
    try:
        return _JSON.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


class _CancelledReset(logging.Filter):
    """A connection handed back by a task that is being cancelled (Ctrl-C, SIGTERM, a
    client gone) has its reset (the ``ROLLBACK``) cancelled too: SQLAlchemy then drops
    that connection (its transaction ends with it) and logs "Exception during reset or
    similar" with the ``CancelledError``'s traceback, though nothing went wrong. Such
    records become one DEBUG line; any other error of the pool passes as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError) and str(record.msg).startswith(
            "Exception during reset"
        ):
            _log.debug("a pooled connection's reset was cancelled with its task; dropped")
            return False
        return True


def _quiet_cancelled_resets(engine: AsyncEngine) -> None:
    logger = engine.sync_engine.pool.logger
    target = getattr(logger, "logger", logger)  # an echoing pool wraps its Logger
    if isinstance(target, logging.Logger) and not any(
        isinstance(f, _CancelledReset) for f in target.filters
    ):
        target.addFilter(_CancelledReset())


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """An async engine for ``url`` (SQLite files get WAL and foreign keys on) holding at
    most ``2 * pool_size`` connections, each kept once opened."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        kwargs: dict[str, Any] = {}
        if path in {"", ":memory:"}:
            kwargs["poolclass"] = StaticPool
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # PostgreSQL's capacity, with no overflow: an overflow connection is closed at
            # its check-in, inside whatever task returns it, and that task's cancellation
            # (a request or a job stopped with the hub) interrupts aiosqlite's close, which
            # the pool logs as a traceback ("Exception closing connection"). Kept in the
            # pool, connections close only in dispose(), which the lifespan sees through.
            kwargs |= {"pool_size": 2 * pool_size, "max_overflow": 0}
        engine = create_async_engine(
            make_url(url).set(drivername=_AIOSQLITE),  # see ._aiosqlite
            connect_args={"timeout": 30},
            json_deserializer=json_loads,
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _quiet_cancelled_resets(engine)
        return engine
    # At most 2 x pool_size connections, all of them kept once opened (no overflow): an
    # overflow connection is closed at its check-in whenever pool_size others are idle,
    # so a load around pool_size requests in flight opened and closed connections all
    # the time (48 PostgreSQL sessions opened, 37 closed again, in 8 s of create-instance
    # at 32 connections, bench/api.py: a backend start, asyncpg's connect and statement
    # preparation each).
    engine = create_async_engine(
        url, pool_size=2 * pool_size, max_overflow=0, json_deserializer=json_loads
    )
    _check_on_checkout(engine)
    _quiet_cancelled_resets(engine)
    return engine


PING_IDLE_S: Final = 10.0
"""A pooled PostgreSQL connection idle (checked in) for longer than this is pinged when it
is checked out again (see :func:`_check_on_checkout`)."""


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Hand out no dead PostgreSQL connection, without a round trip per checkout.

    ``pool_pre_ping`` pings on every checkout, and asyncpg's ping outside a transaction is
    three round trips (``BEGIN``, ``;``, ``ROLLBACK``), a fifth of a dispatch's. Instead:

    - a connection the server closed (a PostgreSQL restart, ``pg_terminate_backend``, an
      idle timeout: the server sends its error and closes the socket, and the event loop
      reads that while the connection sits in the pool) is seen as closed by asyncpg at
      no cost, and replaced;
    - one idle for more than :data:`PING_IDLE_S` is pinged first (a connection cut without
      a word, by a firewall or a vanished host, is noticed and replaced; the ping costs
      nothing that matters on a hub that idle);
    - a connection that dies while in use fails its statement: SQLAlchemy takes that as a
      disconnect and recycles every connection the pool held then, as ``pool_pre_ping``
      would on its next checkouts.
    """
    dialect = engine.sync_engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["hub_idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise exc.DisconnectionError("the server closed the pooled connection")
        idle_since = record.info.pop("hub_idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > PING_IDLE_S:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as err:  # any failed ping: replace the connection
                raise exc.DisconnectionError(f"ping of an idle connection failed: {err}") from err

    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``'s pool in autocommit: no BEGIN and ROLLBACK around their
    queries (two round trips fewer per request). For reads: each statement sees what was
    committed when it ran (two queries of one request may see two states), and a write
    through such a session would commit statement by statement."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _head(connection: Connection) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(connection), revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Step the schema back to ``revision`` (``"base"`` drops everything)."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration (what ``/readyz`` checks)."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
        head = await conn.run_sync(_head)
    return current is not None and current == head


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` of the session's dialect (PostgreSQL or SQLite), for ``ON CONFLICT``."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)
