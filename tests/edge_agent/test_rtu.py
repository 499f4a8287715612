"""Modbus RTU: devices sharing one serial bus (a socat pty pair, the simulator answering at
the other end) or one RTU-over-TCP gateway; one poller per bus, one frame on the wire at a
time, the inter-frame silence kept; a unit that does not answer fails alone."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_agent import Agent, ConfigError, parse_config
from edge_agent.cli import app
from edge_agent.devices import DeviceStatus
from edge_agent.devices.modbus import ModbusAdapter, frame_gap_s
from firmware_sims import (
    Battery,
    BatteryRegisters,
    FaultSet,
    Meter,
    MeterRegisters,
    ModbusBusServer,
    ModbusDeviceServer,
)
from protocol import encode
from protocol.clock import ManualClock
from tests.edge_agent.conftest import Harness, advance_until, config_text, make_config, until
from tests.edge_agent.test_agent import T
from tests.edge_agent.test_sims import online, schedule
from tests.support import service_missing

BAUD = 38400


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two ends of a virtual serial line (socat): the simulator opens one, the agent the other."""
    socat = shutil.which("socat")
    if socat is None:
        service_missing("socat is not installed (apt-get install socat)")
    a, b = tmp_path / "sim-tty", tmp_path / "agent-tty"
    proc = subprocess.Popen(
        [socat, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (a.exists() and b.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("socat did not make the pty pair")
            time.sleep(0.02)
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(5)


def _bus_devices() -> tuple[list[ModbusDeviceServer], list[Battery], Meter]:
    batteries = [Battery(rated_w=50_000, capacity_wh=100_000), Battery(rated_w=30_000,
                 capacity_wh=60_000)]  # fmt: skip
    meter = Meter()
    servers = [
        ModbusDeviceServer(BatteryRegisters(batteries[0], {"SN": "b1"}), FaultSet(), 1),
        ModbusDeviceServer(BatteryRegisters(batteries[1], {"SN": "b2"}), FaultSet(), 2),
        ModbusDeviceServer(MeterRegisters(meter, {"SN": "m1"}, 200_000), FaultSet(), 3),
    ]
    return servers, batteries, meter


def _rtu_toml(where: str, *, extra_unit: int | None = None) -> str:
    """bess-1 (unit 1), bess-2 (unit 2), meter-1 (unit 3) on one bus; ``where`` is the
    transport lines (``serial_port``/``baudrate`` or ``host``/``port``)."""
    devices = [("bess-1", "battery", 1, 50_000.0), ("bess-2", "battery", 2, 30_000.0),
               ("meter-1", "meter", 3, 0.0)]  # fmt: skip
    if extra_unit is not None:
        devices.append(("ghost-1", "meter", extra_unit, 0.0))
    out = []
    for name, kind, unit, rated in devices:
        lines = ["", "[[devices]]", f'id = "{name}"', f'kind = "{kind}"', 'protocol = "modbus_rtu"',
                 where, f"unit_id = {unit}", "timeout_s = 0.3", "backoff_max_s = 1.0"]  # fmt: skip
        if kind == "battery":
            lines += ["[devices.limits]", f"p_max_discharge_w = {rated}",
                      f"p_max_charge_w = {rated}", "revert_s = 10.0"]  # fmt: skip
        out.append("\n".join(lines))
    return "\n".join(out) + "\n"


@contextlib.asynccontextmanager
async def _serial_bus(sim_end: str) -> AsyncIterator[tuple[list[Battery], Meter]]:
    servers, batteries, meter = _bus_devices()
    async with ModbusBusServer(servers).serve_serial(sim_end, baudrate=BAUD):
        yield batteries, meter


def _links(agent: Agent) -> set[int]:
    adapters = [r.adapter for r in agent.runners.values()]
    return {id(a.link) for a in adapters if isinstance(a, ModbusAdapter)}


async def test_devices_on_one_serial_bus_share_one_poller_and_follow_their_targets(
    tmp_path: Path, manual_clock: ManualClock, pty_pair: tuple[str, str]
) -> None:
    sim_end, agent_end = pty_pair
    where = f'serial_port = "{agent_end}"\nbaudrate = {BAUD}\nparity = "N"'
    config = make_config(tmp_path, devices=_rtu_toml(where))
    async with (
        _serial_bus(sim_end) as (batteries, _meter),
        Agent(config, clock=manual_clock) as agent,
    ):
        await online(agent, "bess-1", "bess-2", "meter-1")
        assert len(_links(agent)) == 1, "three devices on one bus share one link"
        agent.on_message(
            T.dispatch,
            encode(schedule(manual_clock, {"bess-1": 20_000.0, "bess-2": -10_000.0})),
        )
        h = Harness(agent, manual_clock)
        await advance_until(
            h, lambda: batteries[0].wset_w == 20_000.0 and batteries[1].wset_w == -10_000.0, 20
        )
        assert (batteries[0].wset_w, batteries[0].wset_ena) == (20_000.0, 1)
        assert (batteries[1].wset_w, batteries[1].wset_ena) == (-10_000.0, 1)
        adapter = agent.runners["bess-1"].adapter
        assert isinstance(adapter, ModbusAdapter)
        link = adapter.link
        assert link.max_in_flight == 1, "never two frames on the bus at once"
        assert link.opens == 1, "the serial port was opened once for all devices"
        assert link.frame_gap_s == pytest.approx(frame_gap_s(BAUD))
        reading = agent.runners["meter-1"].reading
        assert reading is not None and reading.p_w is not None


async def test_a_unit_that_does_not_answer_fails_alone_and_the_bus_stays_open(
    tmp_path: Path, manual_clock: ManualClock, pty_pair: tuple[str, str]
) -> None:
    sim_end, agent_end = pty_pair
    where = f'serial_port = "{agent_end}"\nbaudrate = {BAUD}'
    config = make_config(tmp_path, devices=_rtu_toml(where, extra_unit=9))
    async with _serial_bus(sim_end), Agent(config, clock=manual_clock) as agent:
        await online(agent, "bess-1", "bess-2", "meter-1")
        h = Harness(agent, manual_clock)
        polls = {d: agent.runners[d].polls for d in ("bess-1", "bess-2", "meter-1")}
        await advance_until(
            h,
            lambda: (
                agent.runners["ghost-1"].status is DeviceStatus.ERROR
                and all(agent.runners[d].polls > n + 2 for d, n in polls.items())
            ),
            40,
        )
        assert agent.runners["ghost-1"].status is DeviceStatus.ERROR
        for dev, before in polls.items():
            assert agent.runners[dev].status is DeviceStatus.ONLINE, dev
            assert agent.runners[dev].polls > before + 2, dev
        adapter = agent.runners["bess-1"].adapter
        assert isinstance(adapter, ModbusAdapter)
        assert adapter.link.opens == 1, "a silent unit does not reopen the others' bus"


async def test_devices_behind_an_rtu_over_tcp_gateway_share_its_connection(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    servers, batteries, _meter = _bus_devices()
    async with ModbusBusServer(servers).serve_rtu_tcp("127.0.0.1", 0) as gateway:
        where = f'host = "127.0.0.1"\nport = {gateway.port}'
        config = make_config(tmp_path, devices=_rtu_toml(where))
        async with Agent(config, clock=manual_clock) as agent:
            await online(agent, "bess-1", "bess-2", "meter-1")
            assert len(_links(agent)) == 1
            agent.on_message(T.dispatch, encode(schedule(manual_clock, {"bess-2": 15_000.0})))
            h = Harness(agent, manual_clock)
            await advance_until(h, lambda: batteries[1].wset_w == 15_000.0, 20)
            assert batteries[1].wset_w == 15_000.0
            adapter = agent.runners["bess-2"].adapter
            assert isinstance(adapter, ModbusAdapter)
            assert adapter.link.max_in_flight == 1
            await until(lambda: agent.runners["meter-1"].reading is not None, "meter read")


@pytest.mark.parametrize(
    ("devices", "field", "words"),
    [
        (
            _rtu_toml('serial_port = "/dev/ttyX"').replace("unit_id = 2", "unit_id = 1"),
            "$.devices[1].unit_id",
            "already used on serial:/dev/ttyX",
        ),
        (
            _rtu_toml('serial_port = "/dev/ttyX"').replace("unit_id = 3", "unit_id = 0"),
            "$.devices[2].unit_id",
            "0 is broadcast",
        ),
        (
            _rtu_toml('serial_port = "/dev/ttyX"\nbaudrate = 12345'),
            "$.devices[0].baudrate",
            "not one of",
        ),
        (
            _rtu_toml('serial_port = "/dev/ttyX"').replace(
                'id = "meter-1"', 'id = "meter-1"\nbaudrate = 19200', 1
            ),
            "$.devices[2].baudrate",
            "one bus, one line setting",
        ),
    ],
)
def test_rtu_config_mistakes_name_the_field(
    tmp_path: Path, devices: str, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(tmp_path, devices=devices))
    assert caught.value.field == field
    assert words in str(caught.value)


def test_the_same_unit_id_on_two_buses_is_fine(tmp_path: Path) -> None:
    two = _rtu_toml('serial_port = "/dev/ttyA"') + _rtu_toml('serial_port = "/dev/ttyB"').replace(
        'id = "', 'id = "b-'
    )
    config = parse_config(config_text(tmp_path, devices=two))
    assert {d.bus for d in config.devices} == {"serial:/dev/ttyA", "serial:/dev/ttyB"}


def test_check_names_a_serial_port_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    port = tmp_path / "ttyUSB7"
    path.write_text(config_text(tmp_path, devices=_rtu_toml(f'serial_port = "{port}"')))
    result = CliRunner().invoke(app, ["check", "--config", str(path)])
    assert result.exit_code == 2
    text = "".join(result.output.split())  # rich wraps long lines
    assert f"$.devices[0].serial_port:{port}doesnotexist" in text
