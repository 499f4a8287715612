"""``vpp agent`` commands, ``/metrics`` and ``/healthz``."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_agent import Agent, parse_config
from edge_agent.cli import app
from protocol import encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import (
    Harness,
    config_text,
    device_toml,
    fake_factory,
    make_config,
    until,
)
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite
from tests.edge_agent.test_agent import T, dispatch
from tests.support import SAFETY_TIMEOUT

runner = CliRunner()
VPP = str(Path(sys.executable).parent / "vpp")


def test_init_prints_a_config_for_a_simulated_park() -> None:
    args = ["init", "--preset", "park-a", "--port-base", "16020", "--edge", "park-a"]
    result = runner.invoke(app, [*args, "--mqtt", "mqtt://127.0.0.1:18830"])
    assert result.exit_code == 0, result.output
    config = parse_config(result.stdout)
    assert config.site.edge == "park-a" and config.hub.port == 18830
    assert [d.port for d in config.devices] == list(range(16020, 16031))
    kinds = {d.kind for d in config.devices}
    assert kinds == {"battery", "pv", "meter", "ev_charger", "hvac"}
    chiller = config.device("chiller-1")
    assert chiller.protocol == "opcua" and chiller.endpoint.startswith("opc.tcp://")
    assert config.device("bess-1").limits.p_max_discharge_w == 500_000.0


def test_init_rejects_bad_input_with_a_clear_message(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["init", "--preset", "park-zz"])
    assert bad.exit_code == 2 and "park-zz" in bad.output
    url = runner.invoke(app, ["init", "--preset", "park-s", "--mqtt", "http://x"])
    assert url.exit_code == 2 and "mqtt://" in url.output
    out = tmp_path / "agent.toml"
    ok = runner.invoke(app, ["init", "--preset", "park-s", "--output", str(out)])
    assert ok.exit_code == 0 and parse_config(out.read_text()).site.edge == "park-a"


def test_commands_fail_cleanly_on_a_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("[site]\nedge = 1\n")
    for command in ("check", "status", "run"):
        result = runner.invoke(app, [command, "--config", str(path)])
        assert result.exit_code == 2 and "config error" in result.output, command


def _free_block(size: int) -> int:
    for base in range(21000, 60000, 97):
        try:
            socks = []
            for port in range(base, base + size + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    raise AssertionError("no free port block")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VPP, *args], capture_output=True, text=True,
                          timeout=SAFETY_TIMEOUT * 4, check=False)  # fmt: skip


async def test_check_reaches_every_device_of_vpp_sim_site(tmp_path: Path) -> None:
    base = _free_block(12)
    sim = await asyncio.create_subprocess_exec(
        VPP, "sim", "site", "--preset", "park-a",
        "--port-base", str(base), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        async with asyncio.timeout(SAFETY_TIMEOUT * 2):
            lines = [await sim.stdout.readline() for _ in range(11)]
        assert all(b'"device"' in line for line in lines)
        init = await asyncio.to_thread(_run, "agent", "init", "--preset", "park-a",
                                       "--port-base", str(base))  # fmt: skip
        assert init.returncode == 0, init.stderr
        path = tmp_path / "agent.toml"
        path.write_text(init.stdout)
        check = await asyncio.to_thread(_run, "agent", "check", "--config", str(path))
        assert check.returncode == 0, check.stdout + check.stderr
        assert "all 11 devices answered" in check.stdout
        assert "chiller-1" in check.stdout and "bess-1" in check.stdout
    finally:
        sim.terminate()
        await sim.wait()
    down = await asyncio.to_thread(_run, "agent", "check", "--config", str(path))
    assert down.returncode == 1 and "could not be read" in down.stderr


async def test_metrics_healthz_and_status_of_a_running_agent(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    devices = device_toml("b1", "battery") + device_toml("m1", "meter")
    config = make_config(tmp_path, devices=devices, limits_extra="")
    site = FakeSite(load_w=500_000.0, batteries={"b1": FakeBattery(100_000.0)})
    adapters: dict[str, FakeAdapter] = {}
    factory = fake_factory(site, manual_clock, adapters)
    async with Agent(config, clock=manual_clock, adapter_factory=factory, metrics_port=0) as agent:
        await until(lambda: len(agent.runners["m1"].poll_times) > 0, "first poll")
        agent.on_message(T.dispatch, encode(dispatch(manual_clock, p=400_000.0)))
        await Harness(agent, manual_clock).cycles(3)
        base = f"http://127.0.0.1:{agent.http.port}"

        def get(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(base + path, timeout=5) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()

        code, metrics = await asyncio.to_thread(get, "/metrics")
        assert code == 200
        assert 'vpp_agent_clamps_total{reason="device_max_discharge"}' in metrics
        assert "vpp_agent_poll_latency_seconds_bucket" in metrics
        assert "vpp_agent_outbox_rows" in metrics and "vpp_agent_replay_rate" in metrics
        code, health = await asyncio.to_thread(get, "/healthz")
        doc = json.loads(health)
        assert code == 200 and doc["ok"] and doc["devices"] == {"b1": "online", "m1": "online"}
        assert doc["control"] == {"b1": "schedule"} and doc["cycles"] >= 3
        assert doc["schedule"]["id"] == "sched-1"
        b1 = doc["device_status"]["b1"]
        assert b1["state"] == "online" and b1["setpoint_w"] == 100_000.0
        assert b1["source"] == "safety" and b1["requested_by"] == "schedule"
        assert b1["reason"] == "device_max_discharge" and b1["requested_w"] == 400_000.0
        assert b1["last_value_age_s"] is not None and b1["last_value_age_s"] <= 2.0
        assert doc["device_status"]["m1"]["setpoint_w"] is None
        adapters["m1"].fail_reads = True
        await Harness(agent, manual_clock).cycles(2)
        await until(lambda: agent.runners["m1"].errors["protocol"] > 0, "a failed read")
        code, health = await asyncio.to_thread(get, "/healthz")
        m1 = json.loads(health)["device_status"]["m1"]
        assert m1["state"] == "error" and m1["errors"]["protocol"] >= 1 and m1["last_error"]
        assert (await asyncio.to_thread(get, "/nope"))[0] == 404
        path = tmp_path / "agent.toml"
        path.write_text(config_text(tmp_path, devices=devices).replace(
            "port = 0", f"port = {agent.http.port}", 1))  # fmt: skip
        status = await asyncio.to_thread(
            runner.invoke, app, ["status", "--config", str(path)], env={"COLUMNS": "200"}
        )
        assert status.exit_code == 0, status.output
        assert "mqtt_connected" in status.output and "outbox rows" in status.output
        assert "safety (device_max_discharge) over schedule" in status.output
        assert "protocol" in status.output and "100,000 W" in status.output
    stopped = runner.invoke(app, ["status", "--config", str(path)])
    assert stopped.exit_code == 0 and "no (no answer" in stopped.output
    assert "session id" in stopped.output


@pytest.mark.skipif(sys.platform != "linux", reason="systemd unit")
def test_systemd_unit_is_hardened() -> None:
    unit = Path(__file__).resolve().parents[2] / "deploy/systemd/lingtan-agent.service"
    text = unit.read_text()
    for line in ("ExecStart=", "Restart=always", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "StateDirectory=", "DynamicUser=", "RestrictAddressFamilies="):  # fmt: skip
        assert line in text, line
    assert os.path.basename(unit) == "lingtan-agent.service"
