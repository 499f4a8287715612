"""Small API helpers for hub tests."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


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
