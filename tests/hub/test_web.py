"""The console on the hub's side: the bundle at ``/``, the live feed and stream, the
aggregation preview of an unsaved membership."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hub import Settings, serve
from hub._context import HubContext
from hub.errors import NotFoundError
from hub.store import Edge, LiveCache, background_writes
from hub.vpps import prepare_row
from hub.web import RESYNC, STATIC_DIR, LiveFeed, SnapshotCache, Subscription, console_response
from hub.web._snapshot import (
    STALE_LIMIT,
    Built,
    Pieces,
    ResourceRow,
    Rows,
    assemble,
    encode_snapshot,
    read_rows,
)
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
    carried as it is by the stream; after new telemetry the old one is answered while the
    next is made (without reading the database again, encoding only what changed); after
    this replica's write the caller waits for one that shows it."""
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
    encoded = snapshots.pieces.encoded
    stale = await client.get(SNAPSHOT, headers=h)
    assert stale.content == first.content  # the old one, while the next is made
    stale_seq = stale.json()["seq"]
    async with asyncio.timeout(SAFETY_TIMEOUT):  # made in the app's loop: ask until it is there
        for _ in range(int(SAFETY_TIMEOUT * 100)):
            third = (await client.get(SNAPSHOT, headers=h)).json()
            if third["seq"] != stale_seq:
                break
            await asyncio.sleep(0.01)
    assert third["seq"] == first.json()["seq"] + 1
    assert third["resources"][0]["p_kw"] == -30.0
    assert snapshots.builds == builds + 1 and snapshots.row_reads == reads  # live part only
    assert snapshots.pieces.encoded == encoded + 2  # its resource and its VPP, nothing else

    await make_battery(client, h, name="b", device="b2", kw=50.0)
    fourth = (await client.get(SNAPSHOT, headers=h)).json()
    assert sorted(r["name"] for r in fourth["resources"]) == ["a", "b"]
    assert snapshots.row_reads == reads + 1


@pytest.fixture
async def ctx(clean_db: str) -> AsyncIterator[HubContext]:
    async with hub_context(clean_db) as ctx:
        yield ctx


@contextlib.asynccontextmanager
async def running(snapshots: SnapshotCache) -> AsyncIterator[SnapshotCache]:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(snapshots.run())
        try:
            yield snapshots
        finally:
            task.cancel()


class HeldRead:
    """A :func:`read_rows` that waits at a gate (open unless closed) and counts."""

    def __init__(self) -> None:
        self.gate, self.entered = asyncio.Event(), asyncio.Event()
        self.gate.set()
        self.reads = 0

    async def __call__(self, session: AsyncSession, ctx: HubContext, previous: Rows | None) -> Rows:
        self.reads += 1
        self.entered.set()
        await self.gate.wait()
        return await read_rows(session, ctx, previous)

    async def reading(self) -> None:
        await self.entered.wait()
        self.entered.clear()


async def test_concurrent_callers_share_one_build_and_an_old_one_is_served_while_refreshed(
    ctx: HubContext,
) -> None:
    read = HeldRead()
    read.gate.clear()
    snapshots = SnapshotCache(ctx, 60.0, read=read)
    async with asyncio.timeout(SAFETY_TIMEOUT), running(snapshots):
        async with asyncio.TaskGroup() as group:
            callers = [group.create_task(snapshots.get()) for _ in range(5)]
            await read.reading()
            read.gate.set()
        assert [c.result().seq for c in callers] == [1] * 5 and read.reads == 1  # one build

        # A live value changed: every caller is handed the old one at once while one build
        # makes the next (the rows are young: not read again).
        ctx.cache.put("default/park-a", "b1", "p_w", 1.0, ctx.clock.now_ms())
        assert [(await snapshots.get()).seq for _ in range(3)] == [1, 1, 1]
        assert (await snapshots.get(stale_ok=False)).seq == 2
        assert (await snapshots.get()).seq == 2
        assert read.reads == 1

        # Older than max_age_s: the same (all the rows are read again on SQLite, where no
        # fingerprint tells that nothing changed).
        snapshots.max_age_s = 0.2
        await asyncio.sleep(0.21)
        assert (await snapshots.get()).seq == 2
        assert (await snapshots.get(stale_ok=False)).seq == 3

        # Nobody asked for longer than STALE_LIMIT max_age_s: the caller waits for a new one.
        await asyncio.sleep(STALE_LIMIT * 0.2)
        assert (await snapshots.get()).seq == 4


