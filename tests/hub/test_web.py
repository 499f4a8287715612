"""The console on the hub's side: the bundle at ``/``, the live feed and stream, the
aggregation preview of an unsaved membership."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hub import Settings, serve
from hub._context import HubContext
from hub.errors import NotFoundError
from hub.web import RESYNC, STATIC_DIR, LiveFeed, SnapshotCache, Subscription, console_response
from hub.web._snapshot import Rows, read_rows
from tests.support import SAFETY_TIMEOUT

from .conftest import JWT_SECRET, AuthFor, add_role_users
from .helpers import hub_context, make_battery, make_vpp

CONSOLE = Path(__file__).resolve().parents[2] / "console"
PREVIEW = "/api/v1/vpp/console/aggregation-preview"
SNAPSHOT = "/api/v1/vpp/console/snapshot"


# --------------------------------------------------------------------------- the bundle


def test_the_committed_bundle_was_built_from_the_current_console_sources() -> None:
    """Same recipe as console/scripts/hash.mjs: run `make console` when this fails."""
    inputs = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"]
    files = sorted(
        [p.relative_to(CONSOLE).as_posix() for p in (CONSOLE / "src").rglob("*") if p.is_file()]
        + inputs
    )
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0" + (CONSOLE / rel).read_bytes() + b"\0")
    recorded = (STATIC_DIR / "SOURCE_HASH").read_text().strip()
    assert recorded == digest.hexdigest(), "hub/web/static is stale: run `make console`"


def test_every_operation_the_console_was_generated_from_still_exists() -> None:
    """The console's API types come from console/openapi.json; an operation removed or
    renamed in the hub since then would break it (adding operations is fine)."""
    spec = importlib.util.spec_from_file_location("openapi_script", CONSOLE / "scripts/openapi.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    live = script.openapi_document()["paths"]
    generated = json.loads((CONSOLE / "openapi.json").read_text())["paths"]
    assert isinstance(live, dict)
    missing = [
        f"{method.upper()} {path}"
        for path, ops in generated.items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"} and method not in live.get(path, {})
    ]
    assert missing == [], "regenerate the console's API types: make console"


def test_console_files_and_spa_fallback(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-1.js").write_text("x")
    (tmp_path / "index.html").write_text("<div id=app>")
    (tmp_path.parent / "secret.txt").write_text("no")
    asset = console_response("/assets/app-1.js", tmp_path)
    assert asset.media_type == "text/javascript"
    assert "immutable" in asset.headers["Cache-Control"]
    for route in ("/", "/resources/abc", "/wall"):
        page = console_response(route, tmp_path)
        assert page.content == b"<div id=app>" and page.headers["Cache-Control"] == "no-cache"
    for missing in ("/assets/gone.js", "/../secret.txt", "/api/v1/vpp/nothing", "/favicon.png"):
        with pytest.raises(NotFoundError):
            console_response(missing, tmp_path)
    big = "console.log('x');" * 200
    (tmp_path / "assets" / "big-2.js").write_text(big)
    zipped = console_response("/assets/big-2.js", tmp_path, accept_encoding="gzip, br")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert isinstance(zipped.content, bytes) and gzip.decompress(zipped.content) == big.encode()
    plain = console_response("/assets/big-2.js", tmp_path)
    assert plain.content == big.encode() and "Content-Encoding" not in plain.headers
    assert "Content-Encoding" not in asset.headers  # too small to be worth it
    empty = tmp_path / "empty"
    empty.mkdir()
    assert console_response("/", empty).status_code == 503  # not built: says so


async def test_the_hub_serves_the_console_at_root_without_a_login(
    client: AsyncTestClient[Litestar],
) -> None:
    root = await client.get("/")
    assert root.status_code == 200 and '<div id="app">' in root.text
    deep = await client.get("/builder")
    assert deep.text == root.text
    assert "default-src 'self'" in root.headers["content-security-policy"]
    script = max(
        (p for p in (STATIC_DIR / "assets").iterdir() if p.suffix == ".js"),
        key=lambda p: p.stat().st_size,
    )
    asset = await client.get(f"/assets/{script.name}")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["content-encoding"] == "gzip"  # httpx asked for it and unpacked it
    assert "function" in asset.text or "=>" in asset.text
    assert (await client.get("/api/v1/vpp/nope")).status_code == 404
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get(SNAPSHOT)).status_code == 401


# --------------------------------------------------------------------------- preview


async def test_preview_aggregates_an_unsaved_membership(
    client: AsyncTestClient[Litestar], auth: AuthFor, app: Litestar
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, name="a", device="b1", kw=100.0)
    b = await make_battery(client, h, name="b", device="b2", kw=50.0)
    vpp = await make_vpp(client, h, [a["id"]])
    one = await client.post(PREVIEW, json={"members": [{"resource_id": a["id"]}]}, headers=h)
    assert one.status_code == 200, one.text
    assert one.json()["params"]["total_capacity"] == 100.0
    both = {
        "vpp_id": vpp["id"],
        "members": [{"resource_id": a["id"]}, {"resource_id": b["id"], "allocation_ratio": 0.5}],
    }
    r = await client.post(PREVIEW, json=both, headers=auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.json()["params"]["total_capacity"] == 125.0
    assert r.json()["params"]["member_count"] == 2
    # a is saved in this VPP at 1.0: editing it does not count that twice ...
    assert not [c for c in r.json()["conflicts"] if c["kind"] == "over_allocation"]
    # ... but proposing it for another VPP does.
    other = await client.post(PREVIEW, json={"members": [{"resource_id": a["id"]}]}, headers=h)
    kinds = {c["kind"]: c for c in other.json()["conflicts"]}
    assert kinds["over_allocation"]["resource_ids"] == [a["id"]]
    assert kinds["over_allocation"]["suggestion"]
    # nothing was stored
    saved = (await client.get(f"/api/v1/vpp/vpps/{vpp['id']}", headers=h)).json()
    assert [m["resource_id"] for m in saved["resources"]] == [a["id"]]
    empty = await client.post(PREVIEW, json={"members": []}, headers=h)
    assert empty.json()["params"]["total_capacity"] == 0.0
    bad = await client.post(PREVIEW, json={"members": [{"resource_id": "nope"}]}, headers=h)
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    twice = {"members": [{"resource_id": a["id"]}, {"resource_id": a["id"]}]}
    assert (await client.post(PREVIEW, json=twice, headers=h)).status_code == 422
    ratio = {"members": [{"resource_id": a["id"], "allocation_ratio": 2}]}
    assert (await client.post(PREVIEW, json=ratio, headers=h)).status_code == 400
    market = {"members": [{"resource_id": b["id"]}], "market_type": "ANCILLARY"}
    assert (await client.post(PREVIEW, json=market, headers=h)).status_code == 200


# --------------------------------------------------------------------------- snapshot


async def test_snapshot_shows_live_values_aggregates_and_alarms(
    client: AsyncTestClient[Litestar], auth: AuthFor, app: Litestar
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, name="a", device="b1", kw=100.0)
    await make_battery(client, h, name="z-unbound", edge=None)
    vpp = await make_vpp(client, h, [a["id"]])
    ctx = app.state.hub
    now = ctx.clock.now_ms()
    ctx.cache.put("default/park-a", "b1", "p_w", -12_000.0, now)
    ctx.cache.put("default/park-a", "b1", "soc_pct", 55.5, now)
    r = await client.get(SNAPSHOT, headers=auth("viewer"))
    assert r.status_code == 200, r.text
    snap = r.json()
    res = {x["name"]: x for x in snap["resources"]}
    assert res["a"]["p_kw"] == -12.0 and res["a"]["soc"] == 55.5 and res["a"]["ts"]
    assert res["z-unbound"]["p_kw"] is None
    assert {a_["code"] for a_ in snap["alarms"]} >= {"resource_offline"}
    (v,) = snap["vpps"]
    assert v["id"] == vpp["id"] and v["params"]["member_count"] == 1
    assert v["params"]["total_capacity"] == 100.0
    assert snap["dispatch"] == []

    # An edge that is not online and a dispatch nobody can take show up as alarms.
    r = await client.post("/api/v1/edges", json={"id": "park-b"}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    sent = await client.post(
        "/api/v1/vpp/trading/execute-dispatch",
        json={
            "vpp_id": vpp["id"],
            "dispatch_instructions": [{"target_power": 10.0, "duration": 60}],
        },
        headers=h,
    )
    assert sent.status_code == 201, sent.text
    snap = (await client.get(SNAPSHOT, headers=h)).json()
    (d,) = snap["dispatch"]
    assert d["vpp_id"] == vpp["id"] and d["resource_id"] is None
    assert d["status"] == "rejected" and d["requested_power"] == 10.0
    codes = {x["code"]: x for x in snap["alarms"]}
    assert codes["dispatch_rejected"]["subject_name"] == "vpp"
    assert codes["dispatch_rejected"]["detail"]
    assert codes["edge_offline"]["subject_id"] == "park-b"
    assert {e["id"]: e["online"] for e in snap["edges"]}["park-b"] is False


async def test_one_snapshot_serves_every_caller_until_what_it_shows_changes(
    client: AsyncTestClient[Litestar], auth: AuthFor, app: Litestar
) -> None:
    """Built once for callers at the same (database, live cache) version, encoded once and
    carried as it is by the stream; built again after new telemetry (without reading the
    database again) and after a write (reading it again)."""
    h = auth("operator")
    a = await make_battery(client, h, name="a", device="b1", kw=100.0)
    await make_vpp(client, h, [a["id"]])
    ctx = app.state.hub
    snapshots: SnapshotCache = app.state.console_snapshots
    snapshots.max_age_s = 60.0  # no refresh by age within this test, however slow the box
    ctx.cache.put("default/park-a", "b1", "p_w", -12_000.0, ctx.clock.now_ms())

    first = await client.get(SNAPSHOT, headers=auth("viewer"))
    builds, reads = snapshots.builds, snapshots.row_reads
    second = await client.get(SNAPSHOT, headers={**auth("admin"), "Accept-Encoding": "identity"})
    assert first.status_code == second.status_code == 200
    assert first.headers["content-encoding"] == "gzip"  # httpx asks for it, as browsers do
    assert "content-encoding" not in second.headers
    assert second.content == first.content  # the same bytes: not built nor encoded again
    assert (snapshots.builds, snapshots.row_reads) == (builds, reads)
    assert first.json()["resources"][0]["p_kw"] == -12.0
    pushed = await snapshots.get()
    assert pushed.frame.endswith(b"data: " + first.content + b"\n\n")  # the stream's copy

    ctx.cache.put("default/park-a", "b1", "p_w", -30_000.0, ctx.clock.now_ms())
    third = (await client.get(SNAPSHOT, headers=h)).json()
    assert third["resources"][0]["p_kw"] == -30.0
    assert third["seq"] > first.json()["seq"]
    assert snapshots.builds == builds + 1 and snapshots.row_reads == reads  # live part only

    await make_battery(client, h, name="b", device="b2", kw=50.0)
    fourth = (await client.get(SNAPSHOT, headers=h)).json()
    assert sorted(r["name"] for r in fourth["resources"]) == ["a", "b"]
    assert snapshots.row_reads == reads + 1


@pytest.fixture
async def ctx(clean_db: str) -> AsyncIterator[HubContext]:
    async with hub_context(clean_db) as ctx:
        yield ctx


async def test_concurrent_callers_share_one_build_and_an_old_one_is_served_while_refreshed(
    ctx: HubContext,
) -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    reads = 0

    async def held_read(session: AsyncSession, ctx: HubContext, previous: Rows | None) -> Rows:
        nonlocal reads
        reads += 1
        entered.set()
        await gate.wait()
        return await read_rows(session, ctx, previous)

    async def reading() -> None:
        await entered.wait()
        entered.clear()

    snapshots = SnapshotCache(ctx, 60.0, read=held_read)
    async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
        callers = [group.create_task(snapshots.get()) for _ in range(5)]
        await reading()
        gate.set()
    assert [c.result().seq for c in callers] == [1] * 5 and reads == 1  # one build, five callers

    # Older than max_age_s, nothing changed: one caller makes the next, another is handed
    # the old one meanwhile (nobody waits on a refresh by age).
    snapshots.max_age_s = 0.001
    await asyncio.sleep(0.01)
    gate.clear()
    async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
        refreshing = group.create_task(snapshots.get())
        await reading()
        assert (await snapshots.get()).seq == 1
        gate.set()
    assert refreshing.result().seq == 2

    # A live value changed: the next caller gets a new one at once (the rows are young:
    # not read again).
    snapshots.max_age_s = 60.0
    ctx.cache.put("default/park-a", "b1", "p_w", 1.0, ctx.clock.now_ms())
    async with asyncio.timeout(SAFETY_TIMEOUT):
        assert (await snapshots.get()).seq == 3
    assert reads == 2


# --------------------------------------------------------------------------- feed


def test_a_slow_subscriber_loses_its_oldest_messages_then_reads_a_resync_marker() -> None:
    drops: list[int] = []
    sub = Subscription(2, lambda: drops.append(1))

    async def scenario() -> list[bytes]:
        for i in range(5):
            sub.offer(str(i).encode())
        return [await sub.next() for _ in range(3)]

    assert asyncio.run(scenario()) == [RESYNC, b"3", b"4"]
    assert sub.dropped == 3 and len(drops) == 3 and sub.pending == 0


async def test_the_feed_polls_only_while_someone_listens_and_survives_a_failing_source(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def source() -> bytes:
        calls.append(1)
        if len(calls) in {2, 3}:
            raise RuntimeError("database away")
        return f"m{len(calls)}".encode()

    feed = LiveFeed(source, interval_s=0.001, queue_size=4)
    async with asyncio.timeout(SAFETY_TIMEOUT), asyncio.TaskGroup() as group:
        task = group.create_task(feed.run())
        await asyncio.sleep(0.02)
        assert calls == []  # nobody subscribed: no polling
        with caplog.at_level(logging.INFO, logger="hub.web._feed"):
            async with feed.subscribe() as sub:
                assert feed.subscribers == 1
                first = await sub.next()
                second = await sub.next()
        assert first == b"m1" and second == b"m4"
        assert feed.subscribers == 0
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1  # logged once, not per failure
        assert any("recovered" in r.getMessage() for r in caplog.records)
        task.cancel()


# --------------------------------------------------------------------------- stream


async def test_the_stream_pushes_whole_snapshots_to_an_authenticated_client(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    settings = Settings(db_url=url, mqtt_url=None, jwt_secret=JWT_SECRET, rate_limit_per_minute=0)
    async with (
        asyncio.timeout(SAFETY_TIMEOUT * 2),
        serve(settings, port=0) as base,
        httpx.AsyncClient(base_url=base, timeout=SAFETY_TIMEOUT) as http,
    ):
        await add_role_users(url)
        unauthenticated = await http.get("/api/v1/vpp/console/stream")
        assert unauthenticated.status_code == 401
        from hub.auth import Principal, TokenService

        token = TokenService(JWT_SECRET, 600).issue(
            Principal(user_id="viewer-id", username="viewer-user", role="viewer")
        )
        events: list[tuple[str, dict[str, object]]] = []
        async with http.stream(
            "GET", "/api/v1/vpp/console/stream", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "live":
                    events.append((event, json.loads(line[6:])))
                    if len(events) == 2:
                        break
        (_, first), (_, second) = events
        assert isinstance(first["seq"], int) and isinstance(second["seq"], int)
        assert second["seq"] > first["seq"]
        assert set(first) == {"seq", "ts", "resources", "vpps", "edges", "dispatch", "alarms"}


async def test_the_hub_stops_while_a_console_holds_the_stream_open(
    tmp_path: Path, free_port: int
) -> None:
    """`vpp hub run` as documented: Ctrl-C ends it even with a browser tab streaming."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = {**os.environ, "VPP_HUB_JWT_SECRET": JWT_SECRET, "VPP_HUB_RATE_LIMIT": "0"}
    base = f"http://127.0.0.1:{free_port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lingtan", "hub", "run", "--port", str(free_port),
        "--db", url, "--mqtt", "", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with (
            asyncio.timeout(SAFETY_TIMEOUT * 2),
            httpx.AsyncClient(base_url=base, timeout=SAFETY_TIMEOUT) as http,
        ):
            for _ in range(int(SAFETY_TIMEOUT / 0.1)):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("vpp hub run did not become ready")
            await add_role_users(url)
            from hub.auth import Principal, TokenService

            token = TokenService(JWT_SECRET, 600).issue(
                Principal(user_id="viewer-id", username="viewer-user", role="viewer")
            )
            headers = {"Authorization": f"Bearer {token}"}
            async with http.stream("GET", "/api/v1/vpp/console/stream", headers=headers) as r:
                assert r.status_code == 200
                lines = r.aiter_lines()
                while not (await anext(lines)).startswith("event: live"):
                    pass
                proc.send_signal(signal.SIGINT)
                assert await proc.wait() == 0  # under the timeout above: it did stop
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
