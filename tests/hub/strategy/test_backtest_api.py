"""Backtest tasks through the API (seed 4.2.1): start, progress, results, cancel, bad
input, the bounded queue, and tasks that outlive a hub (state in the database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub.app import create_app
from hub.markets import price_csv, reference_year, slot_start
from hub.store import (
    MarketConnectorRow,
    MarketDataPoint,
    StrategyBacktest,
    TradingStrategy,
    new_id,
)
from hub.strategy import config_digest
from tests.hub.conftest import AuthFor, add_role_users, auth_for, wait_until
from tests.hub.helpers import make_battery, make_vpp
from tests.hub.strategy.test_api import RULES

URL = "/api/v1/vpp/strategies"
Client = AsyncTestClient[Litestar]
WEEK = {"start_date": "2026-03-02", "end_date": "2026-03-08", "market_data_source": "synthetic"}
YEAR = {"start_date": "2026-01-01", "end_date": "2026-12-31", "market_data_source": "synthetic"}


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Settings:
    return Settings(
        db_url=clean_db,
        mqtt_url=None,
        jwt_secret="test-secret-" + "x" * 40,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        run_jobs=False,
        backtest_workers=1,
        backtest_queue=1,
        backtest_lease_s=60,
        backtest_data_dir=str(tmp_path / "market-data"),
    )


async def _setup(client: Client, auth: AuthFor) -> tuple[str, dict[str, str]]:
    """A VPP of two batteries with a RULE_BASED strategy; the strategy id and trader headers."""
    admin = auth("admin")
    a = await make_battery(client, admin, device="b1", kw=500, kwh=2000)
    b = await make_battery(client, admin, device="b2", kw=500, kwh=2000)
    vpp = await make_vpp(client, admin, [a["id"], b["id"]])
    h = auth("trader")
    r = await client.post(
        URL,
        json={"name": "s", "vpp_id": vpp["id"], "strategy_type": "RULE_BASED", "config": RULES},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), h


async def _task(client: Client, h: dict[str, str], sid: str, tid: str) -> dict[str, Any]:
    r = await client.get(f"{URL}/{sid}/backtest-results/{tid}", headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _until(
    client: Client, h: dict[str, str], sid: str, tid: str, *statuses: str
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def check() -> bool:
        seen.update(await _task(client, h, sid, tid))
        return seen["status"] in statuses

    await wait_until(check)
    return seen


async def test_a_backtest_runs_as_a_task_and_unlocks_activation(
    client: Client, auth: AuthFor
) -> None:
    sid, h = await _setup(client, auth)
    await client.put(f"{URL}/{sid}", json={"status": "TESTING"}, headers=h)
    r = await client.post(f"{URL}/{sid}/backtest", json=WEEK, headers=h)
    assert r.status_code == 202, r.text
    task = r.json()
    assert task["status"] == "PENDING" and task["task_id"]
    tid = task["task_id"]
    done = await _until(client, auth("viewer"), sid, tid, "COMPLETED", "FAILED")
    assert done["status"] == "COMPLETED", done["error"]
    assert done["progress"]["percent"] == 100.0
    assert done["progress"]["slots_done"] == done["progress"]["slots_total"] == 7 * 96 * 3
    assert done["progress"]["slot_reached"].startswith("2026-03-08T15:45")  # 23:45 local
    results = done["results"]
    assert {"total_revenue", "success_rate", "risk_metrics", "performance_comparison"} <= set(
        results
    )
    assert results["days"] == 7
    assert "capture_ratio" in results["performance_comparison"]
    assert results["performance_comparison"]["perfect_foresight"]["net_revenue"] > 0
    strategy = (await client.get(f"{URL}/{sid}", headers=h)).json()
    assert strategy["performance_metrics"]["backtest_task_id"] == tid
    r = await client.put(f"{URL}/{sid}", json={"status": "ACTIVE"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    # A finished task cannot be cancelled; viewers read but do not start or cancel.
    r = await client.post(f"{URL}/{sid}/backtest-results/{tid}/cancel", headers=h)
    assert r.status_code == 409
    r = await client.post(f"{URL}/{sid}/backtest", json=WEEK, headers=auth("viewer"))
    assert r.status_code == 403
    r = await client.get(f"{URL}/{sid}/backtest-results/nope", headers=h)
    assert r.status_code == 404


async def test_bad_backtest_requests_name_the_field_or_the_range(
    client: Client, auth: AuthFor, settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    sid, h = await _setup(client, auth)

    async def post(**body: Any) -> Any:
        return await client.post(f"{URL}/{sid}/backtest", json=WEEK | body, headers=h)

    r = await post(start_date="2027-01-01", end_date="2027-01-31")
    assert r.status_code == 422
    problem = r.json()
    assert (
        "2027-01-01..2027-01-31" in problem["detail"]
        and "2026-01-01..2026-12-31" in problem["detail"]
    )
    r = await post(end_date="2027-01-10")
    assert r.status_code == 422 and "2027-01-01..2027-01-10" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "end_date"
    r = await post(start_date="2026-03-09")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end_date"
    r = await post(market_data_source="ftp://prices")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "market_data_source"
    r = await post(market_data_source="market:shandong")
    assert r.status_code == 422 and "shandong" in r.json()["detail"]
    r = await post(market_data_source="csv:../../etc/passwd")
    assert r.status_code == 422 and "inside the backtest data directory" in r.json()["detail"]
    r = await post(market_data_source="csv:/etc/passwd")
    assert r.status_code == 422 and "inside the backtest data directory" in r.json()["detail"]
    r = await post(market_data_source="csv:missing.csv")
    assert r.status_code == 422 and "no file" in r.json()["detail"]
    r = await post(start_date="March")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "start_date"
    r = await client.post(f"{URL}/nope/backtest", json=WEEK, headers=h)
    assert r.status_code == 404
    async with db() as session:
        assert list(await session.scalars(select(StrategyBacktest))) == []
    # A CSV inside the data directory is a source.
    _write_csv(Path(settings.backtest_data_dir) / "march.csv")
    r = await post(
        market_data_source="csv:march.csv", start_date="2026-03-03", end_date="2026-03-05"
    )
    assert r.status_code == 202, r.text
    done = await _until(client, h, sid, r.json()["task_id"], "COMPLETED", "FAILED")
    assert done["status"] == "COMPLETED", done["error"]
    assert done["results"]["days"] == 3


def _write_csv(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(price_csv(_march()), encoding="utf-8")


def _march() -> Any:
    from hub.markets import PriceSeries

    year = reference_year()
    i = year.index(dt.date(2026, 3, 1))
    return PriceSeries(
        start=dt.date(2026, 3, 1),
        day_ahead_yuan_mwh=year.day_ahead_yuan_mwh[i : i + 7].copy(),
        realtime_yuan_mwh=year.realtime_yuan_mwh[i : i + 7].copy(),
        load_mw=year.load_mw[i : i + 7].copy(),
        rules=year.rules,
    )


async def test_progress_is_readable_while_it_runs_and_a_running_task_cancels(
    client: Client, auth: AuthFor
) -> None:
    sid, h = await _setup(client, auth)
    tid = (await client.post(f"{URL}/{sid}/backtest", json=YEAR, headers=h)).json()["task_id"]

    async def moving() -> bool:
        task = await _task(client, h, sid, tid)
        return bool(task["status"] == "RUNNING" and task["progress"]["slots_done"] > 0)

    await wait_until(moving)
    running = await _task(client, h, sid, tid)
    assert 0 < running["progress"]["percent"] < 100
    assert running["progress"]["slot_reached"] is not None and running["results"] is None
    r = await client.post(f"{URL}/{sid}/backtest-results/{tid}/cancel", headers=h)
    assert r.status_code == 202
    done = await _until(client, h, sid, tid, "CANCELLED", "COMPLETED", "FAILED")
    assert done["status"] == "CANCELLED" and done["results"] is None
    assert done["progress"]["percent"] < 100


async def test_the_queue_is_bounded_and_a_pending_task_cancels_at_once(
    client: Client, auth: AuthFor
) -> None:
    sid, h = await _setup(client, auth)
    first = (await client.post(f"{URL}/{sid}/backtest", json=YEAR, headers=h)).json()["task_id"]
    second = (await client.post(f"{URL}/{sid}/backtest", json=YEAR, headers=h)).json()["task_id"]
    r = await client.post(f"{URL}/{sid}/backtest", json=YEAR, headers=h)
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert "queue is full" in r.json()["detail"]
    await _until(client, h, sid, first, "RUNNING")
    assert (await _task(client, h, sid, second))["status"] == "PENDING"
    r = await client.post(f"{URL}/{sid}/backtest-results/{second}/cancel", headers=h)
    assert r.status_code == 202 and r.json()["status"] == "CANCELLED"
    await client.post(f"{URL}/{sid}/backtest-results/{first}/cancel", headers=h)
    await _until(client, h, sid, first, "CANCELLED")
    r = await client.post(f"{URL}/{sid}/backtest", json=WEEK, headers=h)
    assert r.status_code == 202


async def _orphan(db: async_sessionmaker[AsyncSession], sid: str, *, attempts: int) -> str:
    """A task another hub was running when it died (its lease long gone)."""
    async with db() as session:
        row = await session.get(TradingStrategy, sid)
        assert row is not None
        tid = new_id()
        session.add(
            StrategyBacktest(
                id=tid,
                strategy_id=sid,
                status="RUNNING",
                start_date=dt.date(2026, 3, 2),
                end_date=dt.date(2026, 3, 4),
                market_data_source="synthetic",
                strategy_type=row.strategy_type,
                config=row.config,
                config_digest=config_digest(row.strategy_type, row.config),
                fleet={"energy_kwh": 4000, "max_charge_kw": 1000, "max_discharge_kw": 1000},
                slots_total=3 * 96,
                worker="dead-hub",
                heartbeat_ms=1,
                attempts=attempts,
                progress_pct=40.0,
            )
        )
        await session.commit()
    return tid


async def test_tasks_survive_a_hub_restart(
    settings: Settings, clean_db: str, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_role_users(clean_db)
    # Hub 1: a long task is running when the hub stops cleanly: it goes back to PENDING.
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        auth = auth_for(app)
        sid, h = await _setup(client, auth)
        tid = (await client.post(f"{URL}/{sid}/backtest", json=YEAR, headers=h)).json()["task_id"]

        async def moving() -> bool:
            task = await _task(client, h, sid, tid)
            return bool(task["status"] == "RUNNING" and task["progress"]["slots_done"] > 0)

        await wait_until(moving)
    async with db() as session:
        row = await session.get(StrategyBacktest, tid)
        assert row is not None and row.status == "PENDING" and row.worker is None
        await session.delete(row)  # (a year takes a while; the orphans below are shorter)
        await session.commit()
    # Tasks of a hub that died: one is taken up again (its lease ran out), one had been
    # tried too often and fails with the reason.
    resumed = await _orphan(db, sid, attempts=1)
    given_up = await _orphan(db, sid, attempts=3)
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        h = auth_for(app)("viewer")
        done = await _until(client, h, sid, resumed, "COMPLETED", "FAILED")
        assert done["status"] == "COMPLETED", done["error"]
        assert done["results"]["days"] == 3 and done["progress"]["percent"] == 100.0
        failed = await _until(client, h, sid, given_up, "COMPLETED", "FAILED")
        assert failed["status"] == "FAILED"
        assert "gave up after 3 attempts" in failed["error"]
    async with db() as session:
        row = await session.get(StrategyBacktest, resumed)
        assert row is not None and row.attempts == 2 and row.worker != "dead-hub"


async def test_stored_market_data_is_a_source(
    client: Client, auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    """market:<connector id>: the market data the trading loop stored (a day with a slot
    missing ends the usable run)."""
    sid, h = await _setup(client, auth)
    march = _march()
    rules = march.rules
    async with db() as session:
        session.add(
            MarketConnectorRow(
                id="mkt-1",
                name="sim",
                market_type="SPOT",
                api_endpoint="sim://x",
                status="ACTIVE",
                trading_rules=msgspec.to_builtins(rules),
            )
        )
        for k, date in enumerate(march.dates()):
            for t in range(rules.slots_per_day):
                if k == 1 and t == 5:
                    continue  # 2 Mar is incomplete: the run starts on 3 Mar
                session.add(
                    MarketDataPoint(
                        connector_id="mkt-1",
                        market_type="SPOT",
                        slot_start=slot_start(rules, date, t),
                        price_yuan_mwh=float(march.day_ahead_yuan_mwh[k, t]),
                        volume_mwh=float(march.load_mw[k, t]) / 4,
                        realtime_price_yuan_mwh=float(march.realtime_yuan_mwh[k, t]),
                        market_status="CLEARED",
                    )
                )
        await session.commit()
    body = WEEK | {"market_data_source": "market:mkt-1"}
    r = await client.post(f"{URL}/{sid}/backtest", json=body, headers=h)
    assert r.status_code == 422 and "2026-03-03..2026-03-07" in r.json()["detail"]
    body |= {"start_date": "2026-03-04", "end_date": "2026-03-07"}
    r = await client.post(f"{URL}/{sid}/backtest", json=body, headers=h)
    assert r.status_code == 202, r.text
    done = await _until(client, h, sid, r.json()["task_id"], "COMPLETED", "FAILED")
    assert done["status"] == "COMPLETED", done["error"]
    assert done["results"]["days"] == 4
    r = await client.post(
        f"{URL}/{sid}/backtest", json=body | {"market_data_source": "market:nope"}, headers=h
    )
    assert r.status_code == 422 and "nope" in r.json()["detail"]
