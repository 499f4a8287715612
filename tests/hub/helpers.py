"""Small API helpers for hub tests, and the hub's context without its app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from hub import Settings
from hub._context import HubContext
from hub._metrics import Metrics
from hub.auth import TokenService
from hub.store import LiveCache, create_engine, sessionmaker
from protocol.clock import Clock, RealClock
from tests.hub.conftest import wait_until

Client = AsyncTestClient[Litestar]


@contextlib.asynccontextmanager
async def running_hub(app: Litestar) -> AsyncIterator[Client]:
    """The app under a test client, once its MQTT link is up (``/readyz`` says so)."""
    async with AsyncTestClient(app=app) as client:

        async def connected() -> bool:
            return bool((await client.get("/readyz")).json()["mqtt"])

        await wait_until(connected)
        yield client


@contextlib.asynccontextmanager
async def hub_context(db_url: str, clock: Clock | None = None) -> AsyncIterator[HubContext]:
    """The hub's context without its app, on an engine of its own (what a service, a
    connector or the ingest bus holds; the test client runs the app in its own loop), on
    ``clock`` (default: the real one)."""
    engine = create_engine(db_url)
    try:
        yield HubContext(
            settings=Settings(db_url=db_url, mqtt_url=None),
            clock=clock or RealClock(),
            engine=engine,
            sessions=sessionmaker(engine),
            cache=LiveCache(),
            tokens=TokenService("s" * 40, 60),
            metrics=Metrics(),
        )
    finally:
        await engine.dispose()


async def presets(client: Client, headers: dict[str, str]) -> dict[str, str]:
    """Preset template ids by type."""
    r = await client.get("/api/v1/vpp/resource-templates", params={"size": 100}, headers=headers)
    assert r.status_code == 200, r.text
    return {t["type"]: t["id"] for t in r.json()["items"]}


async def make_battery(
    client: Client,
    headers: dict[str, str],
    *,
    name: str = "bess",
    kw: float = 100.0,
    kwh: float = 200.0,
    edge: str | None = "park-a",
    device: str | None = "bess-1",
    edge_tenant: str | None = None,
    **params: Any,
) -> dict[str, Any]:
    ids = await presets(client, headers)
    body: dict[str, Any] = {
        "template_id": ids["battery_storage"],
        "name": name,
        "capacity": kw,
        "parameters": {"rated_kw": kw, "rated_kwh": kwh, **params},
    }
    if edge is not None:
        body |= {"edge_id": edge, "device_id": device}
    if edge_tenant is not None:
        body["edge_tenant"] = edge_tenant
    r = await client.post("/api/v1/vpp/resource-instances", json=body, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def set_status(client: Client, headers: dict[str, str], iid: str, status: str) -> None:
    r = await client.put(
        f"/api/v1/vpp/resource-instances/{iid}/status",
        json={"status": status, "reason": "test"},
        headers=headers,
    )
    assert r.status_code == 200, r.text


async def make_vpp(
    client: Client, headers: dict[str, str], resource_ids: list[str], market: str = "SPOT"
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/vpp/vpps",
        json={
            "name": "vpp",
            "description": "",
            "market_type": market,
            "resource_ids": resource_ids,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result
