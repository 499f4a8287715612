"""Training a built-in forecaster through the API: an asynchronous task with progress, both
the forecaster and its seasonal-naive baseline in the registry with their metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import Settings
from hub._settings import mqtt_client_id
from hub.app import create_app
from hub.models import SLOTS, day_features
from hub.store import AiTrainingTask, MarketConnectorRow, MarketDataPoint, Telemetry
from tests.hub.conftest import AuthFor, wait_until

from .makers import synthetic_prices

URL = "/api/v1/vpp/ai-models"
START = dt.date(2026, 3, 1)


async def finished(
    client: AsyncTestClient[Litestar], h: dict[str, str], task_id: str
) -> dict[str, Any]:
    async def done() -> bool:
        r = await client.get(f"{URL}/training-tasks/{task_id}", headers=h)
        return r.json()["state"] in {"DONE", "FAILED"}

    await wait_until(done, step=0.1)
    task: dict[str, Any] = (await client.get(f"{URL}/training-tasks/{task_id}", headers=h)).json()
    return task


async def test_a_price_forecaster_is_trained_registered_beside_its_baseline_and_predicts(
    client: AsyncTestClient[Litestar], auth: AuthFor
) -> None:
    h = auth("trader")
    prices = synthetic_prices(40, seed=2, start=START)
    r = await client.post(
        f"{URL}/train",
        json={
            "kind": "price",
            "series": prices.tolist(),
            "start": START.isoformat(),
            "folds": 2,
            "rounds": 20,
        },
        headers=h,
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "PENDING"
    task = await finished(client, h, r.json()["id"])
    assert task["state"] == "DONE", task
    assert task["progress"] == 1.0 and "seasonal naive" in task["message"]

    model = (await client.get(f"{URL}/{task['model_id']}", headers=h)).json()
    assert model["format"] == "lightgbm" and model["model_type"] == "price_forecast"
    assert model["created_by"] == "trader-user"
    for key in ("mae", "rmse", "pinball", "coverage"):
        assert model["metrics"][key] > 0 and model["metrics"]["baseline"][key] > 0
    assert model["baseline"]["id"] == task["baseline_id"]
    assert model["baseline"]["format"] == "seasonal_naive"
    listed = (await client.get(URL, params={"model_type": "price_forecast"}, headers=h)).json()
    assert {m["id"] for m in listed["items"]} == {task["model_id"], task["baseline_id"]}

    target = START + dt.timedelta(days=40)
    input_data = day_features(prices[-7 * SLOTS :], target)
    for model_id in (task["model_id"], task["baseline_id"]):
        r = await client.post(
            f"{URL}/{model_id}/predict", json={"input_data": input_data}, headers=h
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["predictions"]["price"]) == SLOTS
        band = out["intervals"]["price"]
        assert np.all(np.array(band["upper"]) > np.array(band["lower"]))
        assert out["confidence"] == 0.9
    naive = r.json()["predictions"]["price"]
    # the baseline of a Tuesday (weekday 1... target's weekday decides) is a lag of the history
    lag = 7 if target.weekday() in {0, 5, 6} else 1
    np.testing.assert_allclose(naive, prices[len(prices) - lag * SLOTS :][:SLOTS])


async def test_a_load_forecaster_trains_from_telemetry_and_a_task_without_data_fails(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("admin")
    days = 20
    t0 = int(dt.datetime.combine(START, dt.time(), dt.UTC).timestamp() * 1000)
    load_w = 1000 * (50 + 20 * np.sin(np.arange(days * SLOTS) * 2 * np.pi / SLOTS))
    async with db() as session:
        session.add_all(
            Telemetry(
                tenant="default",
                edge_id="e1",
                sid=1,
                seq=i,
                idx=0,
                device_id="meter",
                name="p_w",
                ts_ms=t0 + i * 900_000 + 60_000,
                value=float(v),
            )
            for i, v in enumerate(load_w)
        )
        await session.commit()
    body = {
        "kind": "load",
        "edge_id": "e1",
        "device_id": "meter",
        "start": START.isoformat(),
        "end": (START + dt.timedelta(days=days - 1)).isoformat(),
        "folds": 2,
        "rounds": 10,
    }
    task = await finished(
        client, h, (await client.post(f"{URL}/train", json=body, headers=h)).json()["id"]
    )
    assert task["state"] == "DONE", task
    model = (await client.get(f"{URL}/{task['model_id']}", headers=h)).json()
    assert model["model_type"] == "load_forecast" and model["metrics"]["mae"] < 5.0  # kW

    r = await client.post(f"{URL}/train", json={**body, "device_id": "nothing"}, headers=h)
    task = await finished(client, h, r.json()["id"])
    assert task["state"] == "FAILED" and "days" in task["message"]
    r = await client.post(f"{URL}/train", json={"kind": "pv", "start": "2026-01-01"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "edge_id"
    r = await client.post(f"{URL}/train", json=body, headers=auth("viewer"))
    assert r.status_code == 403


async def test_a_price_forecaster_trains_from_the_market_data_the_hub_stored(
    client: AsyncTestClient[Litestar], auth: AuthFor, db: async_sessionmaker[AsyncSession]
) -> None:
    h = auth("trader")
    days = 30
    prices = synthetic_prices(days, seed=4, start=START)
    midnight = dt.datetime.combine(START, dt.time(), ZoneInfo("Asia/Shanghai")).astimezone(dt.UTC)
    async with db() as session:
        session.add(
            MarketConnectorRow(
                id="sd-spot",
                name="shandong",
                market_type="SPOT",
                api_endpoint="sim://",
                trading_rules={"timezone": "Asia/Shanghai", "slot_minutes": 15},
            )
        )
        await session.flush()
        session.add_all(
            MarketDataPoint(
                connector_id="sd-spot",
                market_type="SPOT",
                slot_start=midnight + dt.timedelta(minutes=15 * i),
                price_yuan_mwh=float(p),
                volume_mwh=1.0,
                market_status="CLEARED",
            )
            for i, p in enumerate(prices)
        )
        await session.commit()
    body = {
        "kind": "price",
        "market": "shandong",
        "start": START.isoformat(),
        "end": (START + dt.timedelta(days=days - 1)).isoformat(),
        "folds": 2,
        "rounds": 20,
    }
    r = await client.post(f"{URL}/train", json=body, headers=h)
    assert r.status_code == 202, r.text
    task = await finished(client, h, r.json()["id"])
    assert task["state"] == "DONE", task
    model = (await client.get(f"{URL}/{task['model_id']}", headers=h)).json()
    assert model["metrics"]["train_days"] == days - 7  # every day with a week of history
    assert model["metrics"]["mae"] < model["metrics"]["baseline"]["mae"] * 1.5
    r = await client.post(f"{URL}/train", json={**body, "market": "nowhere"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "market"
    r = await client.post(f"{URL}/train", json={"kind": "price"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "market"


async def test_a_restart_fails_its_own_unfinished_tasks_and_not_another_replicas(
    settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    me = mqtt_client_id(settings)
    async with db() as session:
        for task_id, state, worker in [
            ("mine-running", "RUNNING", me),
            ("mine-pending", "PENDING", me),
            ("theirs", "RUNNING", "lingtan-hub-other-8080"),
            ("done", "DONE", me),
        ]:
            session.add(
                AiTrainingTask(id=task_id, kind="price", state=state, request={"worker": worker})
            )
        await session.commit()
    async with AsyncTestClient(app=create_app(settings)):
        pass
    async with db() as session:
        states = {t.id: t.state for t in await session.scalars(select(AiTrainingTask))}
    assert states == {
        "mine-running": "FAILED",
        "mine-pending": "FAILED",
        "theirs": "RUNNING",
        "done": "DONE",
    }
