"""Read routing: reports, statement reads and history go to ``VPP_HUB_DB_REPLICA``; writes
and read-after-write stay on the primary.

No streaming replica runs here, so the "replica" is a second PostgreSQL database with the
same schema whose contents differ from the primary's in what each response shows (the
seam is ``Settings.db_replica_url``, the hub's own): a statement total, a telemetry value
and a market price are one thing on the primary and another on the replica, so every
response says which database answered. Once in-process (``create_app``) and once through
``vpp hub run`` with ``VPP_HUB_DB_REPLICA`` set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, insert, select

from hub import Settings
from hub.app import create_app
from hub.auth import Principal, TokenService
from hub.store import (
    MarketConnectorRow,
    MarketDataPoint,
    ResourceInstance,
    ResourceTemplate,
    SettlementStatement,
    Telemetry,
    Vpp,
    create_engine,
    migrate,
)
from lingtan.broker import Mosquitto, free_port
from tests.conftest import create_pg_database, drop_pg_database
from tests.hub.conftest import JWT_SECRET, add_role_users, auth_for
from tests.support import SAFETY_TIMEOUT, refused_port

pytestmark = [pytest.mark.postgres]

API = "/api/v1/vpp"
DAY = dt.date(2026, 11, 30)
SLOT = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
TS_MS = int(SLOT.timestamp() * 1000)
ROOT = Path(__file__).resolve().parents[2]
WINDOW = {"start": "2026-11-30T00:00:00Z", "end": "2026-11-30T01:00:00Z"}


@dataclass(frozen=True)
class Figures:
    """What one database holds, different in each."""

    total_cents: int
    value: float
    price: float


PRIMARY = Figures(total_cents=10_000, value=1.0, price=100.0)
REPLICA = Figures(total_cents=77_700, value=7.0, price=700.0)


async def seed(url: str, f: Figures) -> None:
    """The same VPP, instance, statement and market in both databases; the figures differ."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Vpp),
                [{"id": "vpp-r", "name": "v", "market_type": "SPOT", "status": "ACTIVE"}],
            )
            await conn.execute(
                insert(ResourceTemplate),
                [
                    {
                        "id": "tpl",
                        "lineage_id": "tpl",
                        "name": "BESS",
                        "type": "battery_storage",
                        "category": "STORAGE",
                        "parameters": {},
                        "control_interface": {},
                    }
                ],
            )
            await conn.execute(
                insert(ResourceInstance),
                [
                    {
                        "id": "inst-r",
                        "template_id": "tpl",
                        "name": "b",
                        "capacity": 100.0,
                        "status": "ONLINE",
                        "parameters": {},
                        "edge_tenant": "default",
                        "edge_id": "e1",
                        "device_id": "d1",
                        "location_info": {},
                    }
                ],
            )
            await conn.execute(
                insert(Telemetry),
                [
                    {
                        "tenant": "default",
                        "edge_id": "e1",
                        "sid": 1,
                        "seq": 1,
                        "idx": 0,
                        "device_id": "d1",
                        "name": "p_w",
                        "ts_ms": TS_MS,
                        "value": f.value,
                        "quality": "good",
                    }
                ],
            )
            await conn.execute(
                insert(SettlementStatement),
                [
                    {
                        "id": "st-r",
                        "vpp_id": "vpp-r",
                        "market_type": "SPOT",
                        "trading_date": DAY,
                        "digest": "d" * 64,
                        "complete": True,
                        "gap_slots": [],
                        "energy_cents": f.total_cents,
                        "deviation_cents": 0,
                        "penalty_cents": 0,
                        "availability_cents": 0,
                        "mileage_cents": 0,
                        "dr_cents": 0,
                        "total_cents": f.total_cents,
                        "cleared_kwh": 0.0,
                        "delivered_kwh": 0.0,
                        "rules": {},
                        "rounding": "half-even",
                        "settled_by": "test",
                    }
                ],
            )
            await conn.execute(
                insert(MarketConnectorRow),
                [
                    {
                        "id": "mkt-r",
                        "name": "m",
                        "market_type": "SPOT",
                        "api_endpoint": "sim://replica-test",
                        "trading_rules": {},
                    }
                ],
            )
            await conn.execute(
                insert(MarketDataPoint),
                [
                    {
                        "connector_id": "mkt-r",
                        "market_type": "SPOT",
                        "slot_start": SLOT,
                        "price_yuan_mwh": f.price,
                        "volume_mwh": 1.0,
                        "realtime_price_yuan_mwh": None,
                        "market_status": "CLOSED",
                    }
                ],
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def dbs() -> AsyncIterator[tuple[str, str]]:
    """(primary, replica): two databases of their own, seeded with different figures."""
    (p_name, primary), (r_name, replica) = [await create_pg_database("vpp_read") for _ in range(2)]
    try:
        await seed(primary, PRIMARY)
        await seed(replica, REPLICA)
        await add_role_users(primary)  # tokens are checked on the primary
        yield primary, replica
    finally:
        for name in (p_name, r_name):
            await drop_pg_database(name)


async def count(url: str, model: type[Vpp], **where: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            columns = [getattr(model, k) == v for k, v in where.items()]
            return int(
                await conn.scalar(select(func.count()).select_from(model).where(*columns)) or 0
            )
    finally:
        await engine.dispose()


async def check_reads(http: Any, headers: dict[str, str]) -> None:
    """Every routed read shows the replica's figures."""
    r = await http.get(f"{API}/settlement/statements", params={"vpp_id": "vpp-r"}, headers=headers)
    assert r.status_code == 200, r.text
    assert [float(s["total_yuan"]) for s in r.json()["items"]] == [REPLICA.total_cents / 100]
    r = await http.get(f"{API}/settlement/statements/st-r", headers=headers)
    assert r.status_code == 200, r.text
    assert float(r.json()["total_yuan"]) == REPLICA.total_cents / 100
    r = await http.get(
        f"{API}/reports/operation",
        params={"vpp_id": "vpp-r", "start_date": DAY.isoformat(), "end_date": DAY.isoformat()},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert float(r.json()["revenue_yuan"]) == REPLICA.total_cents / 100
    r = await http.get(
        f"{API}/resource-instances/inst-r/history", params=WINDOW | {"step": 3600}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert [p["value"] for p in r.json()["points"]] == [REPLICA.value]
    r = await http.get(f"{API}/market-data/mkt-r/history", params=WINDOW, headers=headers)
    assert r.status_code == 200, r.text
    assert [p["price_yuan_mwh"] for p in r.json()["points"]] == [REPLICA.price]


async def test_reads_hit_the_replica_and_writes_the_primary(dbs: tuple[str, str]) -> None:
    primary, replica = dbs
    settings = Settings(
        db_url=primary,
        db_replica_url=replica,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        run_jobs=False,
    )
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        auth = auth_for(app)
        await check_reads(client, auth("viewer"))
        # What is not routed reads the primary: the instance itself, and the live cache's
        # fallback to stored telemetry (realtime-data).
        r = await client.get(
            f"{API}/resource-instances/inst-r/realtime-data", headers=auth("viewer")
        )
        assert r.status_code == 200, r.text
        assert r.json()["power"] == PRIMARY.value / 1000
        # A write goes to the primary only ...
        r = await client.post(
            f"{API}/vpps", json={"name": "fresh", "market_type": "SPOT"}, headers=auth("admin")
        )
        assert r.status_code == 201, r.text
        fresh = r.json()["id"]
        assert await count(primary, Vpp, id=fresh) == 1
        assert await count(replica, Vpp, id=fresh) == 0
        # ... and a report naming what the replica has not seen yet (created within the
        # replication lag) is answered by the primary instead of a 404.
        r = await client.get(
            f"{API}/reports/operation",
            params={"vpp_id": fresh, "start_date": DAY.isoformat(), "end_date": DAY.isoformat()},
            headers=auth("viewer"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["vpp_id"] == fresh and float(r.json()["revenue_yuan"]) == 0
        r = await client.get(f"{API}/settlement/statements/missing", headers=auth("viewer"))
        assert r.status_code == 404


async def test_without_a_replica_the_reads_use_the_primary(dbs: tuple[str, str]) -> None:
    primary, _ = dbs
    settings = Settings(
        db_url=primary, mqtt_url=None, jwt_secret=JWT_SECRET, rate_limit_per_minute=0,
        migrate_on_start=False, run_jobs=False,
    )  # fmt: skip
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        r = await client.get(f"{API}/settlement/statements/st-r", headers=auth_for(app)("viewer"))
        assert r.status_code == 200, r.text
        assert float(r.json()["total_yuan"]) == PRIMARY.total_cents / 100


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


async def test_an_unreachable_replica_leaves_the_reads_to_the_primary(
    dbs: tuple[str, str],
) -> None:
    primary, _ = dbs
    with refused_port() as dead:  # nothing may listen there meanwhile
        gone = f"postgresql+asyncpg://postgres@127.0.0.1:{dead}/nothing"
        settings = Settings(
            db_url=primary, db_replica_url=gone, mqtt_url=None, jwt_secret=JWT_SECRET,
            rate_limit_per_minute=0, migrate_on_start=False, run_jobs=False,
        )  # fmt: skip
        app = create_app(settings)
        async with AsyncTestClient(app=app) as client:
            headers = auth_for(app)("viewer")
            for _ in range(2):
                r = await client.get(f"{API}/settlement/statements/st-r", headers=headers)
                assert r.status_code == 200, r.text
                assert float(r.json()["total_yuan"]) == PRIMARY.total_cents / 100
            r = await client.get(f"{API}/market-data/mkt-r/history", params=WINDOW, headers=headers)
            assert [p["price_yuan_mwh"] for p in r.json()["points"]] == [PRIMARY.price]


@pytest.mark.mosquitto
async def test_vpp_hub_run_with_vpp_hub_db_replica_reads_the_replica(
    dbs: tuple[str, str], mosquitto: Mosquitto, tmp_path: Path
) -> None:
    primary, replica = dbs
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
    env |= {
        "VPP_HUB_JWT_SECRET": JWT_SECRET,
        "VPP_HUB_DB_REPLICA": replica,
        "VPP_HUB_RATE_LIMIT": "0",
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-m", "lingtan", "hub", "run", "--port", str(port), "--db", primary,
            "--mqtt", mosquitto.url, "--log-level", "WARNING"]  # fmt: skip
    log = tmp_path / "hub.log"
    proc = spawn(argv, env, log)
    try:
        url = f"http://127.0.0.1:{port}"
        token = TokenService(JWT_SECRET, 3600).issue(
            Principal(user_id="viewer-id", username="viewer-user", role="viewer")
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=SAFETY_TIMEOUT) as http:
            for _ in range(int(SAFETY_TIMEOUT * 20)):
                assert proc.poll() is None, log.read_text()
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            await check_reads(http, headers)
    finally:
        proc.terminate()
        proc.wait(SAFETY_TIMEOUT)
