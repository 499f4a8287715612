"""The GET response cache and the read memo: a write is seen by the next read, whoever
made it in this process (an API write, another engine, raw SQL, an open transaction
committed later); a response made for one role is never served to another."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import (
    GENERATIONS,
    Memo,
    Vpp,
    read_tables,
    recording,
    remembered,
    written_tables,
)
from hub.store._versions import REFRESH_AFTER
from tests.support import SAFETY_TIMEOUT

from .conftest import AuthFor
from .helpers import make_battery, make_vpp

URL = "/api/v1/vpp/vpps"


def test_written_tables_are_read_off_the_statement() -> None:
    assert written_tables('INSERT INTO "vpps" (id) VALUES ($1)') == ("vpps",)
    assert written_tables("INSERT OR REPLACE INTO users (id) VALUES (?)") == ("users",)
    assert written_tables("DELETE FROM vpp_resource_mappings WHERE x = ?") == (
        "vpp_resource_mappings",
    )
    assert written_tables("UPDATE vpps SET name=$1 WHERE vpps.id = $2") == ("vpps",)
    heartbeat = "UPDATE vpp_resource_instances SET last_heartbeat=$1::TIMESTAMP WITH TIME ZONE "
    assert written_tables(heartbeat + "WHERE x = $2") == ("vpp_resource_instances.last_heartbeat",)
    orm = "UPDATE vpp_resource_instances SET last_heartbeat=$1, updated_at=$2 WHERE x = $3"
    assert written_tables(orm) == (
        "vpp_resource_instances.last_heartbeat",
        "vpp_resource_instances.updated_at",
    )
    both = "UPDATE vpp_resource_instances SET last_heartbeat=?, status=? WHERE x = ?"
    assert written_tables(both) == ("vpp_resource_instances",)
    joined = (  # the ingest's set-based heartbeat (PostgreSQL): the join is no SET column
        "UPDATE vpp_resource_instances SET last_heartbeat = v.ts, updated_at = $5 FROM "
        "(SELECT ri.id, u.ts FROM vpp_resource_instances AS ri JOIN unnest($1) AS u(t) "
        "ON ri.edge_tenant = u.t WHERE ri.status = 'x' FOR UPDATE OF ri) AS v WHERE v.id = 1"
    )
    assert written_tables(joined) == (
        "vpp_resource_instances.last_heartbeat",
        "vpp_resource_instances.updated_at",
    )
    nested = "UPDATE vpp_resource_instances SET last_heartbeat=(SELECT 1 FROM t), status=?"
    assert written_tables(nested) == ("vpp_resource_instances",)
    assert written_tables("SELECT * FROM vpps FOR UPDATE") == ()
    assert written_tables("  select 1") == ()
    assert written_tables("WITH a AS (SELECT 1) SELECT * FROM a") == ()
    assert written_tables("WITH a AS (DELETE FROM vpps RETURNING id) SELECT * FROM a") == ("vpps",)
    plan = (  # a dispatch's writes on PostgreSQL (hub.dispatch._pg): every part's table
        "WITH i AS (INSERT INTO dispatch_instructions (id) SELECT u.id FROM unnest($1) AS u(id)"
        "), a AS (INSERT INTO audit_log (ts) VALUES ($2)) SELECT edges.id FROM edges "
        "ORDER BY edges.id FOR UPDATE OF edges"
    )
    assert written_tables(plan) == ("audit_log", "dispatch_instructions")
    finish = (
        "WITH m AS (UPDATE x SET a = 1), v AS (UPDATE edges SET b = 2) INSERT INTO y VALUES (1)"
    )
    assert written_tables(finish) == ("edges", "x", "y")
    upsert = "WITH a AS (INSERT INTO x VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 1) SELECT 1"
    assert written_tables(upsert) == ("x",)
    assert written_tables("WITH a AS (SELECT 1) MERGE INTO x USING a ON true") == ("*",)
    assert written_tables("TRUNCATE vpps, users CASCADE") == ("*",)
    assert written_tables("CREATE TABLE x (id int)") == ("*",)
    assert read_tables("SELECT a.x FROM vpps AS a JOIN users ON a.y = users.z") == {
        "vpps",
        "users",
    }


def test_a_memo_entry_is_dropped_when_one_of_its_tables_is_written() -> None:
    memo: Memo[str, int] = Memo(ttl_s=60)
    at = memo.now()
    memo.put("k", ["vpps"], at, 1, volatile=False)
    assert memo.get("k") == 1
    GENERATIONS.bump(["users"])
    assert memo.get("k") == 1
    GENERATIONS.bump(["vpps"])
    assert memo.get("k") is None
    at = memo.now()
    memo.put("k", ["vpp_resource_instances"], at, 2, volatile=False)
    GENERATIONS.bump(["vpp_resource_instances.last_heartbeat"])
    assert memo.get("k") == 2  # this reader shows no heartbeat
    memo.put("k", ["vpp_resource_instances"], at, 3)
    assert memo.get("k") is None  # read before the heartbeat: stale
    memo.put("k", ["vpps"], memo.now(), 4)
    GENERATIONS.bump(["*"])
    assert memo.get("k") is None
    assert Memo[str, int](ttl_s=0).enabled is False
    small: Memo[str, int] = Memo(ttl_s=60, max_bytes=100)
    small.put("a", ["vpps"], small.now(), 1, size=60)
    small.put("b", ["vpps"], small.now(), 2, size=60)  # over the budget: emptied first
    assert small.get("a") is None
    assert small.get("b") == 2


async def test_without_renewals_a_due_value_is_read_again_by_one_caller_in_line(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A memo that renews nothing in the background (no sessions of its own, or outside
    :meth:`Memo.renewing`): past half its ttl one caller reads the value again; concurrent
    callers are served the kept value meanwhile; a write still wins at once."""
    memo: Memo[str, int] = Memo(ttl_s=2.0)
    memo.put("k", ["vpps"], memo.now(), 1, volatile=False)
    memo.put("w", ["vpps"], memo.now(), 1, volatile=False)
    release = asyncio.Event()
    reads = 0

    async def read(_session: AsyncSession) -> int:
        nonlocal reads
        reads += 1
        await release.wait()
        return 2

    async with db() as session:
        assert await remembered(memo, "k", read, session) == 1  # fresh: no read
        await asyncio.sleep(2.0 * REFRESH_AFTER + 0.05)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            renewing = asyncio.create_task(remembered(memo, "k", read, session))
            await asyncio.sleep(0)
            served = [await remembered(memo, "k", read, session) for _ in range(5)]
            assert served == [1] * 5 and reads == 1  # the others did not wait for the read
            release.set()
            assert await renewing == 2
    assert memo.get("k") == 2 and reads == 1 and memo.renewals == 0
    assert memo.get("w") is None  # claimed for renewal ...
    assert memo.get("w") == 1
    GENERATIONS.bump(["vpps"])
    assert memo.get("w") is None  # ... and a write still makes it stale for everyone


