"""Strategies API (seed 4.2.1): fields, filters, config validation with paths, RBAC and
the lifecycle (who, when; every transition audited)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth import Role
from hub.store import AuditEntry, StrategyBacktest, TradingStrategy, new_id
from hub.strategy import config_digest, suspend_strategy
from tests.hub.conftest import AuthFor
from tests.hub.helpers import make_vpp

URL = "/api/v1/vpp/strategies"
READERS: tuple[Role, ...] = ("viewer", "operator")
Client = AsyncTestClient[Litestar]

RULES: dict[str, Any] = {
    "rules": [
        {
            "name": "evening peak",
            "priority": 10,
            "conditions": [
                {"field": "price_forecast", "operator": ">", "value": 600},
                {"field": "time_of_day", "operator": "between", "value": ["17:00", "21:00"]},
            ],
            "actions": [
                {
                    "type": "bid",
                    "parameters": {
                        "side": "sell",
                        "quantity_kw": "available",
                        "price_yuan_mwh": 550,
                    },
                }
            ],
        }
    ],
    "model_config": {
        "model_type": "lgbm",
        "model_version": "7",
        "input_features": ["price"],
        "output_targets": ["price"],
    },
}


async def _strategy(
    client: Client, h: dict[str, str], vpp_id: str, *, name: str = "s", type_: str = "RULE_BASED"
) -> dict[str, Any]:
    config = RULES if type_ != "AI_DRIVEN" else {"optimiser": {"risk_weight": 0.0}}
    r = await client.post(
        URL,
        json={"name": name, "vpp_id": vpp_id, "strategy_type": type_, "config": config},
        headers=h,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _put(client: Client, h: dict[str, str], sid: str, **body: Any) -> Any:
    return await client.put(f"{URL}/{sid}", json=body, headers=h)


async def _finished_backtest(db: async_sessionmaker[AsyncSession], sid: str) -> None:
    """A COMPLETED backtest of the strategy's current config, as the worker leaves it."""
    async with db() as session:
        row = await session.get(TradingStrategy, sid)
        assert row is not None
        session.add(
            StrategyBacktest(
                id=new_id(),
                strategy_id=sid,
                status="COMPLETED",
                start_date=dt.date(2025, 1, 1),
                end_date=dt.date(2025, 1, 7),
                market_data_source="synthetic",
                strategy_type=row.strategy_type,
                config=row.config,
                config_digest=config_digest(row.strategy_type, row.config),
                fleet={"batteries": []},
            )
        )
        await session.commit()


async def test_create_list_filter_and_page_with_the_seed_fields(
    client: Client, auth: AuthFor
) -> None:
    h = auth("trader")
    vpp = await make_vpp(client, auth("admin"), [])
    other = await make_vpp(client, auth("admin"), [])
    a = await _strategy(client, h, vpp["id"], name="a")
    assert set(a) == {
        "id", "name", "vpp_id", "strategy_type", "config", "model_version", "status",
        "performance_metrics", "created_at", "updated_at",
    }  # fmt: skip
    assert a["status"] == "DRAFT" and a["model_version"] == "7" and a["config"] == RULES
    await _strategy(client, h, vpp["id"], name="b", type_="AI_DRIVEN")
    await _strategy(client, h, other["id"], name="c", type_="HYBRID")
    viewer = auth("viewer")
    page = (await client.get(URL, params={"size": 2}, headers=viewer)).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["size"] == 2
    page2 = (await client.get(URL, params={"size": 2, "page": 2}, headers=viewer)).json()
    assert len(page2["items"]) == 1
    names = {s["name"] for s in page["items"] + page2["items"]}
    assert names == {"a", "b", "c"}
    by_vpp = (await client.get(URL, params={"vpp_id": vpp["id"]}, headers=viewer)).json()
    assert {s["name"] for s in by_vpp["items"]} == {"a", "b"}
    by_type = (await client.get(URL, params={"strategy_type": "HYBRID"}, headers=viewer)).json()
    assert [s["name"] for s in by_type["items"]] == ["c"]
    drafts = (await client.get(URL, params={"status": "DRAFT"}, headers=viewer)).json()
    assert drafts["total"] == 3
    assert (await client.get(URL, params={"status": "ACTIVE"}, headers=viewer)).json()["total"] == 0
    assert (await client.get(f"{URL}/{a['id']}", headers=viewer)).json()["name"] == "a"
    assert (await client.get(f"{URL}/nope", headers=viewer)).status_code == 404
    r = await client.get(URL, params={"status": "RUNNING"}, headers=viewer)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"


async def test_viewers_and_operators_read_traders_and_admins_write(
    client: Client, auth: AuthFor
) -> None:
    vpp = await make_vpp(client, auth("admin"), [])
    body = {"name": "x", "vpp_id": vpp["id"], "strategy_type": "RULE_BASED", "config": RULES}
    for role in READERS:
        r = await client.post(URL, json=body, headers=auth(role))
        assert r.status_code == 403, role
    s = await _strategy(client, auth("admin"), vpp["id"])
    for role in READERS:
        assert (await _put(client, auth(role), s["id"], name="y")).status_code == 403
        assert (await client.get(URL, headers=auth(role))).json()["total"] == 1
    r = await _put(client, auth("trader"), s["id"], name="renamed")
    assert r.status_code == 200 and r.json()["name"] == "renamed"


