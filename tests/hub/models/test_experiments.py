"""Champion/challenger: a split by day or by VPP, decisions recorded per arm with both
arms' forecasts, metrics per arm, promotion by a significant Diebold-Mariano test or by
hand, every switch audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import NotFoundError
from hub.models import arm_for, serving_model
from hub.store import AiDecision, AuditEntry
from tests.hub.conftest import AuthFor

from .makers import FEATURES3, lightgbm_text, linear_data, onnx_linear, schema

MODELS = "/api/v1/vpp/ai-models"
URL = "/api/v1/vpp/ai-experiments"


async def register(
    client: AsyncTestClient[Litestar],
    h: dict[str, str],
    model_dir: Path,
    name: str,
    version: str,
    content: bytes,
) -> dict[str, Any]:
    (model_dir / f"{name}-{version}").write_bytes(content)
    r = await client.post(
        MODELS,
        json={
            "name": name,
            "model_type": "load_forecast",
            "version": version,
            "model_file_path": f"{name}-{version}",
            "input_schema": schema(FEATURES3),
            "output_schema": schema(["load_kw"]),
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_a_better_challenger_is_promoted_when_the_test_is_significant(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("trader")
    champion = await register(
        client, h, model_dir, "load", "1", lightgbm_text(offset=1.5)[0].encode()
    )
    challenger = await register(client, h, model_dir, "load", "2", lightgbm_text()[0].encode())
    r = await client.post(
        URL,
        json={
            "slot": "load.day_ahead",
            "champion_id": champion["id"],
            "challenger_id": challenger["id"],
            "split_by": "day",
            "challenger_share": 0.5,
            "auto_promote": True,
            "min_decisions": 8,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    experiment = r.json()
    r = await client.post(URL, json={**experiment, "slot": "other"}, headers=h)
    assert r.status_code == 400  # unknown fields (id, state...) are refused
    r = await client.post(
        URL,
        json={
            "slot": "load.day_ahead",
            "champion_id": champion["id"],
            "challenger_id": challenger["id"],
        },
        headers=h,
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "slot"

    served: dict[str, str] = {}
    for i in range(8):
        day = dt.date(2026, 5, 1) + dt.timedelta(days=i)
        x, y = linear_data(24, seed=100 + i)
        r = await client.post(
            f"{URL}/{experiment['id']}/forecast",
            json={
                "day": day.isoformat(),
                "input_data": {n: x[:, j].tolist() for j, n in enumerate(FEATURES3)},
            },
            headers=auth("operator"),
        )
        assert r.status_code == 200, r.text
        decision = r.json()
        expected = arm_for(experiment["id"], day.isoformat(), 0.5)
        assert decision["arm"] == expected
        assert decision["model_id"] == (challenger if expected == "challenger" else champion)["id"]
        assert len(decision["predictions"]["load_kw"]) == 24
        served[decision["decision_id"]] = decision["arm"]
        state = (await client.get(f"{URL}/{experiment['id']}", headers=h)).json()["state"]
        assert state == "RUNNING"  # not before min_decisions are resolved
        r = await client.post(
            f"{URL}/{experiment['id']}/decisions/{decision['decision_id']}/outcome",
            json={"actual": y.tolist(), "revenue": 100.0 + i},
            headers=auth("operator"),
        )
        assert r.status_code == 200, r.text

    out = r.json()
    assert out["state"] == "CONCLUDED" and out["winner_id"] == challenger["id"]
    assert (
        out["test"]["significant"]
        and out["test"]["n"] == 8
        and "Diebold-Mariano" in out["test"]["method"]
    )
    arms = out["arms"]
    assert arms["champion"]["decisions"] + arms["challenger"]["decisions"] == 8
    assert arms["challenger"]["shadow_mae"] < arms["champion"]["shadow_mae"]
    models = {m["id"]: m["status"] for m in (await client.get(MODELS, headers=h)).json()["items"]}
    assert models == {challenger["id"]: "ACTIVE", champion["id"]: "RETIRED"}
    async with db() as session:
        decisions = list(await session.scalars(select(AiDecision)))
        promoted = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "ai_experiment.promote")
            )
        )
    assert {d.id: d.arm for d in decisions} == served
    assert all(len(d.champion_forecast) == len(d.challenger_forecast) == 24 for d in decisions)
    assert len(promoted) == 1 and promoted[0].actor == "system"
    assert "Diebold-Mariano" in (promoted[0].after or {})["reason"]
    r = await client.post(f"{URL}/{experiment['id']}/forecast", json={"input_data": {}}, headers=h)
    assert r.status_code == 409


async def test_a_split_by_vpp_needs_the_vpp_and_a_promotion_by_hand_is_audited(
    client: AsyncTestClient[Litestar],
    auth: AuthFor,
    model_dir: Path,
    db: async_sessionmaker[AsyncSession],
) -> None:
    h = auth("trader")
    a = await register(client, h, model_dir, "price", "a", onnx_linear([1.0, 0.0, 0.0], 0.0))
    b = await register(client, h, model_dir, "price", "b", onnx_linear([0.0, 1.0, 0.0], 0.0))
    r = await client.post(
        URL,
        json={
            "slot": "strategy:s1",
            "champion_id": a["id"],
            "challenger_id": b["id"],
            "split_by": "vpp",
            "challenger_share": 1.0,
        },
        headers=h,
    )
    experiment = r.json()
    inputs = {"a": [1.0], "b": [2.0], "c": [3.0]}
    r = await client.post(
        f"{URL}/{experiment['id']}/forecast", json={"input_data": inputs}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "vpp_id"
    r = await client.post(
        f"{URL}/{experiment['id']}/forecast", json={"input_data": inputs, "vpp_id": "v1"}, headers=h
    )
    assert r.json()["arm"] == "challenger" and r.json()["predictions"]["load_kw"] == [2.0]
    r = await client.post(
        f"{URL}/{experiment['id']}/forecast",
        json={"input_data": {"a": [1.0]}, "vpp_id": "v1"},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_data.b"

    r = await client.post(
        f"{URL}/{experiment['id']}/promote", json={"winner_id": "other"}, headers=h
    )
    assert r.status_code == 422
    r = await client.post(
        f"{URL}/{experiment['id']}/promote", json={"winner_id": a["id"]}, headers=auth("operator")
    )
    assert r.status_code == 403
    r = await client.post(
        f"{URL}/{experiment['id']}/promote",
        json={"winner_id": a["id"], "reason": "revenue"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["winner_id"] == a["id"]
    r = await client.post(
        f"{URL}/{experiment['id']}/promote", json={"winner_id": a["id"]}, headers=h
    )
    assert r.status_code == 409
    async with db() as session:
        actions = [
            (e.action, e.entity_id, (e.after or {}).get("status"))
            for e in await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action != "ai_model.register")
                .order_by(AuditEntry.id)
            )
        ]
    assert actions[0][0] == "ai_experiment.create"
    assert ("ai_model.status", a["id"], "ACTIVE") in actions and (
        "ai_model.status",
        b["id"],
        "RETIRED",
    ) in actions
    assert actions[-1][0] == "ai_experiment.promote"
    async with db() as session:  # concluded: the slot falls back to the type's ACTIVE version
        serving = await serving_model(session, slot="strategy:s1", model_type="load_forecast")
        assert (serving.model_id, serving.arm) == (a["id"], None)
        pinned = await serving_model(
            session, slot="strategy:s1", model_type="load_forecast", model_version="a"
        )
        assert pinned.model_id == a["id"]
        with pytest.raises(NotFoundError):
            await serving_model(
                session, slot="strategy:s1", model_type="load_forecast", model_version="b"
            )
