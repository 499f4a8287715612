"""The seed 4.4 report routes on the simulated day (tests/hub/settlement/day.py), settled
through the API first: figures, CSV (BOM) and bad input naming the parameter, on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.reports import DEFAULT_SHAPE, NATIONAL_KG_PER_KWH
from hub.store import StrategyBacktest, Telemetry, TradingRecord, TradingStrategy
from tests.hub.conftest import AuthFor
from tests.hub.settlement.test_api import RUN, body, settings, simulated_day

__all__ = ["settings"]  # the fixture: the settlement job does not run by itself here

REPORTS = "/api/v1/vpp/reports"
DAY = {"start_date": "2026-12-01", "end_date": "2026-12-01"}


async def settled_day(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> tuple[str, dict[str, str]]:
    vpp, ids = await simulated_day(client, auth, db)
    r = await client.post(RUN, json=body(vpp), headers=auth("trader"))
    assert r.status_code == 200, r.text
    return vpp, ids


async def test_operation_report_of_the_simulated_day(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, _ = await settled_day(client, auth, db)
    r = await client.get(
        f"{REPORTS}/operation",
        params={"vpp_id": vpp, **DAY, "report_type": "summary"},
        headers=auth("viewer"),
    )
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["dispatch_count"] == 4
    assert rep["energy_delivered_kwh"] == 381.0  # A 251 + B 130 (B's slot 43 unmetered)
    # within 5 %: A 40, A 43, B 40, B 42 of 8 (A 41 -8.3 %, A 42 +10 %, B 41 -12.5 %, B 43 none)
    assert rep["execution_success_rate"] == 0.5
    assert rep["meets_target"] is False and rep["success_target"] == 0.95
    assert rep["availability"] == 7 / 8  # B's failed instruction was not taken
    assert rep["deviations"] == {"total_abs_kwh": 23.0, "max_abs_kwh": 10.0, "beyond_tolerance": 4}
    assert rep["alarms"]["failed"] == 1
    assert Decimal(rep["revenue_yuan"]) == Decimal("174.84")
    assert rep["rows"][0]["key"] == "summary"
    daily = await client.get(
        f"{REPORTS}/operation",
        params={"vpp_id": vpp, **DAY, "report_type": "daily"},
        headers=auth("viewer"),
    )
    assert [row["key"] for row in daily.json()["rows"]] == ["2026-12-01"]
    per = await client.get(
        f"{REPORTS}/operation",
        params={"vpp_id": vpp, **DAY, "report_type": "dispatch"},
        headers=auth("viewer"),
    )
    assert len(per.json()["rows"]) == 8


async def test_csv_by_accept_header_or_format_with_a_bom(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, ids = await settled_day(client, auth, db)
    params = {"vpp_id": vpp, "dimension": "resource", "period": "2026-12", "method": "energy"}
    for extra, headers in (
        ({"format": "csv"}, auth("viewer")),
        ({}, {**auth("viewer"), "Accept": "text/csv"}),
    ):
        r = await client.get(
            f"{REPORTS}/revenue-analysis", params={**params, **extra}, headers=headers
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode())
        lines = r.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("key,label,revenue_yuan")
        by_key = {line.split(",")[0]: line.split(",") for line in lines[1:]}
        assert by_key[ids["A"]][2] == "115.18" and by_key[ids["B"]][2] == "59.66"


async def test_revenue_analysis_by_time_strategy_resource_and_carbon(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, ids = await settled_day(client, auth, db)
    async with db() as session:
        session.add(TradingStrategy(id="s1", name="套利", vpp_id=vpp, strategy_type="RULE_BASED"))
        await session.flush()
        await session.execute(
            update(TradingRecord)
            .where(TradingRecord.id.in_(["rec-40", "rec-41"]))
            .values(strategy_id="s1")
        )
        # A's battery meters 100 kW from 09:59 to 11:00 local (01:59-03:00 UTC)
        t0 = int(dt.datetime(2026, 12, 1, 1, 59, tzinfo=dt.UTC).timestamp() * 1000)
        for i in range(62):
            session.add(
                Telemetry(
                    tenant="default",
                    edge_id="edge-a",
                    sid=1,
                    seq=i,
                    idx=0,
                    device_id="bess-1",
                    name="p_w",
                    ts_ms=t0 + i * 60_000,
                    value=100_000.0,
                )
            )
        await session.commit()
    get = f"{REPORTS}/revenue-analysis"
    viewer = auth("viewer")
    r = await client.get(get, params={"vpp_id": vpp, "dimension": "time", "period": "2026-12"},
                         headers=viewer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert Decimal(r.json()["total_yuan"]) == Decimal("174.84")
    row = r.json()["rows"][0]
    assert (row["key"], Decimal(row["penalty_yuan"])) == ("2026-12-01", Decimal("-2.10"))
    r = await client.get(get, params={"vpp_id": vpp, "dimension": "strategy",
                                      "period": "2026-12"}, headers=viewer)  # fmt: skip
    rows = {row["key"]: row for row in r.json()["rows"]}
    assert Decimal(rows["s1"]["revenue_yuan"]) == Decimal("126.00")  # slots 40 and 41
    assert rows["s1"]["label"] == "套利"
    assert Decimal(rows["unassigned"]["revenue_yuan"]) == Decimal("48.84")
    r = await client.get(get, params={"vpp_id": vpp, "dimension": "resource",
                                      "period": "2026-12"}, headers=viewer)  # fmt: skip
    shapley = {row["key"]: Decimal(row["revenue_yuan"]) for row in r.json()["rows"]}
    assert shapley == {ids["A"]: Decimal("106.72"), ids["B"]: Decimal("68.12"),
                       ids["C"]: Decimal("0.00")}  # fmt: skip
    r = await client.get(get, params={"vpp_id": vpp, "dimension": "carbon",
                                      "period": "2026-12"}, headers=viewer)  # fmt: skip
    assert r.status_code == 200, r.text
    carbon = r.json()["carbon"]
    # 100 kWh discharged in local hour 10: 100 x 0.5366 x (shape[10] - 1), shape mean 1
    expected = 100 * NATIONAL_KG_PER_KWH * (DEFAULT_SHAPE[10] - 1)
    assert abs(carbon["shifted_kg"] - round(expected, 3)) < 1e-3
    assert expected < 0  # discharging at 10:00 (solar in the mix, below average) costs
    assert carbon["metered_kwh"] == 100.0
    assert "2024 No. 33" in carbon["source"]


async def test_strategy_performance(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, _ = await settled_day(client, auth, db)
    async with db() as session:
        session.add(TradingStrategy(id="s1", name="s", vpp_id=vpp, strategy_type="RULE_BASED"))
        await session.flush()
        await session.execute(
            update(TradingRecord)
            .where(TradingRecord.id.in_(["rec-40", "rec-41", "rec-cancelled"]))
            .values(strategy_id="s1")
        )
        await session.commit()
    r = await client.get(
        f"{REPORTS}/strategy-performance",
        params={"strategy_id": "s1", "period": "2026-11-30/2026-12-01"},
        headers=auth("viewer"),
    )
    assert r.status_code == 200, r.text
    rep = r.json()
    assert Decimal(rep["revenue_yuan"]) == Decimal("126.00")
    assert rep["records"] == 2 and rep["hit_rate"] == 1.0  # the cancelled one is no bid
    assert rep["capture_ratio"] is None and "backtest" in rep["capture_ratio_reason"]
    assert rep["risk"]["days"] == 1 and rep["risk"]["worst_day_yuan"] == 126.0
    async with db() as session:  # the strategies' backtest of exactly those days
        session.add(
            StrategyBacktest(
                id="bt-1",
                strategy_id="s1",
                status="COMPLETED",
                start_date=dt.date(2026, 11, 30),
                end_date=dt.date(2026, 12, 1),
                market_data_source="replay:x",
                strategy_type="RULE_BASED",
                config={},
                config_digest="d",
                fleet={},
                results={
                    "performance_comparison": {
                        "capture_ratio": 0.5,
                        "perfect_foresight": {"net_revenue": 157.5},
                    }
                },
            )
        )
        await session.commit()
    r = await client.get(
        f"{REPORTS}/strategy-performance",
        params={"strategy_id": "s1", "period": "2026-11-30/2026-12-01"},
        headers=auth("viewer"),
    )
    rep = r.json()
    assert rep["capture_ratio"] == 126.0 / 157.5  # realised against perfect foresight
    assert "bt-1" in rep["capture_ratio_reason"]
    r = await client.get(
        f"{REPORTS}/strategy-performance",
        params={"strategy_id": "s1", "period": "2026-12"},
        headers=auth("viewer"),
    )
    assert r.json()["capture_ratio"] == 0.5  # another window: the backtest's own
    assert "simulated" in r.json()["capture_ratio_reason"]


async def test_bad_input_names_the_parameter(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, _ = await settled_day(client, auth, db)
    viewer = auth("viewer")
    cases = [
        ("operation", {"vpp_id": vpp, **DAY, "report_type": "weekly"}, 422, "report_type"),
        ("operation", {"vpp_id": vpp, "start_date": "2026-12-02", "end_date": "2026-12-01"},
         422, "end_date"),
        ("operation", {"vpp_id": "nope", **DAY}, 404, "vpp_id"),
        ("revenue-analysis", {"vpp_id": vpp, "dimension": "region"}, 422, "dimension"),
        ("revenue-analysis", {"vpp_id": vpp, "period": "fortnight"}, 422, "period"),
        ("revenue-analysis", {"vpp_id": vpp, "period": "2026-13"}, 422, "period"),
        ("revenue-analysis", {"vpp_id": vpp, "format": "xml"}, 422, "format"),
        ("revenue-analysis", {"vpp_id": "nope"}, 404, "vpp_id"),
        ("strategy-performance", {"strategy_id": "nope"}, 404, "strategy_id"),
        ("strategy-performance", {"strategy_id": "s", "period": "2026-12-02/2026-12-01"},
         422, "period"),
    ]  # fmt: skip
    for route, params, status, field in cases:
        r = await client.get(f"{REPORTS}/{route}", params=params, headers=viewer)
        assert r.status_code == status, (route, params, r.text)
        assert r.json()["errors"][0]["field"] == field, (route, params, r.text)
    r = await client.get(f"{REPORTS}/operation", params=DAY, headers=viewer)
    assert r.status_code == 400 and "vpp_id" in r.json()["detail"]
    r = await client.get(f"{REPORTS}/operation", params={"vpp_id": vpp, **DAY})
    assert r.status_code == 401
