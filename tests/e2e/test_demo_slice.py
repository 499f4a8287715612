"""The whole slice on one machine, as `vpp demo` runs it: broker, park, hub, agent.

A dispatch posted to the hub's REST API travels hub -> MQTT (retained schedule) -> agent
-> SafetyGuard -> SunSpec 704 register of a simulated battery, which follows it; the
agent's telemetry flows back and ``execution-status`` reports the battery's actual power.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from lingtan.broker import mosquitto_binary
from lingtan.demo import DemoOptions, start_demo, status_line
from tests.support import SAFETY_TIMEOUT, service_missing

PASSWORD = "demo-password-1"
TARGET_KW = -120.0  # charge bess-1 at 120 kW


async def eventually(condition: Callable[[], bool], what: str, seconds: float) -> None:
    """Poll ``condition`` (bounded in time and count) until it holds."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_dispatch_through_the_api_reaches_a_simulated_battery(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    out = io.StringIO()
    options = DemoOptions(workdir=tmp_path / "demo", port=0, speed=10.0, password=PASSWORD)
    async with (
        asyncio.timeout(SAFETY_TIMEOUT * 8),
        start_demo(options, Console(file=out, width=200)) as demo,
        httpx.AsyncClient(base_url=demo.hub_url, timeout=SAFETY_TIMEOUT) as http,
    ):
        login = await http.post(
            "/api/v1/auth/login", json={"username": "demo", "password": PASSWORD}
        )
        assert login.status_code in {200, 201}, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

        runners = demo.agent.runners
        await eventually(
            lambda: all(r.status.value == "online" for r in runners.values()),
            "every device online at the agent",
            SAFETY_TIMEOUT * 2,
        )
        assert "online 11/11" in status_line(demo)

        bess = demo.instance_ids["bess-1"]
        instance: dict[str, object] = {}
        for _ in range(int(SAFETY_TIMEOUT * 2 / 0.2)):
            r = await http.get(f"/api/v1/vpp/resource-instances/{bess}")
            assert r.status_code == 200, r.text
            instance = r.json()
            if instance["status"] == "ONLINE":
                break
            await asyncio.sleep(0.2)
        assert instance["status"] == "ONLINE", instance

        params = await http.get(f"/api/v1/vpp/vpps/{demo.vpp_id}/aggregated-params")
        assert params.status_code == 200, params.text
        assert params.json()["total_capacity"] > 0

        response = await http.post(
            "/api/v1/vpp/trading/execute-dispatch",
            json={
                "vpp_id": demo.vpp_id,
                "dispatch_instructions": [
                    {"resource_id": bess, "target_power": TARGET_KW, "duration": 3600}
                ],
            },
        )
        assert response.status_code in {200, 201}, response.text
        body = response.json()
        assert body["published_edges"] == ["park-a"]
        instruction_id = body["instructions"][0]["instruction_id"]

        battery = demo.site.battery("bess-1")
        await eventually(
            lambda: abs(battery.p_w - TARGET_KW * 1000) < 2_000,
            "bess-1 to follow the dispatched power",
            SAFETY_TIMEOUT * 3,
        )
        assert battery.active_setpoint_w == TARGET_KW * 1000

        async def reported() -> dict[str, object]:
            r = await http.get(f"/api/v1/vpp/trading/execution-status/{instruction_id}")
            assert r.status_code == 200, r.text
            data: dict[str, object] = r.json()
            return data

        status: dict[str, object] = {}
        for _ in range(int(SAFETY_TIMEOUT * 3 / 0.2)):
            status = await reported()
            actual = status.get("actual_power")
            if isinstance(actual, float | int) and abs(actual - TARGET_KW) < 5:
                break
            await asyncio.sleep(0.2)
        assert status["instruction_id"] == instruction_id
        assert isinstance(status["actual_power"], float | int)
        assert abs(status["actual_power"] - TARGET_KW) < 5, status
        assert status["status"] in {"executing", "EXECUTING", "accepted", "ACCEPTED"}, status


