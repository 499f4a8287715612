"""The simulated day (tests/hub/settlement/day.py) through the hub: trading records and
dispatch executions in the database, ``POST settlement/run``, the stored statement, lines,
allocations and SETTLED records, to the cent, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._context import HubContext
from hub.jobs import elect
from hub.settlement import settle_due
from hub.store import (
    AuditEntry,
    BidSubmissionRow,
    DispatchExecution,
    DispatchInstruction,
    MarketConnectorRow,
    MarketDataPoint,
    SettlementStatement,
    Telemetry,
    TradingRecord,
    create_engine,
    new_id,
    sessionmaker,
)
from tests.hub.conftest import JWT_SECRET, AuthFor
from tests.hub.helpers import make_battery, make_vpp
from tests.hub.settlement import day

RUN = "/api/v1/vpp/settlement/run"
STATEMENTS = "/api/v1/vpp/settlement/statements"
SLOT0_UTC = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)  # 00:00 Asia/Shanghai on DAY
CAPACITY_KW = {"A": 400.0, "B": 200.0, "C": 320.0}


@pytest.fixture
def settings(clean_db: str) -> Settings:
    """The job does not run by itself here: the test runs its pass (settle_due) when the
    data is in place."""
    return Settings(
        db_url=clean_db,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        run_jobs=False,
    )


@contextlib.asynccontextmanager
async def job_context(app: Litestar, url: str) -> AsyncIterator[HubContext]:
    """The app's context on an engine of the test's own loop (the app's engine lives in
    the test client's loop), as the job would run in a replica."""
    engine = create_engine(url)
    try:
        yield dataclasses.replace(app.state.hub, engine=engine, sessions=sessionmaker(engine))
    finally:
        await engine.dispose()


def time_slot(slot: int) -> str:
    """The seed's ``HH:MM-HH:MM`` of a slot."""
    a, b = slot * 15, slot * 15 + 15
    return f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"


def slot_time(slot: int) -> dt.datetime:
    return SLOT0_UTC + dt.timedelta(minutes=15 * slot)


async def simulated_day(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> tuple[str, dict[str, str]]:
    headers = auth("admin")
    ids = {}
    for name in "ABC":
        r = await make_battery(
            client, headers, name=name, kw=CAPACITY_KW[name], kwh=1000.0,
            edge=f"edge-{name.lower()}", device="bess-1",
        )  # fmt: skip
        ids[name] = r["id"]
    vpp = (await make_vpp(client, headers, list(ids.values())))["id"]
    async with db() as session:
        for slot in day.SLOTS:
            session.add(
                TradingRecord(
                    id=f"rec-{slot}",
                    vpp_id=vpp,
                    market_type="SPOT",
                    trading_date=day.DAY,
                    time_slot=time_slot(slot),
                    bid_price=0.3,
                    bid_quantity=day.CLEARED[slot],
                    cleared_price=day.PRICE[slot] / 1000,
                    cleared_quantity=day.CLEARED[slot],
                    status="CLEARED",
                )
            )
        session.add(
            TradingRecord(
                id="rec-cancelled",
                vpp_id=vpp,
                market_type="SPOT",
                trading_date=day.DAY,
                time_slot="11:00-11:15",
                bid_price=0.3,
                bid_quantity=10,
                status="CANCELLED",
            )
        )
        for slot_i, slot in enumerate(day.SLOTS):
            parent = DispatchInstruction(
                id=new_id(), vpp_id=vpp, target_power=day.CLEARED[slot] * 4,
                requested_power=day.CLEARED[slot] * 4, start_time=slot_time(slot),
                end_time=slot_time(slot + 1), source="market_award",
            )  # fmt: skip
            session.add(parent)
            await session.flush()
            for name in "AB":
                member = DispatchInstruction(
                    id=new_id(), parent_id=parent.id, vpp_id=vpp, resource_id=ids[name],
                    edge_id=f"edge-{name.lower()}", device_id="bess-1",
                    target_power=day.COMMITTED[name][slot_i] * 4,
                    requested_power=day.COMMITTED[name][slot_i] * 4,
                    start_time=slot_time(slot), end_time=slot_time(slot + 1),
                    source="market_award",
                )  # fmt: skip
                session.add(member)
                await session.flush()  # no ORM relationship orders the inserts
                delivered = day.DELIVERED[name][slot_i]
                session.add(
                    DispatchExecution(
                        instruction_id=member.id,
                        status="done" if delivered is not None else "failed",
                        energy_wh=None if delivered is None else delivered * 1000,
                    )
                )
        await session.commit()
    return vpp, ids


def body(vpp: str, **extra: Any) -> dict[str, Any]:
    return {
        "vpp_id": vpp,
        "market_type": "SPOT",
        "trading_date": day.DAY.isoformat(),
        "realtime_prices": {str(k): v for k, v in day.REALTIME.items()},
        "rules": msgspec.to_builtins(day.RULES),
        **extra,
    }


async def test_the_simulated_day_settles_to_the_cent_through_the_api(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, ids = await simulated_day(client, auth, db)
    name_of = {v: k for k, v in ids.items()}
    r = await client.post(RUN, json=body(vpp), headers=auth("trader"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["changed"] is True and out["records_settled"] == 4
    st = out["statement"]
    assert Decimal(st["total_yuan"]) == day.TOTAL
    assert Decimal(st["energy_yuan"]) == day.ENERGY
    assert Decimal(st["deviation_yuan"]) == day.DEVIATION
    assert Decimal(st["penalty_yuan"]) == day.PENALTY
    assert st["gap_slots"] == [43] and st["complete"] is False
    lines = {line["slot"]: line for line in st["lines"]}
    assert {k: Decimal(v["total_yuan"]) for k, v in lines.items()} == day.LINE_TOTALS
    assert lines[42]["time_slot"] == "10:30-10:45"
    assert lines[43]["flags"] == ["meter_missing"] and lines[43]["delivered_kwh"] is None
    allocations = st["allocations"]
    for method in ("energy", "shapley"):
        got = {name_of[m["resource_id"]]: Decimal(m["amount_yuan"]) for m in allocations[method]}
        assert got == day.EXPECTED[method], method
    # capacity x availability: A 400 kW x 1, B 200 x 0.75 (3 of 4 lines metered), C never
    # dispatched (0): 17484 x 400/550 = 12715.64, 4768.36 -> the left cent to A
    got = {name_of[m["resource_id"]]: Decimal(m["amount_yuan"]) for m in allocations["capacity"]}
    assert got == {"A": Decimal("127.16"), "B": Decimal("47.68"), "C": Decimal("0.00")}
    for members in allocations.values():
        assert sum(Decimal(m["amount_yuan"]) for m in members) == day.TOTAL
        assert sum(Decimal(m["penalty_yuan"]) for m in members) == day.PENALTY
    async with db() as session:
        records = {r.id: r for r in await session.scalars(select(TradingRecord))}
        assert records["rec-cancelled"].status == "CANCELLED"
        assert records["rec-cancelled"].revenue is None
        for slot in day.SLOTS:
            assert records[f"rec-{slot}"].status == "SETTLED"
            assert Decimal(str(records[f"rec-{slot}"].revenue)) == day.LINE_TOTALS[slot]
        audits = await session.scalar(
            select(func.count()).where(AuditEntry.action == "settlement.settle")
        )
        assert audits == 1
    again = await client.post(RUN, json=body(vpp), headers=auth("admin"))
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False
    assert again.json()["statement"]["revision"] == 1
    async with db() as session:
        count = select(func.count()).where(AuditEntry.action == "settlement.settle")
        assert await session.scalar(count) == 1  # nothing changed, nothing audited
    listed = await client.get(STATEMENTS, params={"vpp_id": vpp}, headers=auth("viewer"))
    assert listed.status_code == 200, listed.text
    assert [Decimal(s["total_yuan"]) for s in listed.json()["items"]] == [day.TOTAL]
    one = await client.get(f"{STATEMENTS}/{st['id']}", headers=auth("viewer"))
    assert one.status_code == 200 and len(one.json()["lines"]) == 4


async def test_new_meter_data_makes_a_new_revision(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, _ = await simulated_day(client, auth, db)
    first = await client.post(RUN, json=body(vpp), headers=auth("trader"))
    assert first.status_code == 200, first.text
    async with db() as session:  # B's missing reading for slot 43 arrives: 32 kWh
        execution = await session.scalar(
            select(DispatchExecution)
            .join(DispatchInstruction)
            .where(DispatchExecution.energy_wh.is_(None))
        )
        assert execution is not None
        execution.energy_wh = 32_000.0
        execution.status = "done"
        await session.commit()
    r = await client.post(RUN, json=body(vpp), headers=auth("trader"))
    st = r.json()["statement"]
    assert r.json()["changed"] is True and st["revision"] == 2
    assert st["complete"] is True and st["gap_slots"] == []
    # slot 43 now settles its deviation (0): total unchanged but the line is complete
    assert Decimal(st["total_yuan"]) == day.TOTAL
    async with db() as session:
        rows = await session.scalar(select(func.count()).select_from(SettlementStatement))
        assert rows == 1


async def test_the_job_pass_settles_finished_days_once(
    app: Litestar,
    clean_db: str,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    vpp, _ = await simulated_day(client, auth, db)
    async with job_context(app, clean_db) as ctx, elect(ctx, "settlement") as lease:
        await settle_due(ctx, lease)
        await settle_due(ctx, lease)
    async with db() as session:
        statuses = {r.status for r in await session.scalars(select(TradingRecord))}
        assert statuses == {"SETTLED", "CANCELLED"}
        rows = list(await session.scalars(select(SettlementStatement)))
        assert len(rows) == 1 and rows[0].vpp_id == vpp and rows[0].revision == 1
        assert rows[0].settled_by == "system"


async def test_roles_and_bad_input(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp, _ = await simulated_day(client, auth, db)
    r = await client.post(RUN, json=body(vpp), headers=auth("viewer"))
    assert r.status_code == 403
    r = await client.post(RUN, json=body(vpp), headers=auth("operator"))
    assert r.status_code == 403
    r = await client.post(RUN, json=body("no-such-vpp"), headers=auth("trader"))
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "vpp_id"
    r = await client.post(RUN, json=body(vpp, realtime_prices={"96": 1.0}), headers=auth("trader"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "realtime_prices"
    r = await client.post(
        RUN, json=body(vpp, rules={"deviation_tolerance": 2}), headers=auth("trader")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules"
    r = await client.post(RUN, json=body(vpp, market_type="FOO"), headers=auth("trader"))
    assert r.status_code == 400 and "market_type" in r.text
    r = await client.get(
        STATEMENTS,
        params={"start_date": "2026-12-02", "end_date": "2026-12-01"},
        headers=auth("viewer"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end_date"
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(SettlementStatement)) == 0


async def test_rules_and_realtime_prices_come_from_the_connector_the_day_was_traded_on(
    app: Litestar,
    clean_db: str,
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    db: async_sessionmaker[AsyncSession],
) -> None:
    vpp, _ = await simulated_day(client, auth, db)
    async with db() as session:
        session.add(
            MarketConnectorRow(
                id="conn-1",
                name="sim",
                market_type="SPOT",
                api_endpoint="sim:",
                trading_rules=msgspec.to_builtins(day.RULES),
            )
        )
        session.add(  # a second, active connector with other rules: not the one traded on
            MarketConnectorRow(
                id="conn-0",
                name="a-first",
                market_type="SPOT",
                api_endpoint="sim:",
                trading_rules={"deviation_penalty_yuan_mwh": 999.0},
            )
        )
        await session.flush()
        session.add(
            BidSubmissionRow(
                id="sub-1",
                idempotency_key="k1",
                vpp_id=vpp,
                connector_id="conn-1",
                market_type="SPOT",
                trading_date=day.DAY,
                origin="auto",
                status="CLEARED",
                bids=[{"slot": s, "side": "sell", "record_id": f"rec-{s}"} for s in day.SLOTS],
                created_by="test",
            )
        )
        for slot, price in day.REALTIME.items():
            session.add(
                MarketDataPoint(
                    connector_id="conn-1",
                    market_type="SPOT",
                    slot_start=slot_time(slot),
                    price_yuan_mwh=day.PRICE[slot],
                    volume_mwh=1.0,
                    realtime_price_yuan_mwh=price,
                    market_status="SETTLED",
                )
            )
        await session.flush()
        await session.execute(
            update(TradingRecord)
            .where(TradingRecord.id.like("rec-4%"))
            .values(submission_id="sub-1")
        )
        await session.commit()
    async with job_context(app, clean_db) as ctx, elect(ctx, "settlement") as lease:
        await settle_due(ctx, lease)
    r = await client.get(STATEMENTS, params={"vpp_id": vpp}, headers=auth("viewer"))
    (st,) = r.json()["items"]
    assert Decimal(st["total_yuan"]) == day.TOTAL
    assert Decimal(st["penalty_yuan"]) == day.PENALTY
    assert Decimal(st["deviation_yuan"]) == day.DEVIATION  # real-time prices from the store


async def test_demand_response_against_the_five_day_baseline(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    """DAY is a Tuesday: the similar days are Mon 11-30, Fri 11-27, Thu 11-26, Wed 11-25,
    Tue 11-24. Slot 72 (18:00 local) consumed 100 kW on four of them and 120 kW on
    11-24: baseline (4 x 25 + 30) / 5 = 26 kWh; the event day consumed 60 kW = 15 kWh:
    curtailed 11 kWh of 10 committed, paid on at most 10.5 kWh x 4 yuan/kWh = 42.00.
    Slot 73 has no meter reading on the event day: a gap."""
    headers = auth("admin")
    load = await make_battery(client, headers, name="load", kw=200.0, edge="edge-l",
                              device="load-1")  # fmt: skip
    vpp = (await make_vpp(client, headers, [load["id"]], market="ANCILLARY"))["id"]
    history = {dt.date(2026, 11, d): 100.0 for d in (30, 27, 26, 25)}
    history[dt.date(2026, 11, 24)] = 120.0
    history[dt.date(2026, 11, 29)] = 10.0  # a Sunday: not a similar day
    history[day.DAY] = 60.0
    async with db() as session:
        for n, (d, kw) in enumerate(sorted(history.items())):
            begin = dt.datetime.combine(d, dt.time(9, 58), tzinfo=dt.UTC)  # 17:58 local
            for i in range(18):
                ts = int((begin + dt.timedelta(minutes=i)).timestamp() * 1000)
                session.add(
                    Telemetry(
                        tenant="default",
                        edge_id="edge-l",
                        sid=n + 1,
                        seq=i,
                        idx=0,
                        device_id="load-1",
                        name="p_w",
                        ts_ms=ts,
                        value=-kw * 1000,
                    )
                )
        for slot in (72, 73):
            session.add(
                TradingRecord(
                    id=f"dr-{slot}",
                    vpp_id=vpp,
                    market_type="DEMAND_RESPONSE",
                    trading_date=day.DAY,
                    time_slot=time_slot(slot),
                    cleared_price=0.0,
                    cleared_quantity=10.0,
                    status="CLEARED",
                )
            )
            parent = DispatchInstruction(
                id=new_id(), vpp_id=vpp, target_power=40.0, requested_power=40.0,
                start_time=slot_time(slot), end_time=slot_time(slot + 1),
                source="demand_response",
            )  # fmt: skip
            session.add(parent)
            await session.flush()
            session.add(
                DispatchInstruction(
                    id=new_id(),
                    parent_id=parent.id,
                    vpp_id=vpp,
                    resource_id=load["id"],
                    edge_id="edge-l",
                    device_id="load-1",
                    target_power=40.0,
                    requested_power=40.0,
                    start_time=slot_time(slot),
                    end_time=slot_time(slot + 1),
                    source="demand_response",
                )
            )
        await session.commit()
    r = await client.post(
        RUN,
        json={"vpp_id": vpp, "market_type": "DEMAND_RESPONSE",
              "trading_date": day.DAY.isoformat(), "rules": msgspec.to_builtins(day.RULES)},
        headers=auth("trader"),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    st = r.json()["statement"]
    lines = {line["slot"]: line for line in st["lines"]}
    assert abs(lines[72]["delivered_kwh"] - 11.0) < 1e-6
    assert Decimal(lines[72]["dr_yuan"]) == Decimal("42.00")
    assert lines[73]["flags"] == ["meter_missing"] and lines[73]["delivered_kwh"] is None
    assert Decimal(st["total_yuan"]) == Decimal("42.00") and st["gap_slots"] == [73]
