"""``vpp agent scan``: discovery against a real simulated park and non-SunSpec devices."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_agent import parse_config
from edge_agent._control import is_controllable
from edge_agent._scan import parse_targets, parse_units, render_scan_config
from edge_agent.cli import app
from edge_agent.devices._scan import ModbusTarget, scan, scan_modbus
from firmware_sims import run_modbus_device
from tests.support import SAFETY_TIMEOUT, refused_port

runner = CliRunner()


@pytest.fixture(scope="module")
def park_l() -> Iterator[list[dict[str, object]]]:
    """``vpp sim site --preset park-l --port-base 0`` as a process; its endpoints."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from lingtan.cli import main; main()", "sim", "site",
         "--preset", "park-l", "--port-base", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    endpoints: list[dict[str, object]] = []
    try:
        for _ in range(200):
            line = proc.stdout.readline()
            if not line:
                break
            doc = json.loads(line)
            if "control" in doc:
                break
            endpoints.append(doc)
        assert len(endpoints) == 27, endpoints
        yield endpoints
    finally:
        proc.terminate()
        proc.wait(timeout=SAFETY_TIMEOUT)
        proc.stdout.close()


def _targets(endpoints: list[dict[str, object]]) -> list[str]:
    return [str(ep.get("endpoint") or f"{ep['host']}:{ep['port']}") for ep in endpoints]


def test_scan_writes_a_config_for_park_l_that_check_accepts(
    park_l: list[dict[str, object]], tmp_path: Path
) -> None:
    out = tmp_path / "agent.toml"
    args = ["--units", "1-2", "--timeout", "3", "--edge", "park-l", "-o", str(out)]
    result = runner.invoke(app, ["scan", *_targets(park_l), *args])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    config = parse_config(text)
    by_id = {d.id: d for d in config.devices}
    # every simulated device found, under its serial number, with its kind
    assert {str(ep["device"]) for ep in park_l} - {
        str(ep["device"]) for ep in park_l if ep["kind"] == "ev_charger"
    } <= set(by_id)
    kinds = [d.kind for d in config.devices]
    assert kinds.count("battery") == 4 and kinds.count("pv") == 8
    assert kinds.count("meter") == 1 and kinds.count("ev_charger") == 12
    assert kinds.count("hvac") == 2
    bess = by_id["bess-1"]
    assert bess.limits.p_max_discharge_w == 500_000.0 and bess.limits.p_max_charge_w == 500_000.0
    assert (bess.limits.soc_min_pct, bess.limits.soc_max_pct) == (5.0, 95.0)
    assert by_id["pv-2"].limits.p_max_discharge_w == 300_000.0  # the nameplate, not a guess
    chiller = by_id["chiller-1"]
    assert chiller.protocol == "opcua" and chiller.opcua_object == "chiller-1"
    assert chiller.limits.p_max_charge_w == 200_000.0
    assert chiller.hvac.setpoint_c == 24.0 and chiller.hvac.comfort_max_c == 27.0
    evse = next(d for d in config.devices if d.kind == "ev_charger")
    assert evse.charger.phases == 3 and evse.charger.max_current_a == 32.0
    assert evse.limits.p_max_charge_w == 32 * 3 * 230
    # unit 2 answers nowhere (the simulator's gateway says so): no stub, no skip
    assert "unknown Modbus device" not in text and "# Skipped" not in text
    controllable = [d for d in config.devices if is_controllable(d)]
    assert {d.kind for d in controllable} == {"battery", "pv", "ev_charger", "hvac"}
    assert "revert_s = 10.0" in text and "702 WMaxRtg" in text
    check = runner.invoke(app, ["check", "--config", str(out)])
    assert check.exit_code == 0, check.output
    assert "all 27 devices answered" in check.output


