"""Hub fixtures: every database-backed test runs on SQLite and on PostgreSQL.

The schema is migrated once per database per session; each test starts from empty tables
(truncated before it runs). ``client`` is a Litestar ``AsyncTestClient`` around
``create_app`` (its lifespan runs: engine, presets, and the MQTT bus when asked for).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub.app import create_app
from hub.auth import ALL_ROLES, Principal, Role
from hub.store import Base, User, create_engine, migrate, sessionmaker
from tests.support import SAFETY_TIMEOUT

JWT_SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database URL (SQLite file or the session's PostgreSQL database)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hubdb') / 'hub.db'}"
    else:
        url = request.getfixturevalue("postgres_url")

    async def setup() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(setup())
    return url


async def _truncate(url: str) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if url.startswith("postgresql"):
        # One round trip of DELETEs in one transaction: TRUNCATE of ~35 tables costs about
        # a second per test on PostgreSQL (a new file per table), DELETE of a test's few rows
        # some milliseconds.
        import asyncpg

        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn, timeout=SAFETY_TIMEOUT)
        try:
            deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in tables)
            await conn.execute(f"BEGIN; {deletes}; COMMIT")
        finally:
            await conn.close()
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for table in tables:
                await conn.execute(delete(table))
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_db(db_url: str) -> str:
    await _truncate(db_url)
    return db_url


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return Settings(
        db_url=clean_db,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        # The singleton jobs (settlement, schedule repair, retention) write to the shared
        # test database on their own timers; tests of the jobs turn them on themselves.
        run_jobs=False,
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


AuthFor = Callable[[Role], dict[str, str]]


async def add_role_users(url: str) -> None:
    """One user per role (id ``{role}-id``, name ``{role}-user``): tokens are checked
    against the users table on every request."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            for role in ALL_ROLES:
                session.add(
                    User(id=f"{role}-id", username=f"{role}-user", password_hash="", role=role)
                )
            await session.commit()
    finally:
        await engine.dispose()


def auth_for(app: Litestar) -> AuthFor:
    def headers(role: Role) -> dict[str, str]:
        token = app.state.hub.tokens.issue(
            Principal(user_id=f"{role}-id", username=f"{role}-user", role=role)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
async def auth(app: Litestar, client: AsyncTestClient[Litestar], clean_db: str) -> AuthFor:
    """Headers with a bearer token for a caller of ``role`` (needs the lifespan running)."""
    await add_role_users(clean_db)
    return auth_for(app)


async def wait_until(check: Callable[[], Awaitable[bool]], step: float = 0.02) -> None:
    """Poll ``check`` (an HTTP or database condition, no event to wait on) until true;
    fail after ``SAFETY_TIMEOUT`` (a deadlock guard, not a performance assertion)."""
    async with asyncio.timeout(SAFETY_TIMEOUT):
        while not await check():  # noqa: ASYNC110 - the condition lives in another process
            await asyncio.sleep(step)


def template_id(templates: list[dict[str, object]], type_: str) -> str:
    found = next(t for t in templates if t["type"] == type_)
    return str(found["id"])


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
async def db(clean_db: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test's own engine (the app's engine lives in the app's loop)."""
    engine = create_engine(clean_db)
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()