async def test_after_a_write_of_this_replica_callers_wait_for_a_build_started_after_it(
    ctx: HubContext,
) -> None:
    read = HeldRead()
    snapshots = SnapshotCache(ctx, 60.0, read=read)

    async def add_edge(edge_id: str) -> None:
        async with ctx.sessions() as session, session.begin():
            session.add(
                Edge(
                    tenant="default",
                    id=edge_id,
                    mqtt_username=edge_id,
                    mqtt_password_hash="-",
                )
            )

    def shown(built: Built) -> list[str]:
        return [e["id"] for e in json.loads(built.body)["edges"]]

    async with asyncio.timeout(SAFETY_TIMEOUT), running(snapshots):
        assert shown(await snapshots.get()) == []
        await add_edge("park-a")
        read.gate.clear()
        read.entered.clear()
        async with asyncio.TaskGroup() as group:
            first = group.create_task(snapshots.get())
            await read.reading()
            second = group.create_task(snapshots.get())  # no write since it started: it
            await asyncio.sleep(0.01)  # waits for the same build
            read.gate.set()
        assert first.result().seq == second.result().seq == 2
        assert shown(first.result()) == ["park-a"] and read.reads == 2

        read.gate.clear()
        await add_edge("park-b")
        async with asyncio.TaskGroup() as group:
            before = group.create_task(snapshots.get())
            await read.reading()
            await add_edge("park-c")  # during the build: a caller now needs the next one
            after = group.create_task(snapshots.get())
            await asyncio.sleep(0.01)
            read.gate.set()
        assert shown(before.result())[:2] == ["park-a", "park-b"]
        assert after.result().seq > before.result().seq
        assert shown(after.result()) == ["park-a", "park-b", "park-c"]


async def test_a_background_write_of_this_replica_makes_no_caller_wait_but_a_callers_write_does(
    ctx: HubContext,
) -> None:
    """The ingest's and the singleton jobs' writes (``background_writes``: schedule repair
    writes ``edges`` every minute) count as another replica's: callers are handed the old
    snapshot while the next is made; a write made for a caller still makes them wait for
    one that shows it. ``hub_snapshot_waits_total`` says which."""
    snapshots = SnapshotCache(ctx, 60.0)

    async def add_edge(edge_id: str) -> None:
        async with ctx.sessions() as session, session.begin():
            session.add(
                Edge(tenant="default", id=edge_id, mqtt_username=edge_id, mqtt_password_hash="-")
            )

    def shown(built: Built) -> list[str]:
        return [e["id"] for e in json.loads(built.body)["edges"]]

    def waits(reason: str) -> float | None:
        labels = {"reason": reason}
        return ctx.metrics.registry.get_sample_value("hub_snapshot_waits_total", labels)

    async with asyncio.timeout(SAFETY_TIMEOUT), running(snapshots):
        first = await snapshots.get()
        assert shown(first) == [] and waits("first") == 1
        with background_writes():
            await add_edge("park-a")
        assert (await snapshots.get()).seq == first.seq  # not waited for: the old one
        current = await snapshots.get(stale_ok=False)  # the one being made shows it
        assert shown(current) == ["park-a"] and current.seq > first.seq
        assert waits("own_write") in (None, 0.0) and waits("current") == 1

        await add_edge("park-b")  # a caller's write: the next caller waits for it
        after = await snapshots.get()
        assert shown(after) == ["park-a", "park-b"] and waits("own_write") == 1


async def test_a_failed_build_reaches_its_callers_and_the_next_caller_tries_again(
    ctx: HubContext,
) -> None:
    fail = True

    async def read(session: AsyncSession, ctx: HubContext, previous: Rows | None) -> Rows:
        if fail:
            raise RuntimeError("database away")
        return await read_rows(session, ctx, previous)

    snapshots = SnapshotCache(ctx, 0.01, read=read)
    async with asyncio.timeout(SAFETY_TIMEOUT), running(snapshots):
        for _ in range(2):
            with pytest.raises(RuntimeError, match="database away"):
                await snapshots.get()
        fail = False
        assert (await snapshots.get()).seq == 3
        assert snapshots.failures == 0


def _raw_sql(db_url: str, statement: str) -> None:
    """``statement`` run by another process, as far as this one can tell: on a driver
    connection of its own, not through SQLAlchemy (which counts this process's writes)."""
    if db_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(db_url.split("///", 1)[1])) as conn:
            conn.execute(statement)
            conn.commit()
        return

    async def run() -> None:
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql", 1))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())  # in a thread of its own: the test's loop runs the build meanwhile


