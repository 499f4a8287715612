"""Security: login, API keys, role guards, audit log, rate limiting, problem details."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, event, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub.app import create_app
from hub.auth import _security, create_user, hash_password, verify_password
from hub.errors import UnauthorizedError
from hub.store import User

from .conftest import AuthFor

LOGIN = "/api/v1/auth/login"


async def _user(db: async_sessionmaker[AsyncSession], name: str, password: str, role: str) -> None:
    async with db() as session:
        await create_user(session, name, password, role)  # type: ignore[arg-type]
        await session.commit()


async def test_login_returns_a_bearer_token_that_carries_the_role(
    client: AsyncTestClient[Litestar], db: async_sessionmaker[AsyncSession]
) -> None:
    await _user(db, "ada", "correct horse", "trader")
    r = await client.post(LOGIN, json={"username": "ada", "password": "correct horse"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert r.json()["role"] == "trader" and r.json()["token_type"] == "bearer"
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {
        "user_id": me.json()["user_id"],
        "username": "ada",
        "role": "trader",
        "via": "jwt",
    }
    wrong = await client.post(LOGIN, json={"username": "ada", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    nobody = await client.post(LOGIN, json={"username": "bob", "password": "nope"})
    assert nobody.status_code == 401
    missing = await client.post(LOGIN, json={"username": "ada"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "password"


async def test_api_keys_act_as_their_user(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    await _user(db, "robot", "robot-password", "viewer")
    r = await client.post(LOGIN, json={"username": "robot", "password": "robot-password"})
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.post("/api/v1/auth/api-keys", json={"name": "scraper"}, headers=bearer)
    assert r.status_code == 201
    key = r.json()["key"]
    assert key.startswith("lt_") and r.json()["prefix"] == key[:10]
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["via"] == "api_key"
    assert me.json()["role"] == "viewer"
    r = await client.get("/api/v1/vpp/vpps", headers={"X-API-Key": key})
    assert r.status_code == 200
    r = await client.post(
        "/api/v1/vpp/vpps", json={"name": "x", "market_type": "SPOT"}, headers={"X-API-Key": key}
    )
    assert r.status_code == 403
    assert (
        await client.get("/api/v1/vpp/vpps", headers={"X-API-Key": "lt_wrong"})
    ).status_code == 401


async def test_admin_routes_need_admin_and_the_audit_log_records_writes(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"username": "carol", "password": "long enough", "role": "operator"},
        headers=auth("operator"),
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/users",
        json={"username": "carol", "password": "long enough", "role": "operator"},
        headers=auth("admin"),
    )
    assert r.status_code == 201
    again = await client.post(
        "/api/v1/users",
        json={"username": "carol", "password": "long enough", "role": "operator"},
        headers=auth("admin"),
    )
    assert again.status_code == 409
    users = (await client.get("/api/v1/users", headers=auth("admin"))).json()
    assert "carol" in [u["username"] for u in users]
    log = await client.get("/api/v1/audit-log", params={"entity": "user"}, headers=auth("admin"))
    entry = log.json()["items"][0]
    assert entry["actor"] == "admin-user" and entry["action"] == "create"
    assert "password_hash" not in entry["after"]
    assert (await client.get("/api/v1/audit-log", headers=auth("trader"))).status_code == 403
    r = await client.post(LOGIN, json={"username": "carol", "password": "long enough"})
    assert r.status_code == 200


async def test_edges_are_registered_with_credentials_config_and_acl(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    r = await client.post(
        "/api/v1/edges", json={"id": "park-b", "name": "Park B"}, headers=auth("operator")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["edge"]["mqtt_username"] == "edge-park-b"
    assert 'edge = "park-b"' in body["agent_config_toml"]
    assert body["mqtt_password"] in body["agent_config_toml"]
    assert "topic write vpp/v1/default/park-b/data" in body["acl"]
    assert "topic read vpp/v1/default/park-b/dispatch" in body["acl"]
    again = await client.post("/api/v1/edges", json={"id": "park-b"}, headers=auth("admin"))
    assert again.status_code == 409
    bad = await client.post("/api/v1/edges", json={"id": "a/b"}, headers=auth("admin"))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "id"
    listed = (await client.get("/api/v1/edges", headers=auth("viewer"))).json()
    assert [e["id"] for e in listed] == ["park-b"]


async def test_rate_limit_answers_429_with_retry_after(settings: Settings) -> None:
    limited = create_app(
        Settings(
            **{
                **{f: getattr(settings, f) for f in settings.__struct_fields__},
                "rate_limit_per_minute": 3,
            }
        )
    )
    async with AsyncTestClient(app=limited) as client:
        codes = [(await client.get("/api/v1/vpp/vpps")).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = await client.get("/api/v1/vpp/vpps")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 0
        assert r.json()["status"] == 429
        assert (await client.get("/healthz")).status_code == 200


async def test_probes_and_schema_need_no_credentials(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"database": True, "mqtt": None, "commands": None}
    metrics = await client.get("/metrics")
    assert "hub_request_seconds" in metrics.text
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/vpp/vpps/{vpp_id}/aggregated-params" in schema["paths"]
    assert "/api/v1/vpp/trading/execute-dispatch" in schema["paths"]
    unknown = await client.get("/api/v1/nothing-here", headers={})
    assert unknown.status_code in {401, 404}


def test_password_hashes_are_argon2_and_verify() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("$argon2")
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "other")
    assert not verify_password(None, "s3cret")
    assert not verify_password("garbage", "s3cret")


async def test_tokens_follow_the_user_disabled_deleted_or_with_a_new_role(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    await _user(db, "dora", "dora-password", "operator")
    r = await client.post(LOGIN, json={"username": "dora", "password": "dora-password"})
    dora = {"Authorization": f"Bearer {r.json()['access_token']}"}
    dora_id = (await client.get("/api/v1/auth/me", headers=dora)).json()["user_id"]
    key = (await client.post("/api/v1/auth/api-keys", json={"name": "k"}, headers=dora)).json()
    admin = auth("admin")

    r = await client.patch(f"/api/v1/users/{dora_id}", json={"role": "viewer"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    me = (await client.get("/api/v1/auth/me", headers=dora)).json()
    assert me["role"] == "viewer"  # the token still says operator
    edge = await client.post("/api/v1/edges", json={"id": "park-d"}, headers=dora)
    assert edge.status_code == 403

    r = await client.patch(f"/api/v1/users/{dora_id}", json={"disabled": True}, headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await client.get("/api/v1/auth/me", headers=dora)).status_code == 401
    assert (
        await client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    ).status_code == 401
    log = await client.get("/api/v1/audit-log", params={"entity_id": dora_id}, headers=admin)
    assert [e["after"]["disabled"] for e in log.json()["items"]] == [True, False]

    async with db() as session:
        await session.execute(delete(User).where(User.id == dora_id))
        await session.commit()
    gone = await client.get("/api/v1/auth/me", headers=dora)
    assert gone.status_code == 401 and gone.json()["status"] == 401
    missing = await client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=admin)
    assert missing.status_code == 404
    viewer = await client.patch(f"/api/v1/users/{dora_id}", json={}, headers=auth("viewer"))
    assert viewer.status_code == 403


async def test_a_revoked_api_key_stops_working_and_only_its_owner_or_an_admin_revokes(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    made = await client.post("/api/v1/auth/api-keys", json={"name": "k"}, headers=auth("trader"))
    key = made.json()
    by_key = {"X-API-Key": key["key"]}
    assert (await client.get("/api/v1/auth/me", headers=by_key)).status_code == 200
    url = f"/api/v1/auth/api-keys/{key['id']}"
    assert (await client.delete(url, headers=auth("operator"))).status_code == 403
    assert (await client.delete(url, headers=auth("trader"))).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=by_key)).status_code == 401
    assert (await client.delete(url, headers=auth("admin"))).status_code == 204
    missing = await client.delete("/api/v1/auth/api-keys/nope", headers=auth("admin"))
    assert missing.status_code == 404
    log = await client.get("/api/v1/audit-log", params={"entity": "api_key"}, headers=auth("admin"))
    assert [e["action"] for e in log.json()["items"]] == ["revoke", "create"]


async def test_login_has_its_own_tighter_rate_limit(settings: Settings) -> None:
    fields = {f: getattr(settings, f) for f in settings.__struct_fields__}
    limited = create_app(Settings(**{**fields, "login_rate_limit_per_minute": 3}))
    async with AsyncTestClient(app=limited) as client:
        wrong = {"username": "eve", "password": "guess-guess"}
        codes = [(await client.post(LOGIN, json=wrong)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = await client.post(LOGIN, json=wrong)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 0
        assert r.json()["status"] == 429
        assert (await client.get("/api/v1/vpp/vpps")).status_code == 401  # not limited


async def test_a_checked_token_is_cached_until_a_user_is_written(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user row is read once per token, not on every request; any commit that writes
    a user (through the API or a bulk update in a session) makes the next request read it."""
    monkeypatch.setattr(_security, "AUTH_CACHE_S", 3600.0)  # no expiry within the test
    reads: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM users" in statement:
            reads.append(statement)

    engine = app.state.hub.engine.sync_engine
    admin = auth("admin")
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200
        assert len(reads) == 1
        me = (await client.get("/api/v1/auth/me", headers=admin)).json()
        async with db() as session:  # another engine in this process
            await session.execute(
                update(User).where(User.id == me["user_id"]).values(role="viewer")
            )
            await session.commit()
        assert (await client.get("/api/v1/auth/me", headers=admin)).json()["role"] == "viewer"
        assert len(reads) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_cached_principal_is_renewed_ahead_by_one_request_and_a_write_still_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past half of AUTH_CACHE_S one caller is asked to read the user again while the
    others are still served the entry; a user written in this process, or a renewal that
    finds the user gone, refuses everyone at once."""
    monkeypatch.setattr(_security, "AUTH_CACHE_S", 2.0)
    cache = _security.PrincipalCache()
    who = _security.Principal(user_id="u", username="u", role="operator")
    generation = _security._WRITES.generation
    cache.put("t", who, generation, float("inf"))
    assert cache.get("t") == who
    await asyncio.sleep(2.0 * _security.AUTH_REFRESH_AFTER + 0.05)
    assert cache.get("t") is None  # this caller renews it
    assert [cache.get("t") for _ in range(3)] == [who] * 3  # the others are served

    class Ctx:
        @staticmethod
        def sessions() -> contextlib.AbstractAsyncContextManager[object]:
            return contextlib.nullcontext(object())

    async def gone(_: object) -> _security.Principal:
        raise UnauthorizedError("the user of this token no longer exists or is disabled")

    with pytest.raises(UnauthorizedError):
        await _security._read_once(cache, "t", float("inf"), gone, Ctx())
    assert cache.get("t") is None  # dropped: the others are refused too
    cache.put("t", who, generation, float("inf"))
    _security._WRITES.generation += 1  # a user or API key was committed in this process
    assert cache.get("t") is None
