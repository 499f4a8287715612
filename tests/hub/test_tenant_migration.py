"""Migration 0014 (tenant-qualified edges) on a database with rows, SQLite and PostgreSQL:
every row survives under its edge's tenant, rows of an edge without an ``edges`` row go
to ``VPP_HUB_TENANT``, and afterwards a second tenant's ``park-a`` is a row of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store import create_engine, downgrade, migrate
from tests.conftest import create_pg_database, drop_pg_database

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
KEYED = (
    "devices", "telemetry", "telemetry_rollups", "ingest_cursors", "ingest_ahead",
    "ingest_gaps", "dispatch_status_events",
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """A database of its own, not migrated."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
        return
    name, url = await create_pg_database("vpp_mig")
    try:
        yield url
    finally:
        await drop_pg_database(name)


async def _tables(conn: AsyncConnection) -> dict[str, Table]:
    meta = MetaData()
    await conn.run_sync(meta.reflect)
    return dict(meta.tables)


def _point(edge: str, seq: int, value: float) -> dict[str, Any]:
    return {"edge_id": edge, "sid": 1, "seq": seq, "idx": 0, "device_id": "bess-1",
            "name": "p_w", "ts_ms": seq * 1000, "value": value, "quality": "good"}  # fmt: skip


async def _fill(conn: AsyncConnection) -> None:
    """Rows as a hub before 0014 wrote them: ``park-a`` of acme, and ``ghost`` (telemetry
    and a binding, but never a state or birth, so no ``edges`` row)."""
    t = await _tables(conn)
    await conn.execute(insert(t["edges"]), [{
        "id": "park-a", "tenant": "acme", "name": "A", "mqtt_username": "edge-park-a",
        "mqtt_password_hash": "h", "online": True, "sid": 1, "schedule_version": 3,
        "schedule_digest": "d",
    }])  # fmt: skip
    device = {"edge_id": "park-a", "device_id": "bess-1", "kind": "battery", "protocol": "m"}
    await conn.execute(insert(t["devices"]), [device])
    await conn.execute(
        insert(t["telemetry"]),
        [_point("park-a", 1, 10.0), _point("park-a", 2, 20.0), _point("ghost", 1, 99.0)],
    )
    await conn.execute(insert(t["telemetry_rollups"]), [{
        "edge_id": "park-a", "device_id": "bess-1", "name": "p_w", "width_s": 60,
        "bucket_ms": 0, "count": 2, "mean": 15.0, "min": 10.0, "max": 20.0,
    }])  # fmt: skip
    await conn.execute(insert(t["ingest_cursors"]), [
        {"edge_id": "park-a", "sid": 1, "acked_seq": 2},
        {"edge_id": "ghost", "sid": 1, "acked_seq": 1},
    ])  # fmt: skip
    await conn.execute(insert(t["ingest_ahead"]), [{"edge_id": "park-a", "sid": 1, "seq": 5}])
    await conn.execute(insert(t["ingest_gaps"]), [{"edge_id": "park-a", "sid": 1,
        "first_seq": 3, "last_seq": 4, "detected_at": NOW}])  # fmt: skip
    await conn.execute(insert(t["dispatch_status_events"]), [{
        "edge_id": "park-a", "sid": 1, "seq": 3, "ts_ms": 1, "schedule_id": "s", "version": 1,
        "status": "executing", "reason": "", "instruction_id": "i-child",
    }])  # fmt: skip
    await conn.execute(insert(t["vpp_resource_templates"]), [{
        "id": "tpl", "name": "battery", "type": "battery_storage", "version": "1.0",
        "status": "ACTIVE", "created_at": NOW, "updated_at": NOW,
    }])  # fmt: skip
    await conn.execute(insert(t["vpp_resource_instances"]), [
        {"id": f"i-{edge or 'none'}", "template_id": "tpl", "name": f"b-{edge}",
         "status": "ONLINE", "edge_id": edge, "device_id": edge and "bess-1",
         "created_at": NOW, "updated_at": NOW}
        for edge in ("park-a", "ghost", None)
    ])  # fmt: skip
    await conn.execute(insert(t["vpps"]), [{"id": "vpp", "name": "v", "status": "ACTIVE",
                                            "created_at": NOW, "updated_at": NOW}])  # fmt: skip
    common = {"vpp_id": "vpp", "target_power": 5.0, "requested_power": 5.0, "start_time": NOW,
              "end_time": NOW + dt.timedelta(hours=1), "created_at": NOW}  # fmt: skip
    await conn.execute(insert(t["dispatch_instructions"]), [
        {"id": "i-parent", "parent_id": None, "resource_id": None, "edge_id": None,
         "device_id": None, **common},
        {"id": "i-child", "parent_id": "i-parent", "resource_id": "i-park-a",
         "edge_id": "park-a", "device_id": "bess-1", **common},
    ])  # fmt: skip
    await conn.execute(insert(t["dispatch_outbox"]), [{"edge_id": "park-a", "tenant": "acme",
        "version": 3, "payload": b"{}", "created_at": NOW}])  # fmt: skip