class _Reads:
    """A read for :func:`remembered` that counts its calls, remembers the sessions it was
    given, returns 1, 2, 3 ... and waits for ``release`` (set: no wait) or raises
    ``fail`` when told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.sessions: list[AsyncSession] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail: Exception | None = None

    async def __call__(self, session: AsyncSession) -> int:
        self.calls += 1
        self.sessions.append(session)
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        await session.execute(text("SELECT 1 FROM vpps LIMIT 1"))
        return self.calls


async def _past_refresh(memo: Memo[str, int]) -> None:
    await asyncio.sleep(memo.ttl_s * REFRESH_AFTER + 0.05)


async def test_a_caller_during_a_due_renewal_gets_the_kept_value_without_waiting(
    db: async_sessionmaker[AsyncSession],
) -> None:
    memo: Memo[str, int] = Memo(ttl_s=1.0, sessions=db)
    read = _Reads()
    async with db() as session, memo.renewing(), asyncio.timeout(SAFETY_TIMEOUT):
        assert await remembered(memo, "k", read, session) == 1  # a miss: read in line
        assert read.sessions == [session]
        await _past_refresh(memo)
        read.release.clear()  # the renewal's read hangs until released
        served = [await remembered(memo, "k", read, session) for _ in range(5)]
        assert served == [1] * 5  # no caller waited, the one that found it due included
        await asyncio.sleep(0.01)
        assert read.calls == 2 and memo.renewals == 1  # one renewal for all of them
        assert read.sessions[1] is not session  # on a session of the memo's own
        read.release.set()
        await _renewed(memo, "k")
        assert await remembered(memo, "k", read, session) == 2
        assert read.calls == 2 and memo.renew_failures == 0


async def _renewed(memo: Memo[str, int], key: str) -> None:
    while key in memo.building:  # noqa: ASYNC110 - the renewal task sets no event of ours
        await asyncio.sleep(0.005)


async def test_a_write_makes_a_value_being_renewed_stale_at_once(
    db: async_sessionmaker[AsyncSession],
) -> None:
    memo: Memo[str, int] = Memo(ttl_s=1.0, sessions=db)
    read = _Reads()
    async with db() as session, memo.renewing(), asyncio.timeout(SAFETY_TIMEOUT):
        assert await remembered(memo, "k", read, session) == 1
        await _past_refresh(memo)
        read.release.clear()
        assert await remembered(memo, "k", read, session) == 1  # renewal started
        await asyncio.sleep(0.01)
        assert read.calls == 2
        GENERATIONS.bump(["vpps"])  # a write while the renewal reads
        assert memo.get("k") is None  # never served past a write
        waiting = asyncio.create_task(remembered(memo, "k", read, session))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # it waits for the read under way, then checks again
        read.release.set()
        # the renewal read before the write: stale; the waiter reads again itself
        assert await waiting == 3
        assert read.calls == 3
        assert await remembered(memo, "k", read, session) == 3


async def test_a_failing_renewal_ends_nothing_and_the_next_caller_reads_again(
    db: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    memo: Memo[str, int] = Memo(ttl_s=1.0, sessions=db)
    read = _Reads()
    async with db() as session, memo.renewing(), asyncio.timeout(SAFETY_TIMEOUT):
        assert await remembered(memo, "k", read, session) == 1
        await _past_refresh(memo)
        read.fail = RuntimeError("database went away")
        with caplog.at_level(logging.WARNING, logger="hub.store._versions"):
            assert await remembered(memo, "k", read, session) == 1  # served, renewal starts
            await _renewed(memo, "k")
        assert memo.renew_failures == 1
        assert "renewing 'k' failed" in caplog.text and "database went away" in caplog.text
        assert memo.get("k") is None  # dropped: not served on as if renewed
        read.fail = None
        assert await remembered(memo, "k", read, session) == 3  # read again, in line
        assert read.sessions[-1] is session
        assert memo.get("k") == 3


async def test_a_value_expires_ttl_after_its_read_began_not_after_it_was_kept() -> None:
    """What another replica wrote is seen within ``ttl_s`` however long a read took (a
    renewal keeps its value from when its read began)."""
    memo: Memo[str, int] = Memo(ttl_s=0.4)
    memo.put("k", ["vpps"], memo.now(), 1, since=time.monotonic() - 0.15)
    memo.put("j", ["vpps"], memo.now(), 1)
    assert memo.get("k") == 1
    await asyncio.sleep(0.3)  # past k's expiry, not past j's; both due for renewal
    assert memo.get("j") is None and memo.get("j") == 1  # claimed, then still served
    assert memo.get("k") is None and memo.get("k") is None  # expired


async def test_renewals_under_way_are_cancelled_when_the_memo_stops_renewing(
    db: async_sessionmaker[AsyncSession],
) -> None:
    memo: Memo[str, int] = Memo(ttl_s=1.0, sessions=db)
    read = _Reads()
    async with db() as session, asyncio.timeout(SAFETY_TIMEOUT):
        async with memo.renewing():
            assert await remembered(memo, "k", read, session) == 1
            await _past_refresh(memo)
            read.release.clear()  # never released
            assert await remembered(memo, "k", read, session) == 1
            await asyncio.sleep(0.01)
            (task,) = memo._renewing.values()
        assert task.cancelled() and not memo._renewing and not memo.building
        assert memo.get("k") is None  # not renewed
        # stopped: a due value is read again in line by the caller that finds it due
        read.release.set()
        assert await remembered(memo, "k", read, session) == 3
        await _past_refresh(memo)
        assert await remembered(memo, "k", read, session) == 4
        assert memo.renewals == 1


async def test_recording_names_the_tables_a_query_read(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session:
        with recording() as tables:
            await session.execute(text("SELECT count(*) FROM vpps"))
    assert "vpps" in tables


async def test_a_write_that_changed_no_row_invalidates_nothing(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session:
        before = GENERATIONS.of(("vpps",))
        await session.execute(update(Vpp).where(Vpp.id == "none").values(name="x"))
        await session.commit()
        assert GENERATIONS.of(("vpps",)) == before
        await session.execute(text("DELETE FROM vpps WHERE id = 'none' RETURNING id"))
        await session.commit()
        assert GENERATIONS.of(("vpps",)) != before  # RETURNING: counted only as fetched


async def test_a_write_is_seen_by_the_next_read_whoever_made_it(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    vpp = await make_vpp(client, h, [a["id"]])
    first = await client.get(URL, headers=h)
    assert [v["id"] for v in first.json()["items"]] == [vpp["id"]]
    again = await client.get(URL, headers=h)
    assert again.content == first.content
    memo = _response_memo(client.app)
    assert memo.hits >= 1

    # a write through the API
    other = await make_vpp(client, h, [])
    assert {v["id"] for v in (await client.get(URL, headers=h)).json()["items"]} == {
        vpp["id"],
        other["id"],
    }
    # through another engine, with the ORM's Core update
    async with db() as session:
        await session.execute(update(Vpp).where(Vpp.id == vpp["id"]).values(name="renamed"))
        await session.commit()
    names = {v["name"] for v in (await client.get(URL, headers=h)).json()["items"]}
    assert "renamed" in names
    # raw SQL, in a transaction that is open while the hub reads (and keeps what it read)
    async with db() as session:
        await session.execute(
            text("UPDATE vpps SET name = 'raw' WHERE id = :id"), {"id": vpp["id"]}
        )
        during = {v["name"] for v in (await client.get(URL, headers=h)).json()["items"]}
        assert "raw" not in during
        await session.commit()
    after = {v["name"] for v in (await client.get(URL, headers=h)).json()["items"]}
    assert "raw" in after
    one = await client.get(f"{URL}/{vpp['id']}", headers=h)
    assert one.json()["name"] == "raw"


async def test_a_response_kept_for_one_role_is_not_served_to_another(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    admin = await client.get("/api/v1/users", headers=auth("admin"))
    assert admin.status_code == 200
    assert (await client.get("/api/v1/users", headers=auth("admin"))).status_code == 200
    denied = await client.get("/api/v1/users", headers=auth("viewer"))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


async def test_a_disabled_user_is_refused_even_for_a_kept_response(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("viewer")
    assert (await client.get(URL, headers=h)).status_code == 200
    r = await client.patch(
        "/api/v1/users/viewer-id", json={"disabled": True}, headers=auth("admin")
    )
    assert r.status_code == 200
    assert (await client.get(URL, headers=h)).status_code == 401


async def test_a_kept_response_due_for_renewal_is_served_and_made_again_in_the_background(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    vpp = await make_vpp(client, h, [a["id"]])
    memo = _response_memo(client.app)
    first = await client.get(URL, headers=h)
    await asyncio.sleep(memo.ttl_s * REFRESH_AFTER + 0.05)
    renewals = memo.renewals
    due = await client.get(URL, headers=h)
    assert due.content == first.content  # the kept response, not made by this request
    assert memo.renewals == renewals + 1
    async with asyncio.timeout(SAFETY_TIMEOUT):
        while memo.building:  # noqa: ASYNC110 - the renewal task sets no event of ours
            await asyncio.sleep(0.005)
    assert memo.renew_failures == 0
    hits = memo.hits
    again = await client.get(URL, headers=h)
    assert again.content == first.content and memo.hits == hits + 1  # the renewed one
    # a write is seen by the next read, renewed or not
    other = await make_vpp(client, h, [])
    listed = {v["id"] for v in (await client.get(URL, headers=h)).json()["items"]}
    assert listed == {vpp["id"], other["id"]}


def _response_memo(app: Litestar) -> Memo[object, object]:
    memo = app.state.responses
    assert isinstance(memo, Memo)
    return memo
