"""State two replicas share through Redis (real Redis on 127.0.0.1:6379): one rate limit
for requests spread over both, one live cache; and what a replica shows to whom
(``/metrics`` behind a scrape token, rate limits per client behind a balancer)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from hub import Settings
from hub.app import create_app
from tests.support import SAFETY_TIMEOUT, service_missing

REDIS = "redis://127.0.0.1:6379/0"
SECRET = "shared-secret-" + "s" * 40


@pytest.fixture
async def redis_url() -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS)
    try:
        await client.ping()
    except Exception as exc:
        service_missing(f"Redis at {REDIS} is not usable: {exc}")
    finally:
        await client.aclose()
    return REDIS


def settings(db: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "db_url": db,
        "mqtt_url": None,
        "jwt_secret": SECRET,
        "migrate_on_start": True,
        "load_presets": False,
        "run_jobs": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def hammer(clients: list[AsyncTestClient[Litestar]], n: int) -> list[int]:
    """``n`` requests, round-robin over the replicas (a balancer's way)."""
    codes = []
    for i in range(n):
        codes.append((await clients[i % len(clients)].get("/api/v1/edges")).status_code)
    return codes


async def test_requests_spread_over_two_replicas_are_limited_as_one(
    redis_url: str, tmp_path: object
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    shared = settings(db, redis_url=redis_url, redis_prefix=prefix, rate_limit_per_minute=6)
    async with (
        AsyncTestClient(app=create_app(shared)) as one,
        AsyncTestClient(app=create_app(shared)) as two,
    ):
        codes = await hammer([one, two], 10)
    assert codes[:6] == [401] * 6  # counted (unauthenticated), not yet limited
    assert codes[6:] == [429] * 4  # the 7th request overall is refused, on either replica

    alone = settings(db, rate_limit_per_minute=6)  # in-process stores: one limit each
    async with (
        AsyncTestClient(app=create_app(alone)) as one,
        AsyncTestClient(app=create_app(alone)) as two,
    ):
        codes = await hammer([one, two], 10)
    assert 429 not in codes


async def test_live_values_one_replica_ingests_reach_the_others_cache(
    redis_url: str, tmp_path: object
) -> None:
    """What a replica stored, as its mirror publishes it (a third replica here, in the
    test's loop: the apps run in the test client's), lands in both apps' caches."""
    from redis.asyncio import Redis

    from hub.store import LiveCache, LiveMirror

    db = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    shared = settings(db, redis_url=redis_url, redis_prefix=prefix)
    one_app, two_app = create_app(shared), create_app(shared)
    client = Redis.from_url(redis_url)
    try:
        async with AsyncTestClient(app=one_app), AsyncTestClient(app=two_app):
            third = LiveCache()
            mirror = LiveMirror(client, third, f"{prefix}:live")
            await mirror.publish(
                [
                    ("p", "park-a", "bess-1", "p_w", 1500.0, 1_000),
                    ("q", "park-a", "bess-1", False),
                    ("e", "park-a", True, 3, 1_000),
                ]
            )
            caches = [one_app.state.hub.cache, two_app.state.hub.cache]
            async with asyncio.timeout(SAFETY_TIMEOUT):
                while any(c.value("park-a", "bess-1", "p_w") is None for c in caches):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            for cache in caches:
                assert cache.value("park-a", "bess-1", "p_w") == 1500.0
                edge = cache.edge("park-a")
                assert edge is not None
                assert (edge.online, edge.sid) == (True, 3)
    finally:
        await client.aclose()


async def test_metrics_need_the_scrape_token_when_one_is_set(tmp_path: object) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    async with AsyncTestClient(app=create_app(settings(db, metrics_token="scrape-me"))) as hub:
        assert (await hub.get("/metrics")).status_code == 401
        wrong = await hub.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await hub.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200
        assert "hub_request_seconds" in right.text
        assert (await hub.get("/healthz")).status_code == 200  # probes stay open


async def test_behind_a_trusted_balancer_each_client_has_its_own_limit(tmp_path: object) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    # the test client's peer address is "testclient": here it plays the balancer
    app = create_app(settings(db, rate_limit_per_minute=3, trusted_proxies=("testclient",)))
    async with AsyncTestClient(app=app) as hub:

        async def from_(client: str, spoofed: str = "") -> int:
            forwarded = f"{spoofed}, {client}" if spoofed else client
            r = await hub.get("/api/v1/edges", headers={"X-Forwarded-For": forwarded})
            return r.status_code

        assert [await from_("10.0.0.1") for _ in range(4)] == [401, 401, 401, 429]
        assert await from_("10.0.0.2") == 401  # another client, another bucket
        # a client cannot pick another bucket by sending its own header first
        assert await from_("10.0.0.1", spoofed="10.9.9.9") == 429
