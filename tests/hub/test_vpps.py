"""VPPs (seed 4.1.3): members, aggregated parameters from live state, conflicts."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import TradingRecord
from hub.vpps import PreparedMembers, member_rows, prepare_row, status_and_member_rows

from .conftest import AuthFor
from .helpers import make_battery, make_vpp, presets, set_status

URL = "/api/v1/vpp/vpps"


async def test_create_list_and_filter_vpps(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    vpp = await make_vpp(client, h, [a["id"]])
    assert vpp["resources"] == [{"resource_id": a["id"], "allocation_ratio": 1.0, "priority": 1}]
    assert vpp["total_capacity"] == 100.0 and vpp["status"] == "ACTIVE"
    await make_vpp(client, h, [], market="ANCILLARY")
    spot = (await client.get(URL, params={"market_type": "SPOT"}, headers=h)).json()
    assert [v["id"] for v in spot["items"]] == [vpp["id"]]
    assert (await client.get(URL, params={"status": "ACTIVE"}, headers=h)).json()["total"] == 2
    assert (await client.get(f"{URL}/{vpp['id']}", headers=h)).json()["name"] == "vpp"
    assert (await client.get(f"{URL}/missing", headers=h)).status_code == 404
    r = await client.post(
        URL,
        json={"name": "x", "description": "", "market_type": "SPOT", "resource_ids": ["nope"]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "resource_ids"
    r = await client.post(
        URL,
        json={
            "name": "x",
            "description": "",
            "market_type": "SPOT",
            "resource_ids": [a["id"], a["id"]],
        },
        headers=h,
    )
    assert r.status_code == 422
    r = await client.post(URL, json={"name": "x", "market_type": "FUTURES"}, headers=h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "market_type"


async def test_resources_are_added_updated_and_removed_in_one_request(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    b = await make_battery(client, h, device="b2")
    c = await make_battery(client, h, device="b3")
    vpp = await make_vpp(client, h, [a["id"], b["id"]])
    r = await client.put(
        f"{URL}/{vpp['id']}/resources",
        json={
            "add_resources": [{"resource_id": c["id"], "allocation_ratio": 0.5, "priority": 2}],
            "remove_resources": [a["id"]],
            "update_resources": [{"resource_id": b["id"], "allocation_ratio": 0.25}],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    members = {m["resource_id"]: m for m in r.json()["resources"]}
    assert set(members) == {b["id"], c["id"]}
    assert members[b["id"]]["allocation_ratio"] == 0.25 and members[b["id"]]["priority"] == 1
    assert members[c["id"]] == {"resource_id": c["id"], "allocation_ratio": 0.5, "priority": 2}
    assert r.json()["total_capacity"] == 75.0

    put = f"{URL}/{vpp['id']}/resources"
    r = await client.put(put, json={"add_resources": [{"resource_id": b["id"]}]}, headers=h)
    assert r.status_code == 409
    r = await client.put(put, json={"remove_resources": [a["id"]]}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "remove_resources"
    r = await client.put(
        put, json={"update_resources": [{"resource_id": a["id"], "priority": 3}]}, headers=h
    )
    assert r.status_code == 422
    r = await client.put(
        put, json={"add_resources": [{"resource_id": a["id"], "allocation_ratio": 1.5}]}, headers=h
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "add_resources[0].allocation_ratio"
    r = await client.put(f"{URL}/missing/resources", json={}, headers=h)
    assert r.status_code == 404
    r = await client.put(put, json={"remove_resources": [b["id"]]}, headers=auth("viewer"))
    assert r.status_code == 403


async def test_aggregated_params_follow_live_state(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    bess = await make_battery(client, h, device="bess-1", kw=100, kwh=200, response_time_s=0.5)
    r = await client.post(
        "/api/v1/vpp/resource-instances",
        json={
            "template_id": ids["hvac_chiller"],
            "name": "chiller",
            "capacity": 40,
            "efficiency": 0.9,
            "parameters": {"rated_kw": 40, "min_kw": 10},
            "edge_id": "park-a",
            "device_id": "chiller-1",
        },
        headers=h,
    )
    chiller = r.json()
    vpp = await make_vpp(client, h, [bess["id"], chiller["id"]])
    agg_url = f"{URL}/{vpp['id']}/aggregated-params"
    offline = (await client.get(agg_url, headers=h)).json()
    assert offline["total_capacity"] == 140.0
    assert offline["available_up_capacity"] == 0 and offline["available_down_capacity"] == 0

    await set_status(client, h, bess["id"], "ONLINE")
    await set_status(client, h, chiller["id"], "ONLINE")
    now = app.state.hub.clock.now_ms()
    cache = app.state.hub.cache
    cache.put("default/park-a", "bess-1", "p_w", 20_000.0, now)
    cache.put("default/park-a", "bess-1", "soc_pct", 50.0, now)
    cache.put("default/park-a", "chiller-1", "p_w", -30_000.0, now)
    agg = (await client.get(agg_url, headers=h)).json()
    # battery: up 100-20=80, down 20+100=120; chiller consumes 30 of 10..40: up 20, down 10
    assert agg["available_up_capacity"] == 100.0
    assert agg["available_down_capacity"] == 130.0
    assert agg["response_time"] == 60.0
    assert agg["current_power"] == -10.0
    assert 0.9 < agg["efficiency"] < 1.0

    cache.put("default/park-a", "bess-1", "soc_pct", 10.0, now + 1)  # at soc_min: no discharge
    agg = (await client.get(agg_url, headers=h)).json()
    assert agg["available_up_capacity"] == 20.0

    r = await client.put(
        f"{URL}/{vpp['id']}/resources",
        json={"update_resources": [{"resource_id": bess["id"], "allocation_ratio": 0.5}]},
        headers=h,
    )
    assert r.status_code == 200
    agg = (await client.get(agg_url, headers=h)).json()
    assert agg["total_capacity"] == 90.0
    assert (await client.get(f"{URL}/missing/aggregated-params", headers=h)).status_code == 404


async def test_conflicts_are_detected_with_suggestions(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1", kw=100, kwh=50)
    b = await make_battery(client, h, device="b2")
    vpp = await make_vpp(client, h, [a["id"], b["id"]], market="CAPACITY")
    other = await make_vpp(client, h, [a["id"]])
    await set_status(client, h, b["id"], "MAINTENANCE")
    await set_status(client, h, a["id"], "ONLINE")
    async with db() as session:
        for n, market in enumerate(("SPOT", "ANCILLARY")):
            session.add(
                TradingRecord(
                    id=f"rec-{n}",
                    vpp_id=vpp["id"],
                    market_type=market,
                    trading_date=dt.date(2026, 1, 1),
                    time_slot="10:00-10:15",
                    bid_quantity=150.0,
                    status="SUBMITTED",
                )
            )
        await session.commit()
    r = await client.get(f"{URL}/{vpp['id']}/conflicts", headers=auth("viewer"))
    assert r.status_code == 200
    kinds = {c["kind"]: c for c in r.json()["conflicts"]}
    assert kinds["over_allocation"]["resource_ids"] == [a["id"]]
    assert kinds["over_allocation"]["suggestion"]
    assert kinds["member_unavailable"]["resource_ids"] == [b["id"]]
    # 150 kWh in each of two markets over a 15-minute slot: 600 kW each
    assert "1200 kW committed" in kinds["double_commitment"]["message"]
    assert kinds["below_qualification"]["severity"] == "error"
    clean = (await client.get(f"{URL}/{other['id']}/conflicts", headers=h)).json()
    assert {c["kind"] for c in clean["conflicts"]} == {"over_allocation"}


async def test_a_conflict_report_is_kept_until_its_rows_change(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    """A second request reads nothing from the database; a member's new status or a
    membership change in another VPP shows in the very next report."""
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    b = await make_battery(client, h, device="b2")
    for inst in (a, b):
        await set_status(client, h, inst["id"], "ONLINE")
    vpp = await make_vpp(client, h, [a["id"], b["id"]])
    other = await make_vpp(client, h, [a["id"]])
    url = f"{URL}/{vpp['id']}/conflicts"

    async def kinds() -> set[str]:
        r = await client.get(url, headers=auth("viewer"))
        assert r.status_code == 200, r.text
        return {c["kind"] for c in r.json()["conflicts"]}

    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "vpp_" in statement:
            statements.append(statement)

    engine = app.state.hub.engine.sync_engine
    assert await kinds() == {"over_allocation"}
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await kinds() == {"over_allocation"}
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    await set_status(client, h, b["id"], "OFFLINE")
    assert await kinds() == {"over_allocation", "member_unavailable"}
    r = await client.put(
        f"{URL}/{other['id']}/resources", json={"remove_resources": [a["id"]]}, headers=h
    )
    assert r.status_code == 200, r.text
    assert await kinds() == {"member_unavailable"}


def test_kept_members_are_reused_only_for_rows_read_the_same() -> None:
    def row(rid: str, params: str | None = "{}") -> tuple[object, ...]:
        return (rid, "ONLINE", 100.0, None, params, "t", "e", rid, "STORAGE", 1.0, 1)

    kept = PreparedMembers(max_vpps=2)
    rows = [row("a", '{"max_discharge_kw": 50.0, "dispatchable": true}'), row("b", None)]
    first = kept.of("v1", rows)
    assert first[0].base.max_discharge_kw == 50.0 and first[0].base.dispatchable
    assert first[1] == prepare_row(row("b", None))
    # the same rows read again (new objects): the members kept are handed out again
    again = kept.of("v1", [row("a", '{"max_discharge_kw": 50.0, "dispatchable": true}'), rows[1]])
    assert again[0] is first[0] and again[1] is first[1]
    # a changed row is prepared again, the other kept
    changed = kept.of("v1", [row("a", '{"max_discharge_kw": 60.0, "dispatchable": 0}'), rows[1]])
    assert changed[0].base.max_discharge_kw == 60.0 and changed[1] is first[1]
    assert changed[0].base.dispatchable  # only ``false`` turns dispatch off
    off = kept.of("v1", [row("a", '{"max_discharge_kw": 60.0, "dispatchable": false}'), rows[1]])
    assert not off[0].base.dispatchable
    # bounded: the VPP read longest ago goes first
    kept.of("v2", [row("c")])
    kept.of("v3", [row("d")])
    assert kept.of("v1", rows)[1] is not first[1]


async def test_a_dispatch_reads_its_members_as_aggregation_does(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    """:func:`status_and_member_rows` (parameters as text) through :class:`PreparedMembers`
    gives the members :func:`member_rows` and :func:`prepare_row` give."""
    h = auth("operator")
    a = await make_battery(client, h, device="b1", max_discharge_kw=40, soc_min_pct=12.5)
    b = await make_battery(client, h, device="b2", kw=50)
    vpp = await make_vpp(client, h, [a["id"], b["id"]])
    kept = PreparedMembers()
    async with db() as session:
        status, rows = await status_and_member_rows(session, vpp["id"])
        want = [prepare_row(r) for r in await member_rows(session, vpp["id"])]
    assert status == "ACTIVE"
    assert kept.of(vpp["id"], rows) == want
    first = {m.base.resource_id: m.base for m in want}[a["id"]]
    assert first.max_discharge_kw == 40.0 and first.soc_min_pct == 12.5
    again = kept.of(vpp["id"], [tuple(r) for r in rows])
    assert again == want and all(
        x is y for x, y in zip(again, kept.of(vpp["id"], rows), strict=True)
    )