class _Plain:
    """A device that is not SunSpec: 100 holding registers from 0, nothing else."""

    base = 0
    writable: frozenset[int] = frozenset()

    def __init__(self, image: list[int] | None = None) -> None:
        self.image = image or [7] * 100
        self.writes = 0

    def mark_dirty(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def write(self, address: int, values: list[int]) -> None:
        self.writes += 1


class _Liar(_Plain):
    """``SunS`` at 40000, then a model 1 whose length runs past the address space."""

    base = 40000

    def __init__(self) -> None:
        super().__init__([0x5375, 0x6E53, 1, 30000] + [0] * 96)


async def test_a_device_that_is_not_sunspec_becomes_a_commented_stub() -> None:
    device = _Plain()
    async with run_modbus_device(device, unit_id=3) as srv:
        result = await scan([ModbusTarget("127.0.0.1", srv.port, (3,))])
    assert [f.kind for f in result.found] == ["unknown"]
    assert device.writes == 0  # a scan never writes
    text = render_scan_config(result, mqtt_url="mqtt://127.0.0.1:1883", tenant="t", edge="e")
    config = parse_config(text)
    assert config.devices == []
    assert "# unknown Modbus device at 127.0.0.1" in text and "[register_maps.NAME]" in text
    assert f"# port = {srv.port}" in text and "# unit_id = 3" in text


async def test_a_device_that_lies_about_its_models_ends_with_what_was_found() -> None:
    async with run_modbus_device(_Liar(), unit_id=1) as srv:
        found, skipped = await scan_modbus(ModbusTarget("127.0.0.1", srv.port, (1,)))
    assert skipped == [] and len(found) == 1
    assert found[0].kind == "unknown" and "model chain broken" in found[0].notes[0]


async def test_a_dead_port_and_a_silent_unit_are_skipped_with_their_reason() -> None:
    with refused_port() as port:  # nothing may listen there during the scan
        async with run_modbus_device(_Plain(), unit_id=1) as srv:
            result = await scan(
                [ModbusTarget("127.0.0.1", port, (1,)), ModbusTarget("127.0.0.1", srv.port, (9,))],
                [f"opc.tcp://127.0.0.1:{port}/x"],
                # also bounds the live server's connect: under load (-n 2 on 2 cores) a run
                # lacked unit 9's entry (KeyError), which a connect over 0.5 s explains
                timeout_s=2.0,
            )
    reasons = {s.target: s.reason for s in result.skipped}
    assert f"127.0.0.1:{srv.port}" not in reasons, reasons  # the live server was reached
    assert reasons[f"127.0.0.1:{port}"].startswith("cannot connect")
    assert reasons[f"127.0.0.1:{srv.port}/9"] == "no answer"
    assert reasons[f"opc.tcp://127.0.0.1:{port}/x"].startswith("cannot connect")
    text = render_scan_config(result, mqtt_url="mqtt://h:1", tenant="t", edge="e")
    assert "# Skipped (nothing usable found):" in text and "no answer" in text


def test_scan_arguments_are_checked_with_a_clear_message() -> None:
    assert parse_units("1,3-5,3") == (1, 3, 4, 5)
    for bad in ("x", "5-2", "1-300"):
        with pytest.raises(ValueError, match="--units"):
            parse_units(bad)
    modbus, opcua = parse_targets(
        ["10.0.0.5", "10.0.0.6:1502", "opc.tcp://h:4840/p"], units=(1,), cidr="192.0.2.0/30"
    )
    assert [(t.host, t.port) for t in modbus] == [
        ("10.0.0.5", 502), ("10.0.0.6", 1502), ("192.0.2.1", 502), ("192.0.2.2", 502)
    ]  # fmt: skip
    assert opcua == ["opc.tcp://h:4840/p"]
    with pytest.raises(ValueError, match="more than"):
        parse_targets([], units=(1,), cidr="10.0.0.0/8")
    assert runner.invoke(app, ["scan"]).exit_code == 2
    port = runner.invoke(app, ["scan", "h:99999"])
    assert port.exit_code == 2 and "bad port" in port.output
    assert runner.invoke(app, ["scan", "h", "--units", "9-1"]).exit_code == 2