async def test_another_replicas_write_shows_within_max_age_and_callers_never_wait_for_it(
    client: AsyncTestClient[Litestar], auth: AuthFor, ctx: HubContext, clean_db: str
) -> None:
    """An UPDATE of another process (nothing this process counts) shows in the first
    snapshot made after ``max_age_s``; callers meanwhile get the previous one without
    waiting, even while the build is held in its read. Nothing written: only the small
    part is read again on PostgreSQL (the fingerprint), everything on SQLite."""
    h = auth("operator")
    a = await make_battery(client, h, name="a", device="b1", kw=100.0)
    await make_vpp(client, h, [a["id"]])
    read = HeldRead()
    max_age = 0.5
    snapshots = SnapshotCache(ctx, max_age, read=read)  # in this loop, as another replica
    async with asyncio.timeout(SAFETY_TIMEOUT), running(snapshots):
        first = await snapshots.get()
        assert [r["name"] for r in json.loads(first.body)["resources"]] == ["a"]
        await asyncio.sleep(max_age)
        await snapshots.get()
        same = await snapshots.get(stale_ok=False)
        assert same.seq == first.seq + 1
        pg = clean_db.startswith("postgresql")
        assert (snapshots.row_reads, snapshots.recent_reads) == ((1, 1) if pg else (2, 0))
        assert json.loads(same.body)["resources"] == json.loads(first.body)["resources"]

        written = time.monotonic()
        await asyncio.to_thread(
            _raw_sql,
            clean_db,
            f"UPDATE vpp_resource_instances SET name = 'renamed' WHERE id = '{a['id']}'",
        )
        read.gate.clear()
        read.entered.clear()
        await asyncio.sleep(max(0.0, max_age - (time.monotonic() - written)))
        assert (await snapshots.get()).seq == same.seq  # old: the next is being made
        await read.reading()  # held in its read of the rows, which changed
        async with asyncio.timeout(0.5):  # no caller waits for the held build
            assert [(await snapshots.get()).seq for _ in range(3)] == [same.seq] * 3
        read.gate.set()
        renamed = await snapshots.get(stale_ok=False)
    assert [r["name"] for r in json.loads(renamed.body)["resources"]] == ["renamed"]


def test_the_snapshot_made_from_pieces_is_the_whole_one_and_reencodes_only_what_changed() -> None:
    cache = LiveCache()
    now = 1_000_000_000
    stale_ms = 60_000

    def resource(n: int, edge: str | None) -> ResourceRow:
        return ResourceRow(
            f"r{n}",
            f"res {n}",
            "STORAGE",
            "ONLINE" if n % 3 else "OFFLINE",
            None,
            f"d{n}",
            100.0,
            {"x": n},
            edge,
        )

    edges = ["t/e0", "t/e1", None]
    resources = [resource(n, edges[n % 3]) for n in range(9)]
    member_rows = {
        "v0": [
            (
                r.id,
                "ONLINE",
                100.0,
                None,
                {"rated_kw": 100},
                "t",
                r.edge_key.split("/")[1],
                r.device_id,
                "STORAGE",
                1.0,
                1,
            )
            for r in resources
            if r.edge_key == "t/e0"
        ],
        "v1": [],
    }
    Vpp = collections.namedtuple("Vpp", "id name status market_type")
    EdgeRow = collections.namedtuple("EdgeRow", "tenant id name online last_seen")
    rows = Rows(
        tables=(),
        stamp=(0,),
        read_at=0.0,
        resources=resources,
        vpps=[Vpp("v0", "a", "ACTIVE", "SPOT"), Vpp("v1", "b", "ACTIVE", None)],
        member_rows=member_rows,
        members={k: [prepare_row(r) for r in v] for k, v in member_rows.items()},
        edges=[EdgeRow("t", "e0", "E0", True, None), EdgeRow("t", "e1", "E1", False, None)],
        dispatch=[],
    )
    for n, r in enumerate(resources):
        if r.edge_key is not None:
            cache.put(r.edge_key, r.device_id or "", "p_w", 1000.0 * n, now - 1000 * n)
    cache.set_edge("t/e0", online=True, sid=1, ts_ms=now)
    pieces = Pieces()

    def made(at: int, seq: int) -> bytes:
        whole = asyncio.run(assemble(rows, cache, at, at - stale_ms, seq))
        body = asyncio.run(encode_snapshot(rows, cache, at, at - stale_ms, seq, pieces))
        assert body == msgspec.json.encode(whole)
        return body

    made(now, 1)
    assert pieces.encoded == 9 + 2
    made(now + 1, 2)
    assert pieces.encoded == 11  # nothing changed but the time
    cache.put("t/e1", "d1", "p_w", 5.0, now)
    made(now + 2, 3)
    assert pieces.encoded == 11 + 3  # e1's three resources (no VPP has them)
    cache.put("t/e0", "d0", "soc_pct", 40.0, now)
    made(now + 3, 4)
    assert pieces.encoded == 14 + 3 + 1  # e0's and its VPP
    made(now + stale_ms - 3_500, 5)  # r4's, r6's and r7's values went stale (not r3's)
    assert pieces.encoded == 18 + 3 + 1
    assert all(x["p_kw"] is None for x in json.loads(made(now + 10 * stale_ms, 6))["resources"])


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
