"""Stopping the agent cannot be defeated by a library that swallows a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from pathlib import Path

import aiomqtt
import pytest
from pymodbus.client.base import ModbusBaseClient
from pymodbus.pdu import ModbusPDU

from edge_agent import Agent, AgentMetrics, DeviceRunner, PointBuffer
from edge_agent._errors import DeviceTimeout
from edge_agent._sync import HubLink
from edge_agent.devices import Reading, Setpoint
from edge_agent.devices.modbus import ModbusLinks
from firmware_sims import (
    SUNS_BASE,
    Battery,
    BatteryRegisters,
    FaultSet,
    ModbusDeviceServer,
)
from lingtan.broker import Mosquitto
from protocol.clock import Clock, ManualClock
from tests.edge_agent.conftest import device_toml, make_config, until
from tests.edge_agent.fakes import FakeAdapter, FakeBattery, FakeSite
from tests.support import SAFETY_TIMEOUT


class SwallowingAdapter(FakeAdapter):
    """Reads drop a cancellation that arrives while they wait, and return a reading.

    That is what Python 3.11's ``asyncio.wait_for`` (pymodbus awaits every response with
    it) does when the response lands in the same loop iteration as the cancel.
    """

    def __init__(self, name: str, kind: str, site: FakeSite, clock: Clock) -> None:
        super().__init__(name, kind, site, clock)
        self.waiting = asyncio.Event()

    async def read(self, *, slow: bool = False) -> Reading:
        self.waiting.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as the library does
            await asyncio.sleep(SAFETY_TIMEOUT * 10)
        return await super().read(slow=slow)


async def test_a_runner_stops_even_when_its_adapter_swallows_the_cancel(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    config = make_config(tmp_path, devices=device_toml("m1", "meter"))
    metrics = AgentMetrics()
    adapter = SwallowingAdapter("m1", "meter", FakeSite(), manual_clock)
    runner = DeviceRunner(
        config.devices[0],
        adapter,
        clock=manual_clock,
        metrics=metrics,
        buffer=PointBuffer(100, metrics),
    )
    task = asyncio.create_task(runner.run())
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await adapter.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await task
    assert adapter.reads == 1  # it finished the read it was in, then stopped


async def test_an_agent_stops_when_its_link_swallows_the_cancel_while_connecting(
    tmp_path: Path,
    mosquitto: Mosquitto,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stop that lands as the link comes up: aiomqtt's subscribes and publishes wait with
    Python 3.11's `wait_for`, which drops a cancellation arriving with the broker's ack.
    The link went on into its session's tasks and the agent's stop waited for good
    (`vpp demo` on a SIGTERM right after start: "agent task still running")."""
    connecting = asyncio.Event()
    connected = HubLink._connected

    async def swallowing(self: HubLink, client: aiomqtt.Client) -> None:
        await connected(self, client)
        connecting.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as wait_for does
            await asyncio.sleep(SAFETY_TIMEOUT * 10)

    monkeypatch.setattr(HubLink, "_connected", swallowing)
    config = make_config(tmp_path, mqtt_port=mosquitto.port)
    agent = Agent(config)
    await agent.__aenter__()
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await connecting.wait()
    finally:
        await agent.__aexit__(None, None, None)
    assert "still running" not in caplog.text
    assert agent.link is not None
    assert not agent.link.connected  # its session ended
    assert agent.link.connects == 1


async def test_a_request_on_a_link_whose_device_went_away_is_a_device_timeout(
    tmp_path: Path,
) -> None:
    """pymodbus raises "not connected" as the request is made, before anything is awaited:
    it must still be a DeviceTimeout (the runner reconnects), not an error that ends the
    agent (`vpp agent run` died with a traceback when `vpp sim site` stopped first)."""
    server = ModbusDeviceServer(
        BatteryRegisters(Battery(rated_w=50_000, capacity_wh=100_000), {"SN": "b1"}), FaultSet(), 1
    )
    async with server.serve("127.0.0.1", 0):
        where = f'host = "127.0.0.1"\nport = {server.port}'
        toml = f'\n[[devices]]\nid = "bess-1"\nkind = "meter"\n{where}\nunit_id = 1\n'
        config = make_config(tmp_path, devices=toml)
        link = ModbusLinks().for_device(config.devices[0])
        await link.open("bess-1", SAFETY_TIMEOUT)
        server.drop_connections()

    def header(c: ModbusBaseClient) -> Awaitable[ModbusPDU]:
        return c.read_holding_registers(SUNS_BASE + 2, count=2, device_id=1)

    try:
        client = link._client
        assert client is not None
        await until(lambda: not client.connected, "the link saw the device go")
        with pytest.raises(DeviceTimeout):
            await link.call("bess-1", SAFETY_TIMEOUT, header)
    finally:
        link.close("bess-1")


class HangingRelease(FakeAdapter):
    """A battery whose release never ends (a device that stopped answering at the stop)."""

    def __init__(self, name: str, kind: str, site: FakeSite, clock: Clock) -> None:
        super().__init__(name, kind, site, clock)
        self.releasing = asyncio.Event()

    async def release(self) -> None:
        self.releasing.set()
        await asyncio.sleep(SAFETY_TIMEOUT * 10)


async def test_a_stop_cancelled_again_during_the_release_still_closes_the_link(
    tmp_path: Path, manual_clock: ManualClock
) -> None:
    site = FakeSite(batteries={"b1": FakeBattery()})
    config = make_config(tmp_path, devices=device_toml("b1", "battery"))
    metrics = AgentMetrics()
    adapter = HangingRelease("b1", "battery", site, manual_clock)
    runner = DeviceRunner(
        config.devices[0], adapter, clock=manual_clock, metrics=metrics,
        buffer=PointBuffer(100, metrics),
    )  # fmt: skip
    task = asyncio.create_task(runner.run())
    await until(lambda: adapter.connected and runner.reading is not None, "first reading")
    runner.submit(Setpoint(p_w=1000.0, revert_s=60.0))
    await until(lambda: runner.applied is not None, "the setpoint written")
    task.cancel()  # the stop: the runner releases control...
    async with asyncio.timeout(SAFETY_TIMEOUT):
        await adapter.releasing.wait()
    task.cancel()  # ...and is cancelled again meanwhile (a second Ctrl-C, a stop timeout)
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(SAFETY_TIMEOUT):
            await task
    assert not adapter.connected  # the link was closed all the same