async def test_a_vpp_level_target_is_split_over_members_and_met(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    options = DemoOptions(workdir=tmp_path / "demo", port=0, speed=10.0, password=PASSWORD)
    async with (
        asyncio.timeout(SAFETY_TIMEOUT * 8),
        start_demo(options, Console(file=io.StringIO(), width=200)) as demo,
        httpx.AsyncClient(base_url=demo.hub_url, timeout=SAFETY_TIMEOUT) as http,
    ):
        login = await http.post(
            "/api/v1/auth/login", json={"username": "demo", "password": PASSWORD}
        )
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        params: dict[str, float] = {}
        for _ in range(int(SAFETY_TIMEOUT * 2 / 0.2)):
            params = (await http.get(f"/api/v1/vpp/vpps/{demo.vpp_id}/aggregated-params")).json()
            if params["online_count"] == params["member_count"] > 0:
                break
            await asyncio.sleep(0.2)
        assert params["online_count"] == params["member_count"] == 5  # 2 batteries, 3 PV

        response = await http.post(
            "/api/v1/vpp/trading/execute-dispatch",
            json={
                "vpp_id": demo.vpp_id,
                "dispatch_instructions": [{"target_power": -300.0, "duration": 3600}],
            },
        )
        assert response.status_code == 201, response.text
        instruction = response.json()["instructions"][0]
        assert instruction["feasible_power"] == -300.0
        members = instruction["members"]
        assert {m["device_id"] for m in members} <= {"bess-1", "bess-2", "pv-1", "pv-2", "pv-3"}
        assert sum(m["target_power"] for m in members) == pytest.approx(-300.0, abs=0.01)

        def vpp_output_kw() -> float:
            site = demo.site
            names = site.names
            batteries = sum(site.battery(n).p_w for n in names if site.device_kind(n) == "battery")
            pv = sum(site.pv(n).p_w for n in names if site.device_kind(n) == "pv")
            return (batteries + pv) / 1e3

        await eventually(
            lambda: abs(vpp_output_kw() + 300.0) < 5.0,
            "the VPP's members to deliver -300 kW together",
            SAFETY_TIMEOUT * 3,
        )
        status: dict[str, object] = {}
        for _ in range(int(SAFETY_TIMEOUT * 3 / 0.2)):
            status = (
                await http.get(
                    f"/api/v1/vpp/trading/execution-status/{instruction['instruction_id']}"
                )
            ).json()
            actual = status.get("actual_power")
            if (
                status.get("status") == "executing"
                and isinstance(actual, float | int)
                and abs(actual + 300.0) < 5.0
            ):
                break
            await asyncio.sleep(0.2)
        assert status["status"] == "executing", status
        assert isinstance(status["actual_power"], float | int)
        assert abs(status["actual_power"] + 300.0) < 5.0, status


async def test_the_demo_trades_in_a_simulated_market(tmp_path: Path) -> None:
    """`vpp demo` comes with a simulated exchange (Shandong rules) the trading loop talks
    to, and an ACTIVE strategy for the VPP: the market answers with live data."""
    if mosquitto_binary() is None:
        service_missing("mosquitto is not installed")
    options = DemoOptions(workdir=tmp_path / "demo", port=0, speed=10.0, password=PASSWORD)
    async with (
        asyncio.timeout(SAFETY_TIMEOUT * 8),
        start_demo(options, Console(file=io.StringIO(), width=200)) as demo,
        httpx.AsyncClient(base_url=demo.hub_url, timeout=SAFETY_TIMEOUT) as http,
    ):
        login = await http.post(
            "/api/v1/auth/login", json={"username": "demo", "password": PASSWORD}
        )
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        connectors = (await http.get("/api/v1/vpp/market-connectors")).json()
        sim = [c for c in connectors if c["api_endpoint"] == "sim://shandong"]
        assert len(sim) == 1 and sim[0]["status"] == "ACTIVE", connectors
        strategies = await http.get("/api/v1/vpp/strategies", params={"vpp_id": demo.vpp_id})
        items = strategies.json()["items"]
        assert [s["status"] for s in items] == ["ACTIVE"], items
        realtime = await http.get(f"/api/v1/vpp/market-data/{sim[0]['id']}/realtime")
        assert realtime.status_code == 200, realtime.text
        data = realtime.json()
        assert isinstance(data["price"], float | int) and data["market_status"], data
