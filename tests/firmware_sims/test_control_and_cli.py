"""The control server, ``vpp sim fault`` against a running park, and ``vpp sim`` commands."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from firmware_sims import DEFAULT_PORT_BASE, SimSite, load_preset, plan_endpoints, send_control
from firmware_sims.cli import app
from tests.support import SAFETY_TIMEOUT

VPP = str(Path(sys.executable).parent / "vpp")
runner = CliRunner()


async def _raw(address: tuple[str, int], line: bytes) -> dict[str, object]:
    async with asyncio.timeout(SAFETY_TIMEOUT):
        reader, writer = await asyncio.open_connection(*address)
        writer.write(line)
        await writer.drain()
        reply = await reader.readline()
        writer.close()
        await writer.wait_closed()
    out: dict[str, object] = json.loads(reply)
    return out


async def test_control_server_sets_clears_and_reports_faults(site: SimSite) -> None:
    assert site.control_address is not None
    host, port = site.control_address
    reply = await send_control(
        host, port, {"op": "fault", "device": "bess-1", "kind": "slow", "params": {"delay_s": 0.5}}
    )
    assert reply == {"ok": True, "device": "bess-1", "faults": {"slow": {"delay_s": 0.5}}}
    status = await send_control(host, port, {"op": "status"})
    assert status["ok"] is True
    assert status["faults"]["bess-1"] == {"slow": {"delay_s": 0.5}}
    assert await send_control(host, port, {"op": "clear", "device": "bess-1"}) == {
        "ok": True,
        "device": "bess-1",
        "faults": {},
    }


async def test_control_server_answers_bad_requests_with_the_field(site: SimSite) -> None:
    assert site.control_address is not None
    bad = {
        b"not json\n": "not valid JSON",
        b'{"op": "explode"}\n': "op",
        b'{"op": "fault", "device": "bess-1", "kind": "drop", "colour": 1}\n': "colour",
        b'{"op": "fault", "device": "ghost", "kind": "drop"}\n': "device: no device named",
        b'{"op": "fault", "device": "bess-1"}\n': "kind: required",
        b'{"op": "clear"}\n': "device: required",
        b'{"op": "fault", "device": "bess-1", "kind": "drop", "seconds": "x"}\n': "seconds",
    }
    for line, fragment in bad.items():
        reply = await _raw(site.control_address, line)
        assert reply["ok"] is False
        assert fragment in str(reply["error"]), (line, reply)
    assert site.faults("bess-1") == {}


async def _vpp(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        VPP, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(SAFETY_TIMEOUT * 2):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_vpp_sim_fault_talks_to_a_running_site(site: SimSite) -> None:
    assert site.control_address is not None
    control = "{}:{}".format(*site.control_address)
    rc, out, err = await _vpp(
        "sim",
        "fault",
        "--control",
        control,
        "--device",
        "bess-1",
        "--kind",
        "exception",
        "--code",
        "6",
        "--seconds",
        "30",
    )
    assert rc == 0, err
    assert json.loads(out)["faults"] == {"exception": {"code": 6}}
    assert site.faults("bess-1") == {"exception": {"code": 6}}
    rc, out, err = await _vpp(
        "sim", "fault", "--control", control, "--device", "bess-1", "--kind", "nonsense"
    )
    assert rc == 1
    assert "kind: unknown fault" in err
    rc, out, err = await _vpp("sim", "fault", "--control", control, "--device", "bess-1", "--clear")
    assert rc == 0, err
    assert site.faults("bess-1") == {}


def test_vpp_sim_site_prints_one_json_line_per_device_and_the_control_address() -> None:
    result = runner.invoke(
        app, ["site", "--preset", "park-s", "--port-base", "0", "--speed", "60", "--run-for", "0.5"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    spec = load_preset("park-s")
    assert [d["device"] for d in lines[:-1]] == [d.name for d in spec.devices]
    bess = lines[0]
    assert set(bess) == {"device", "kind", "protocol", "host", "port", "unit_id"}
    assert bess["kind"] == "battery"
    assert bess["protocol"] == "modbus"
    assert bess["host"] == "127.0.0.1"
    assert bess["port"] > 0
    assert set(lines[-1]) == {"control"}


def test_vpp_sim_plan_matches_plan_endpoints_and_ports_are_consecutive() -> None:
    result = runner.invoke(app, ["plan", "--preset", "park-a", "--port-base", "16000"])
    assert result.exit_code == 0, result.output
    printed = [msgspec.json.decode(line) for line in result.stdout.splitlines()]
    planned = [
        msgspec.to_builtins(ep) for ep in plan_endpoints(load_preset("park-a"), port_base=16000)
    ]
    assert printed == planned
    assert [ep["port"] for ep in printed] == list(range(16000, 16000 + len(printed)))
    chiller = printed[-1]
    assert chiller == {
        "device": "chiller-1",
        "kind": "hvac",
        "protocol": "opcua",
        "host": "127.0.0.1",
        "port": 16010,
        "endpoint": "opc.tcp://127.0.0.1:16010/lingtan/chiller-1",
    }
    assert plan_endpoints(load_preset("park-a"))[0].port == DEFAULT_PORT_BASE


def test_vpp_sim_commands_reject_bad_arguments(tmp_path: Path) -> None:
    result = runner.invoke(app, ["site", "--preset", "park-zz", "--run-for", "0"])
    assert result.exit_code == 2
    assert "preset: unknown preset 'park-zz'" in result.stderr
    result = runner.invoke(app, ["site", "--run-for", "0"])
    assert result.exit_code == 2
    bad = tmp_path / "site.toml"
    bad.write_text('[[devices]]\nkind = "battery"\nname = "b"\nrated_w = "big"\n')
    result = runner.invoke(app, ["plan", "--config", str(bad)])
    assert result.exit_code == 2
    assert "devices[0].rated_w" in result.stderr
    result = runner.invoke(
        app, ["fault", "--control", "nowhere", "--device", "x", "--kind", "drop"]
    )
    assert result.exit_code == 2
    result = runner.invoke(app, ["fault", "--control", "127.0.0.1:1", "--device", "x"])
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["fault", "--control", "127.0.0.1:1", "--device", "x", "--kind", "slow", "-p", "x"]
    )
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["fault", "--control", "127.0.0.1:1", "--device", "x", "--kind", "drop"]
    )
    assert result.exit_code == 1
    assert "cannot reach the site" in result.stderr
    result = runner.invoke(app, ["presets"])
    assert result.exit_code == 0
    assert "park-a: 11 devices" in result.stdout


def test_vpp_sim_site_reports_a_port_in_use() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["site", "--preset", "park-s", "--port-base", str(port), "--run-for", "0"]
        )
    assert result.exit_code == 1
    assert "cannot start the park" in result.stderr


def _consecutive_free_ports(n: int) -> int:
    import socket

    for base in range(21000, 60000, 97):
        socks = []
        try:
            for k in range(n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + k))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


async def test_a_site_on_a_port_base_uses_the_planned_ports() -> None:
    spec = load_preset("park-s")
    base = _consecutive_free_ports(len(spec.devices) + 1)
    async with SimSite(spec, port_base=base, control_port=base + len(spec.devices)) as site:
        assert site.endpoints == plan_endpoints(spec, port_base=base)
        assert site.control_address == ("127.0.0.1", base + len(spec.devices))


async def test_an_idle_control_connection_ends_with_the_site() -> None:
    spec = load_preset("park-s")
    async with SimSite(spec, control_port=0) as site:
        assert site.control_address is not None
        async with asyncio.timeout(SAFETY_TIMEOUT):
            reader, writer = await asyncio.open_connection(*site.control_address)
            writer.write(b'{"op": "status"}\n')
            assert json.loads(await reader.readline())["ok"] is True
    async with asyncio.timeout(SAFETY_TIMEOUT):
        assert await reader.read() == b""  # closed by the site, not left hanging
    writer.close()
    await writer.wait_closed()


async def spawn_site() -> tuple[asyncio.subprocess.Process, list[dict[str, object]]]:
    """``vpp sim site`` as a user starts it, and the endpoint lines it printed (the last one
    names its control port)."""
    proc = await asyncio.create_subprocess_exec(
        VPP, "sim", "site", "--preset", "park-s", "--port-base", "0", "--seed", "4",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT * 2):
            while not lines or "control" not in lines[-1]:
                line = await proc.stdout.readline()
                assert line, "vpp sim site exited early"
                lines.append(json.loads(line))
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise
    return proc, lines


async def test_vpp_sim_site_stops_cleanly_on_sigterm() -> None:
    """As systemd, docker or a test harness stops it: exit 0, no traceback."""
    import signal

    proc, _ = await spawn_site()
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr


async def test_vpp_sim_site_as_a_process_serves_devices_and_takes_faults() -> None:
    import signal

    from pymodbus.client import AsyncModbusTcpClient

    proc, lines = await spawn_site()
    try:
        bess = lines[0]
        assert bess["device"] == "bess-1"
        host, _, port = str(lines[-1]["control"]).rpartition(":")
        reply = await send_control(
            host,
            int(port),
            {"op": "fault", "device": "bess-1", "kind": "exception", "params": {"code": 6}},
        )
        assert reply["ok"] is True
        client = AsyncModbusTcpClient(str(bess["host"]), port=int(str(bess["port"])), retries=0)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            assert await client.connect()
            try:
                rr = await client.read_holding_registers(40000, count=2, device_id=1)
                assert rr.isError()
                await send_control(host, int(port), {"op": "clear", "device": "bess-1"})
                rr = await client.read_holding_registers(40000, count=2, device_id=1)
                assert rr.registers == [0x5375, 0x6E53]
            finally:
                client.close()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await proc.wait()
    assert proc.returncode == 0
