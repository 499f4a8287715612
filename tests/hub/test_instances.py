"""Resource instances (seed 4.1.2): validation against the template, status, live data."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import Telemetry

from .conftest import AuthFor
from .helpers import make_battery, presets, set_status

URL = "/api/v1/vpp/resource-instances"


async def test_create_fills_defaults_and_checks_the_parameter_schema(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    body = {
        "template_id": ids["battery_storage"],
        "name": "BESS 1",
        "device_ip": "10.0.0.5",
        "device_port": 502,
        "location_info": {"lat": 36.6, "lon": 117.0, "building": "B3"},
        "capacity": 250,
        "parameters": {"rated_kw": 250, "rated_kwh": 500},
    }
    r = await client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "OFFLINE"
    assert created["parameters"]["soc_max_pct"] == 90.0
    assert created["location_info"]["building"] == "B3"

    missing = body | {"parameters": {"rated_kw": 250}}
    r = await client.post(URL, json=missing, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "parameters.rated_kwh"

    out_of_range = body | {"parameters": {"rated_kw": 250, "rated_kwh": 1, "soc_min_pct": 120}}
    r = await client.post(URL, json=out_of_range, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "parameters.soc_min_pct"

    unknown = body | {"parameters": {"rated_kw": 1, "rated_kwh": 1, "colour": "red"}}
    assert (await client.post(URL, json=unknown, headers=h)).status_code == 422

    wrong_type = body | {"parameters": {"rated_kw": "big", "rated_kwh": 1}}
    assert (await client.post(URL, json=wrong_type, headers=h)).status_code == 422

    bad_ip = body | {"device_ip": "999.1.1.1"}
    r = await client.post(URL, json=bad_ip, headers=h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "device_ip"

    no_template = body | {"template_id": "nope"}
    r = await client.post(URL, json=no_template, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "template_id"

    half_binding = body | {"edge_id": "park-a"}
    assert (await client.post(URL, json=half_binding, headers=h)).status_code == 422


async def test_a_device_is_bound_to_one_instance_only(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    await make_battery(client, h, device="bess-1")
    ids = await presets(client, h)
    r = await client.post(
        URL,
        json={
            "template_id": ids["battery_storage"],
            "name": "again",
            "capacity": 1,
            "parameters": {"rated_kw": 1, "rated_kwh": 1},
            "edge_id": "park-a",
            "device_id": "bess-1",
        },
        headers=h,
    )
    assert r.status_code == 409


async def test_status_change_with_reason_is_filtered_and_audited(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    a = await make_battery(client, h, device="b1")
    b = await make_battery(client, h, device="b2")
    r = await client.put(
        f"{URL}/{a['id']}/status",
        json={"status": "MAINTENANCE", "reason": "inverter swap"},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "MAINTENANCE" and r.json()["status_reason"] == "inverter swap"
    listed = (await client.get(URL, params={"status": "MAINTENANCE"}, headers=h)).json()
    assert [i["id"] for i in listed["items"]] == [a["id"]]
    listed = (await client.get(URL, params={"template_id": b["template_id"]}, headers=h)).json()
    assert listed["total"] == 2
    r = await client.put(f"{URL}/{a['id']}/status", json={"status": "BROKEN"}, headers=h)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"
    r = await client.put(f"{URL}/missing/status", json={"status": "ONLINE"}, headers=h)
    assert r.status_code == 404
    audit = await client.get(
        "/api/v1/audit-log", params={"entity_id": a["id"]}, headers=auth("admin")
    )
    entries = audit.json()["items"]
    status_entry = next(e for e in entries if e["action"] == "status")
    assert status_entry["before"]["status"] == "OFFLINE"
    assert status_entry["after"]["status"] == "MAINTENANCE"
    assert status_entry["actor"] == "operator-user"


async def test_realtime_data_comes_from_the_live_cache(
    app: Litestar, client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("viewer")
    inst = await make_battery(client, auth("operator"))
    r = await client.get(f"{URL}/{inst['id']}/realtime-data", headers=h)
    assert r.status_code == 404
    cache = app.state.hub.cache
    ts = 1_767_225_600_000
    cache.put("default/park-a", "bess-1", "p_w", -50_000.0, ts)
    cache.put("default/park-a", "bess-1", "soc_pct", 42.5, ts)
    cache.put("default/park-a", "bess-1", "e_wh", 1_234_000, ts + 1000)
    cache.put("default/park-a", "bess-1", "temp_c", 31.0, ts)
    cache.put("default/park-a", "bess-1", "mode", "auto", ts)
    r = await client.get(f"{URL}/{inst['id']}/realtime-data", headers=h)
    assert r.status_code == 200
    data = r.json()
    assert data["power"] == -50.0 and data["soc"] == 42.5 and data["energy"] == 1234.0
    assert data["temperature"] == 31.0
    assert data["timestamp"].startswith("2026-01-01T00:00:01")
    assert (await client.get(f"{URL}/missing/realtime-data", headers=h)).status_code == 404


async def test_realtime_data_falls_back_to_stored_telemetry_and_history_downsamples(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("viewer")
    inst = await make_battery(client, auth("operator"))
    base = 1_767_225_600_000
    rows = [
        {
            "tenant": "default",
            "edge_id": "park-a",
            "sid": 1,
            "seq": i,
            "idx": 0,
            "device_id": "bess-1",
            "name": "p_w",
            "ts_ms": base + i * 10_000,
            "value": float(i * 1000),
            "quality": "good",
        }
        for i in range(12)
    ]
    async with db() as session:
        await session.execute(insert(Telemetry), rows)
        await session.commit()
    r = await client.get(f"{URL}/{inst['id']}/realtime-data", headers=h)
    assert r.status_code == 200 and r.json()["power"] == 11.0
    start = dt.datetime.fromtimestamp(base / 1000, dt.UTC)
    r = await client.get(
        f"{URL}/{inst['id']}/history",
        params={
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=2)).isoformat(),
            "step": 60,
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert [p["count"] for p in points] == [6, 6]
    assert points[0]["value"] == 2500.0 and points[0]["min"] == 0 and points[0]["max"] == 5000
    assert points[1]["value"] == 8500.0
    r = await client.get(
        f"{URL}/{inst['id']}/history",
        params={"start": start.isoformat(), "end": start.isoformat()},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end"


async def test_instance_lists_page_and_unknown_ids_are_404(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    for n in range(3):
        await make_battery(client, h, name=f"b{n}", device=f"d{n}")
    page = (await client.get(URL, params={"size": 2, "page": 2}, headers=h)).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert (await client.get(f"{URL}/nope", headers=h)).status_code == 404
    one = page["items"][0]
    await set_status(client, h, one["id"], "ONLINE")
    got = (await client.get(URL, params={"status": "ONLINE"}, headers=h)).json()
    assert [i["id"] for i in got["items"]] == [one["id"]]
    assert (await client.get(URL, params={"size": 0}, headers=h)).status_code == 400


async def test_an_id_with_a_trailing_newline_is_refused_naming_the_field(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("operator")
    ids = await presets(client, h)
    r = await client.post(
        URL,
        json={
            "template_id": ids["battery_storage"],
            "name": "b",
            "capacity": 100,
            "parameters": {"rated_kw": 100, "rated_kwh": 200},
            "edge_id": "park-a\n",
            "device_id": "d1",
        },
        headers=h,
    )
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["edge_id"]
    edge = await client.post(
        "/api/v1/edges", json={"id": "park-a\n", "name": "a"}, headers=auth("admin")
    )
    assert edge.status_code == 400 and edge.json()["errors"][0]["field"] == "id"


async def test_a_create_asks_the_same_of_the_database_however_many_instances_exist(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    """Statements and connections per create (the hub's own counters): no work that
    grows with the fleet (issue 15: the write's p99 grew with the number of instances),
    and the template read only when its kept copy is missing or due (``ctx.reads``)."""
    h = auth("operator")
    template = (await presets(client, h))["battery_storage"]
    registry = client.app.state.hub.metrics.registry
    labels = {"route": URL}

    state = client.app.state
    kept = state.hub.reads

    def user_reads() -> int:
        cache = getattr(state, "auth_cache", None)
        return 0 if cache is None else int(cache.reads)

    async def create(n: int) -> tuple[float, float, int]:
        statements = registry.get_sample_value("hub_db_statements_total", labels) or 0.0
        checkouts = registry.get_sample_value("hub_db_checkouts_total", labels) or 0.0
        reads = user_reads()
        misses = kept.misses
        body = {"template_id": template, "name": f"b{n}", "capacity": 10}
        r = await client.post(URL, json=body, headers=h)
        assert r.status_code == 201, r.text
        # a request now and then also reads its caller's user again (the principal
        # cache's refresh, hub.auth: one statement on a connection of its own), counted
        # with the route's work however slow the machine: taken out here
        again = user_reads() - reads
        return (
            registry.get_sample_value("hub_db_statements_total", labels) - statements - again,
            registry.get_sample_value("hub_db_checkouts_total", labels) - checkouts - again,
            kept.misses - misses,  # the template read again (kept reads miss only there)
        )

    first = [await create(n) for n in range(3)]
    for n in range(3, 28):
        await create(n)
    last = [await create(n) for n in range(28, 31)]
    # the instance and its audit entry, the template when it was read again, on one
    # connection: on PostgreSQL one data-modifying WITH in autocommit (its own
    # transaction: no BEGIN and COMMIT either), on SQLite two inserts in a transaction
    writes = 1.0 if state.hub.engine.dialect.name == "postgresql" else 2.0
    for statements, checkouts, template_reads in first + last:
        assert (statements, checkouts) == (writes + template_reads, 1.0)
    assert first[0][2] == 1  # nothing kept it before (served kept after: the next test)
    # each audited as its caller (who is no longer a dependency of the route)
    r = await client.get(
        "/api/v1/audit-log",
        params={"entity": "resource_instance", "size": 100},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    entries = [e for e in r.json()["items"] if e["action"] == "create"]
    assert len(entries) == 31
    assert {(e["actor"], e["role"]) for e in entries} == {("operator-user", "operator")}


async def test_a_create_is_audited_with_the_row_it_stored(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    """The instance and its audit entry are two Core inserts: the entry still holds every
    column of the stored row, as the ORM's ``row_dict`` wrote it."""
    h = auth("operator")
    created = await make_battery(client, h, device="bess-9")
    stored = (await client.get(f"{URL}/{created['id']}", headers=h)).json()
    assert stored == created
    r = await client.get(
        "/api/v1/audit-log", params={"entity_id": created["id"]}, headers=auth("admin")
    )
    (entry,) = r.json()["items"]
    assert (entry["action"], entry["entity"], entry["actor"], entry["role"]) == (
        "create",
        "resource_instance",
        "operator-user",
        "operator",
    )
    assert entry["before"] is None
    after = entry["after"]
    assert set(after) == set(created)
    for key in ("created_at", "updated_at"):
        assert dt.datetime.fromisoformat(after.pop(key)) == dt.datetime.fromisoformat(
            created.pop(key)
        )
    assert after == created


async def test_a_create_is_seen_at_once_by_kept_lists_of_instances_and_audit_entries(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    """A create writes both tables in one statement on PostgreSQL: the generations of
    both move (hub.store written_tables reads a WITH's parts), so neither kept response
    is served again."""
    h, admin = auth("operator"), auth("admin")
    responses = client.app.state.responses
    responses.ttl_s = 60.0  # kept until a write, however slow the machine
    first = await make_battery(client, h, device="bess-1")
    audit_url = "/api/v1/audit-log"
    query = {"entity": "resource_instance"}
    listed = await client.get(URL, headers=h)
    entries = await client.get(audit_url, params=query, headers=admin)
    hits = responses.hits
    assert (await client.get(URL, headers=h)).content == listed.content
    assert (await client.get(audit_url, params=query, headers=admin)).content == entries.content
    assert responses.hits - hits == 2  # both kept
    second = await make_battery(client, h, device="bess-2")
    ids = {i["id"] for i in (await client.get(URL, headers=h)).json()["items"]}
    assert ids == {first["id"], second["id"]}
    audited = (await client.get(audit_url, params=query, headers=admin)).json()["items"]
    assert {e["entity_id"] for e in audited} == {first["id"], second["id"]}


async def _write_as_another_replica(url: str, sql: str) -> None:
    """``sql`` committed on a connection this process's engines do not see (no table
    generation moves: what another hub replica's write looks like to this one)."""
    if url.startswith("postgresql"):
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
        return
    import sqlite3

    db = sqlite3.connect(url.split("///", 1)[1])
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()


async def test_a_kept_template_another_replica_deleted_is_refused_as_missing(
    client: AsyncTestClient[Litestar], auth: AuthFor, clean_db: str
) -> None:
    """The template is a kept read (trusted for up to response_cache_s while another
    replica writes it): one deleted meanwhile fails the insert's foreign key, and the
    caller is told it is missing (422), not that a device is bound twice (409)."""
    h = auth("operator")
    kept = client.app.state.hub.reads
    kept.ttl_s = 60.0  # no refresh ahead on a slow machine: the kept copy is served
    r = await client.post(
        "/api/v1/vpp/resource-templates",
        json={
            "name": "Flywheel",
            "type": "flywheel",
            "category": "STORAGE",
            "parameters": {"rated_kw": {"type": "number", "required": True}},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    template = r.json()["id"]
    body = {"template_id": template, "name": "fw", "capacity": 5}
    wrong = body | {"parameters": {"spin": 1}}
    r = await client.post(URL, json=wrong, headers=h)  # refused, the template kept
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parameters.spin"
    await _write_as_another_replica(
        clean_db, f"DELETE FROM vpp_resource_templates WHERE id = '{template}'"
    )
    for served_kept in (1, 0):  # the kept copy (the foreign key), then a read finding none
        hits = kept.hits
        r = await client.post(URL, json=body, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "template_id"
        assert kept.hits - hits == served_kept
    listed = await client.get(URL, params={"template_id": template}, headers=h)
    assert listed.json()["total"] == 0