async def _column(conn: AsyncConnection, table: Table, *columns: str) -> list[tuple[Any, ...]]:
    query = select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in columns))
    return [tuple(row) for row in (await conn.execute(query)).all()]


async def test_the_upgrade_keeps_every_row_under_its_edges_tenant(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPP_HUB_TENANT", "site")
    engine = create_engine(empty_url)
    try:
        await migrate(engine, "0011b")
        async with engine.begin() as conn:
            await _fill(conn)
        await migrate(engine)
        async with engine.begin() as conn:
            t = await _tables(conn)
            assert await _column(conn, t["telemetry"], "tenant", "edge_id", "seq", "value") == [
                ("acme", "park-a", 1, 10.0), ("acme", "park-a", 2, 20.0),
                ("site", "ghost", 1, 99.0),
            ]  # fmt: skip
            for name in KEYED:
                tenants = await _column(conn, t[name], "tenant", "edge_id")
                assert tenants and {tenant for tenant, edge in tenants if edge == "park-a"} == {
                    "acme"
                }, name
            assert await _column(conn, t["ingest_cursors"], "tenant", "edge_id", "acked_seq") == [
                ("acme", "park-a", 2), ("site", "ghost", 1),
            ]  # fmt: skip
            edges = await _column(conn, t["edges"], "tenant", "id", "schedule_version")
            assert edges == [("acme", "park-a", 3)]
            instances = await _column(conn, t["vpp_resource_instances"], "id", "edge_tenant")
            assert instances == [("i-ghost", "site"), ("i-none", None), ("i-park-a", "acme")]
            instructions = await _column(conn, t["dispatch_instructions"], "id", "edge_tenant")
            assert instructions == [("i-child", "acme"), ("i-parent", None)]
            outbox = await conn.scalar(select(func.count()).select_from(t["dispatch_outbox"]))
            assert outbox == 1

            # park-a of a second tenant: its own edge, points, cursor and binding
            await conn.execute(insert(t["edges"]), [{
                "id": "park-a", "tenant": "globex", "name": "", "mqtt_username": "edge-g",
                "mqtt_password_hash": "", "online": False, "schedule_version": 0,
            }])  # fmt: skip
            await conn.execute(insert(t["telemetry"]), [{**_point("park-a", 1, -1.0),
                                                         "tenant": "globex"}])  # fmt: skip
            await conn.execute(insert(t["ingest_cursors"]), [{"tenant": "globex",
                "edge_id": "park-a", "sid": 1, "acked_seq": 1}])  # fmt: skip
            await conn.execute(insert(t["vpp_resource_instances"]), [{
                "id": "i-globex", "template_id": "tpl", "name": "g", "status": "OFFLINE",
                "edge_tenant": "globex", "edge_id": "park-a", "device_id": "bess-1",
                "created_at": NOW, "updated_at": NOW,
            }])  # fmt: skip
        async with engine.begin() as conn:
            t = await _tables(conn)
            with pytest.raises(IntegrityError):  # the same key in the same tenant still clashes
                await conn.execute(insert(t["telemetry"]), [{**_point("park-a", 1, 0.0),
                                                             "tenant": "acme"}])  # fmt: skip
    finally:
        await engine.dispose()


async def test_the_downgrade_restores_edge_keys_while_no_two_tenants_share_an_id(
    empty_url: str,
) -> None:
    engine = create_engine(empty_url)
    try:
        await migrate(engine, "0011b")
        async with engine.begin() as conn:
            await _fill(conn)
        await migrate(engine)
        await downgrade(engine, "0011b")
        async with engine.begin() as conn:
            t = await _tables(conn)
            assert "tenant" not in t["telemetry"].c
            assert "edge_tenant" not in t["vpp_resource_instances"].c
            rows = await _column(conn, t["telemetry"], "edge_id", "seq")
            assert rows == [("ghost", 1), ("park-a", 1), ("park-a", 2)]
    finally:
        await engine.dispose()