async def test_a_bad_config_is_refused_with_the_path_of_every_problem_and_nothing_stored(
    client: Client, auth: AuthFor
) -> None:
    h = auth("trader")
    vpp = await make_vpp(client, auth("admin"), [])
    bad = {
        "rules": [
            {
                "conditions": [{"field": "price", "operator": "in", "value": [1]}],
                "actions": [{"type": "charge", "parameters": {"power_kw": -5}}],
            },
            {
                "conditions": [{"field": "soc", "operator": ">", "value": "high"}],
                "actions": [{"type": "notify", "parameters": {"message": "x"}}],
            },
        ]
    }
    r = await client.post(
        URL,
        json={"name": "x", "vpp_id": vpp["id"], "strategy_type": "RULE_BASED", "config": bad},
        headers=h,
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("invalid-input")
    paths = [e["path"] for e in problem["errors"]]
    assert "rules[0].conditions[0].operator" in paths
    assert "rules[0].actions[0].parameters.power_kw" in paths
    assert "rules[1].conditions[0].value" in paths
    assert {e["field"] for e in problem["errors"]} >= {"config.rules[1].conditions[0].value"}
    # The type decides too: a RULE_BASED strategy needs a rule, an AI_DRIVEN one takes none.
    r = await client.post(
        URL,
        json={"name": "x", "vpp_id": vpp["id"], "strategy_type": "RULE_BASED", "config": {}},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "rules"
    r = await client.post(
        URL,
        json={"name": "x", "vpp_id": vpp["id"], "strategy_type": "AI_DRIVEN", "config": RULES},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "rules"
    r = await client.post(
        URL,
        json={"name": "x", "vpp_id": "no-such-vpp", "strategy_type": "RULE_BASED", "config": RULES},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "vpp_id"
    r = await client.post(
        URL,
        json={"name": "x", "vpp_id": vpp["id"], "strategy_type": "MAGIC", "config": RULES},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "strategy_type"
    r = await client.post(
        URL,
        json={
            "name": "x",
            "vpp_id": vpp["id"],
            "strategy_type": "RULE_BASED",
            "config": RULES,
            "x": 1,
        },
        headers=h,
    )
    assert r.status_code == 400
    assert (await client.get(URL, headers=h)).json()["total"] == 0
    # On update too, and the stored config stays as it was.
    s = await _strategy(client, h, vpp["id"])
    r = await _put(client, h, s["id"], config=bad, name="changed")
    assert r.status_code == 422 and "rules[1].conditions[0].value" in [
        e["path"] for e in r.json()["errors"]
    ]
    stored = (await client.get(f"{URL}/{s['id']}", headers=h)).json()
    assert stored["config"] == RULES and stored["name"] == "s"


async def test_the_lifecycle_needs_a_finished_backtest_to_go_active_and_audits_every_transition(
    app: Litestar, client: Client, auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("trader")
    vpp = await make_vpp(client, auth("admin"), [])
    s = await _strategy(client, h, vpp["id"])
    sid = s["id"]
    r = await _put(client, h, sid, status="ACTIVE")
    assert r.status_code == 409 and "DRAFT -> ACTIVE is not a transition" in r.json()["detail"]
    assert (await _put(client, h, sid, status="TESTING")).json()["status"] == "TESTING"
    r = await _put(client, h, sid, status="ACTIVE")
    assert r.status_code == 409 and "finished (COMPLETED) backtest" in r.json()["detail"]
    await _finished_backtest(db, sid)
    r = await _put(client, h, sid, status="ACTIVE", reason="backtest ok")
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    # ACTIVE: the config is frozen (suspend first); the name is not.
    changed = RULES | {"model_config": {**RULES["model_config"], "model_version": "8"}}
    r = await _put(client, h, sid, config=changed)
    assert r.status_code == 409 and "suspend it" in r.json()["detail"]
    assert (await _put(client, h, sid, name="live")).status_code == 200
    # One ACTIVE strategy per VPP.
    t = await _strategy(client, h, vpp["id"], name="t")
    await _put(client, h, t["id"], status="TESTING")
    await _finished_backtest(db, t["id"])
    r = await _put(client, h, t["id"], status="ACTIVE")
    assert r.status_code == 409 and "already has an ACTIVE strategy" in r.json()["detail"]
    # The circuit breaker suspends (system actor), once; a second trip changes nothing.
    # (The hub's context on the test's own engine: the app's engine lives in its loop.)
    ctx = dataclasses.replace(app.state.hub, sessions=db)
    assert await suspend_strategy(ctx, sid, "loss limit hit") is True
    assert await suspend_strategy(ctx, sid, "again") is False
    assert (await client.get(f"{URL}/{sid}", headers=h)).json()["status"] == "SUSPENDED"
    # Back to ACTIVE by a trader, with the backtest of the unchanged config.
    assert (await _put(client, h, sid, status="ACTIVE")).json()["status"] == "ACTIVE"
    assert (await _put(client, h, sid, status="SUSPENDED")).status_code == 200
    # A config changed while suspended has not been backtested: no way back to ACTIVE.
    assert (await _put(client, h, sid, config=changed)).status_code == 200
    r = await _put(client, h, sid, status="ACTIVE")
    assert r.status_code == 409 and "backtest" in r.json()["detail"]
    async with db() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "strategy", AuditEntry.entity_id == sid)
                .where(AuditEntry.action == "transition")
                .order_by(AuditEntry.id)
            )
        )
    moves = [
        (e.before["status"], e.after["status"], e.actor) for e in entries if e.before and e.after
    ]
    assert moves == [
        ("DRAFT", "TESTING", "trader-user"),
        ("TESTING", "ACTIVE", "trader-user"),
        ("ACTIVE", "SUSPENDED", "system"),
        ("SUSPENDED", "ACTIVE", "trader-user"),
        ("ACTIVE", "SUSPENDED", "trader-user"),
    ]
    assert entries[1].after is not None and entries[1].after["reason"] == "backtest ok"
    assert entries[2].after is not None and entries[2].after["reason"] == "loss limit hit"
