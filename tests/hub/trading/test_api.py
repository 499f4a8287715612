"""Seed 4.3.1-4.3.2 routes: market connectors (credentials never in clear), market data,
submit-bid with the seed's fields and units, results, risk limits; every bad input
refused with a problem naming its rule and nothing stored. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store import AuditEntry, BidSubmissionRow, MarketConnectorRow, TradingRecord, Vpp
from protocol.clock import ManualClock
from tests.hub.conftest import AuthFor

from .conftest import DAY, Market

Client = AsyncTestClient[Litestar]
SUBMIT = "/api/v1/vpp/trading/submit-bid"


def body(market: Market, bids: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "vpp_id": market.vpp["id"],
        "market_type": "SPOT",
        "trading_date": DAY.isoformat(),
        "bids": bids,
        **extra,
    }


ARBITRAGE: list[dict[str, Any]] = [
    {"time_slot": "02:30-02:45", "price": 0.11, "quantity": -25},  # buy 100 kW
    {"time_slot": "17:30-17:45", "price": 0.72, "quantity": 25},  # sell 100 kW
    {"time_slot": 71, "price": 0.72, "quantity": 25},
]


async def stored(db: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with db() as session:
        subs = await session.scalar(select(func.count()).select_from(BidSubmissionRow))
        records = await session.scalar(select(func.count()).select_from(TradingRecord))
        return int(subs or 0), int(records or 0)


def rules_of(r: Any) -> list[str]:
    return [e.get("rule", "") for e in r.json().get("errors", [])]


async def test_connector_credentials_are_encrypted_and_only_their_keys_shown(
    tclient: Client, tauth: AuthFor, market: Market, db: async_sessionmaker[AsyncSession],
    trading_app: Litestar,
) -> None:  # fmt: skip
    r = await tclient.get("/api/v1/vpp/market-connectors", headers=tauth("viewer"))
    assert r.status_code == 200
    [shown] = r.json()
    assert shown["auth_config"] == {"api_key": "***", "user": "***"}
    assert shown["trading_rules"]["offer_cap_yuan_mwh"] == 1300
    assert "s3cret-value" not in r.text
    async with db() as session:
        row = await session.get(MarketConnectorRow, market.id)
        assert row is not None and row.auth_config is not None
        assert b"s3cret-value" not in row.auth_config
        config = trading_app.state.hub.markets.config(row)
    assert config.auth == {"api_key": "s3cret-value", "user": "vpp-a"}


async def test_connector_writes_need_a_trader_and_valid_rules(
    tclient: Client, tauth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    new = {"name": "x", "market_type": "SPOT", "api_endpoint": "sim://x"}
    r = await tclient.post("/api/v1/vpp/market-connectors", json=new, headers=tauth("viewer"))
    assert r.status_code == 403
    r = await tclient.post("/api/v1/vpp/market-connectors", json=new, headers=tauth("operator"))
    assert r.status_code == 403
    bad = new | {"trading_rules": {"offer_floor_yuan_mwh": 900, "offer_cap_yuan_mwh": 800}}
    r = await tclient.post("/api/v1/vpp/market-connectors", json=bad, headers=tauth("trader"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "trading_rules.offer_floor_yuan_mwh"
    typo = new | {"trading_rules": {"offer_capp": 1}}
    r = await tclient.post("/api/v1/vpp/market-connectors", json=typo, headers=tauth("trader"))
    assert r.status_code == 422, r.text
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(MarketConnectorRow)) == 0
    r = await tclient.post("/api/v1/vpp/market-connectors", json=new, headers=tauth("trader"))
    assert r.status_code == 201, r.text
    async with db() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "create_market_connector")
        )
        assert entry is not None and entry.actor == "trader-user"


async def test_realtime_gives_the_current_slot_in_seed_units(
    tclient: Client, tauth: AuthFor, market: Market
) -> None:
    # 00:00 UTC is 08:00 in Shanghai: slot 32 of 2 Dec, 300 yuan/MWh, 1032 MWh.
    r = await tclient.get(f"/api/v1/vpp/market-data/{market.id}/realtime", headers=tauth("viewer"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["price"], got["volume"], got["market_status"]) == (0.3, 1_032_000.0, "OPEN")
    assert got["timestamp"].startswith("2026-12-02T00:00:00")
    assert (got["trading_date"], got["slot"]) == ("2026-12-02", 32)
    market.exchange.garbage = True  # the stored reading stands in for a failing market
    r = await tclient.get(f"/api/v1/vpp/market-data/{market.id}/realtime", headers=tauth("viewer"))
    assert r.status_code == 200 and r.json()["price"] == 0.3
    market.exchange.garbage = False
    market.exchange.prices.clear()
    r = await tclient.get(
        f"/api/v1/vpp/market-data/{market.id}/history",
        params={"start": "2026-12-05T00:00:00Z", "end": "2026-12-05T01:00:00Z"},
        headers=tauth("viewer"),
    )
    assert r.status_code == 200 and r.json()["points"] == []


async def test_history_reads_and_stores_the_day(
    tclient: Client, tauth: AuthFor, market: Market
) -> None:
    params = {"start": "2026-12-02T16:00:00Z", "end": "2026-12-03T16:00:00Z"}  # 3 Dec local
    r = await tclient.get(
        f"/api/v1/vpp/market-data/{market.id}/history", params=params, headers=tauth("viewer")
    )
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert len(points) == 96
    assert [p["slot"] for p in points[:2]] == [0, 1]
    assert points[70]["price"] == 0.8 and points[10]["price"] == 0.1
    market.exchange.hang = True  # stored now: no market call needed
    r = await tclient.get(
        f"/api/v1/vpp/market-data/{market.id}/history", params=params, headers=tauth("viewer")
    )
    assert r.status_code == 200 and len(r.json()["points"]) == 96
    r = await tclient.get(
        f"/api/v1/vpp/market-data/{market.id}/history",
        params=params | {"refresh": "true"},
        headers=tauth("viewer"),
    )
    assert r.status_code == 200 and len(r.json()["points"]) == 96  # timed out: stored ones


async def test_submit_bid_converts_seed_units_and_records_every_bid(
    tclient: Client, tauth: AuthFor, market: Market, db: async_sessionmaker[AsyncSession]
) -> None:
    r = await tclient.post(SUBMIT, json=body(market, ARBITRAGE), headers=tauth("trader"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "SUBMITTED" and out["duplicate"] is False
    table = sorted(
        (x["time_slot"], x["bid_price"], x["bid_quantity"], x["status"]) for x in out["records"]
    )
    assert table == [
        ("02:30-02:45", 0.11, -25.0, "SUBMITTED"),
        ("17:30-17:45", 0.72, 25.0, "SUBMITTED"),
        ("17:45-18:00", 0.72, 25.0, "SUBMITTED"),
    ]
    [sent] = market.exchange.submissions.values()
    assert sorted((b.slot, b.side, b.quantity_kw, b.price_yuan_mwh) for b in sent.bids) == [
        (10, "buy", 100.0, 110.0),
        (70, "sell", 100.0, 720.0),
        (71, "sell", 100.0, 720.0),
    ]
    assert sent.storage is not None and sent.storage.energy_kwh == 400.0
    r = await tclient.get(
        "/api/v1/vpp/trading/results",
        params={"vpp_id": market.vpp["id"], "trading_date": DAY.isoformat(), "market_type": "SPOT"},
        headers=tauth("viewer"),
    )
    assert r.status_code == 200 and len(r.json()) == 3
    r = await tclient.get(
        "/api/v1/vpp/trading/results",
        params={"trading_date": "2026-12-04"},
        headers=tauth("viewer"),
    )
    assert r.json() == []
    async with db() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("trading_record_submitted") == 3 and "submit_bid" in actions


async def refused(
    tclient: Client, h: dict[str, str], payload: dict[str, Any], status: int
) -> list[str]:
    r = await tclient.post(SUBMIT, json=payload, headers=h)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return rules_of(r)


async def test_bad_bids_name_their_rule_and_store_nothing(
    tclient: Client,
    tauth: AuthFor,
    market: Market,
    db: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    h = tauth("trader")
    one = {"time_slot": "02:30-02:45", "price": 0.11, "quantity": -25}
    q0 = "00:00-00:15"
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"time_slot": "24:00-24:15", "price": 0.3, "quantity": 5}, 422, "slot_range", "time_slot"),
        ({"time_slot": "00:07-00:22", "price": 0.3, "quantity": 5}, 422, "slot_range", "time_slot"),
        ({"time_slot": 96, "price": 0.3, "quantity": 5}, 422, "slot_range", "time_slot"),
        ({"time_slot": q0, "price": 1.4, "quantity": 5}, 422, "offer_cap", "price"),
        ({"time_slot": q0, "price": -0.1, "quantity": 5}, 422, "offer_floor", "price"),
        ({"time_slot": q0, "price": 0.3, "quantity": 51}, 422, "available_capacity", "quantity"),
        ({"time_slot": q0, "price": 0.3, "quantity": -51}, 422, "available_capacity", "quantity"),
        ({"time_slot": q0, "price": None, "quantity": 5}, 422, "price_required", "price"),
        ({"time_slot": q0, "price": 0.3, "quantity": 0}, 422, "quantity", "quantity"),
    ]
    for bid, status, rule, field in cases:
        r = await tclient.post(SUBMIT, json=body(market, [one, bid]), headers=h)
        assert r.status_code == status, (bid, r.text)
        errors = r.json()["errors"]
        assert [e["rule"] for e in errors] == [rule], (bid, errors)
        assert errors[0]["field"] == f"bids[1].{field}", errors
        assert rule in r.json()["detail"]
    assert await stored(db) == (0, 0)
    assert market.exchange.submissions == {}
    # Duplicate: the same slots again (and any overlapping set) is a 409.
    r = await tclient.post(SUBMIT, json=body(market, [one]), headers=h)
    assert r.status_code == 201, r.text
    assert await refused(tclient, h, body(market, [one]), 409) == ["duplicate_submission"]
    both = [one, {"time_slot": "03:00", "price": 0.1, "quantity": -5}]
    assert await refused(tclient, h, body(market, both), 409) == ["duplicate_submission"]
    assert await stored(db) == (1, 1)
    # Late: after 10:00 local on D-1.
    clock.advance(2 * 3600)
    late = body(market, [{"time_slot": "05:00-05:15", "price": 0.3, "quantity": 5}])
    assert await refused(tclient, h, late, 422) == ["gate_closure"]
    # Inactive VPP.
    async with db() as session:
        await session.execute(
            update(Vpp).where(Vpp.id == market.vpp["id"]).values(status="INACTIVE")
        )
        await session.commit()
    next_day = late | {"trading_date": (DAY + dt.timedelta(days=1)).isoformat()}
    assert await refused(tclient, h, next_day, 409) == ["vpp_inactive"]
    assert await stored(db) == (1, 1)
    # Roles: viewers and operators read only.
    for role in ("viewer", "operator"):
        r = await tclient.post(SUBMIT, json=next_day, headers=tauth(role))
        assert r.status_code == 403


async def test_risk_limits_refuse_a_trader_bid_naming_the_limit(
    tclient: Client, tauth: AuthFor, market: Market, db: async_sessionmaker[AsyncSession]
) -> None:
    vpp = market.vpp["id"]
    r = await tclient.get(f"/api/v1/vpp/trading/risk-limits/{vpp}", headers=tauth("viewer"))
    assert r.status_code == 200 and r.json()["max_capacity_share"] == 1.0
    limits = {"max_position_kw": 150, "max_capacity_share": 0.9, "max_price_deviation": 0.5}
    r = await tclient.put(
        f"/api/v1/vpp/trading/risk-limits/{vpp}", json=limits, headers=tauth("operator")
    )
    assert r.status_code == 403
    r = await tclient.put(
        f"/api/v1/vpp/trading/risk-limits/{vpp}", json=limits, headers=tauth("trader")
    )
    assert r.status_code == 200, r.text
    # The forecast for 3 Dec is known once market data is stored.
    await tclient.get(
        f"/api/v1/vpp/market-data/{market.id}/history",
        params={"start": "2026-12-02T16:00:00Z", "end": "2026-12-03T16:00:00Z"},
        headers=tauth("viewer"),
    )
    h = tauth("trader")
    # 45 kWh = 180 kW: beyond 90 % of 200 kW (180 is the share: 190 kW breaks it) ...
    share = body(market, [{"time_slot": "00:00-00:15", "price": 0.3, "quantity": 47.5}])
    assert await refused(tclient, h, share, 422) == ["capacity_share", "position_limit"]
    position = body(market, [{"time_slot": "00:00-00:15", "price": 0.3, "quantity": 40}])
    assert await refused(tclient, h, position, 422) == ["position_limit"]
    # The forecast of slot 70 is 800: 0.5 x 800 = 400 either side, so 1.25 breaks it.
    price = body(market, [{"time_slot": "17:30-17:45", "price": 1.25, "quantity": 5}])
    assert await refused(tclient, h, price, 422) == ["price_deviation"]
    assert await stored(db) == (0, 0)
    ok = body(market, [{"time_slot": "17:30-17:45", "price": 1.1, "quantity": 37.5}])
    r = await tclient.post(SUBMIT, json=ok, headers=h)
    assert r.status_code == 201, r.text
    async with db() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "set_risk_limits")
        )
        assert entry is not None and entry.after is not None
        assert entry.after["max_position_kw"] == 150


async def test_a_market_that_hangs_keeps_the_submission_pending_and_resends_the_same_key(
    tclient: Client, tauth: AuthFor, market: Market, db: async_sessionmaker[AsyncSession]
) -> None:
    h = tauth("trader")
    market.exchange.hang = True
    r = await tclient.post(SUBMIT, json=body(market, ARBITRAGE), headers=h)
    assert r.status_code == 503, r.text
    async with db() as session:
        [sub] = list(await session.scalars(select(BidSubmissionRow)))
        assert sub.status == "PENDING" and "ConnectorTimeoutError" in (sub.error or "")
    market.exchange.hang = False
    r = await tclient.post(SUBMIT, json=body(market, ARBITRAGE), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["submission_id"] == sub.id
    assert len(market.exchange.submissions) == 1
    market.exchange.garbage = True
    again = body(market, [{"time_slot": "10:00", "price": 0.3, "quantity": 5}])
    r = await tclient.post(SUBMIT, json=again, headers=h)
    assert r.status_code == 503 and "garbage" not in r.json()["detail"][:0]
    r = await tclient.get(f"/api/v1/vpp/trading/breaker/{market.vpp['id']}", headers=h)
    assert r.status_code == 200 and r.json()["recent_errors"] == 2


async def test_a_sim_connector_is_built_from_its_endpoint_without_wiring(
    tclient: Client, tauth: AuthFor
) -> None:
    r = await tclient.post(
        "/api/v1/vpp/market-connectors",
        json={
            "name": "sim",
            "market_type": "SPOT",
            "api_endpoint": "sim://shandong",
            "trading_rules": {"offer_floor_yuan_mwh": -80, "offer_cap_yuan_mwh": 1300,
                              "clearing_floor_yuan_mwh": -100},
        },
        headers=tauth("trader"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await tclient.get(
        f"/api/v1/vpp/market-data/{r.json()['id']}/realtime", headers=tauth("viewer")
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["market_status"] == "CLEARED" and got["slot"] == 32  # 2 Dec 08:00 local
    assert -0.1 <= got["price"] <= 1.5 and got["volume"] > 0
