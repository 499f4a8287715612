"""Stopping the agent cannot be defeated by a library that swallows a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest
from pymodbus.client.base import ModbusBaseClient
from pymodbus.pdu import ModbusPDU

from edge_agent import AgentMetrics, DeviceRunner, PointBuffer
from edge_agent.devices import Reading
from edge_agent.devices.modbus import ModbusLinks
from firmware_sims import (
    SUNS_BASE,
    Battery,
    BatteryRegisters,
    FaultKind,
    FaultSet,
    ModbusBusServer,
    ModbusDeviceServer,
)
from firmware_sims._faults import ActiveFault
from protocol.clock import Clock, ManualClock
from tests.edge_agent.conftest import device_toml, make_config, until
from tests.edge_agent.fakes import FakeAdapter, FakeSite
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


@contextlib.asynccontextmanager
async def _battery_behind(transport: str, server: ModbusDeviceServer) -> AsyncIterator[str]:
    """A simulated battery (unit 1) as its own Modbus TCP server or behind an RTU-over-TCP
    gateway; yields the device's TOML transport lines."""
    if transport == "tcp":
        async with server.serve("127.0.0.1", 0):
            yield f'host = "127.0.0.1"\nport = {server.port}'
    else:
        async with ModbusBusServer([server]).serve_rtu_tcp("127.0.0.1", 0) as gateway:
            yield f'protocol = "modbus_rtu"\nhost = "127.0.0.1"\nport = {gateway.port}'


@pytest.mark.parametrize("transport", ["tcp", "rtu_over_tcp"])
async def test_a_request_cancelled_on_the_wire_leaves_no_answer_for_the_next_one(
    tmp_path: Path, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A stop cancels a read the device has yet to answer; the runner's release then sends
    its write on the same link. The late answer must not meet that next request: on an RTU
    bus (no transaction ids) it was taken for the next request's answer; over TCP pymodbus
    dropped it with an ERROR line and a frame dump (what `vpp demo` printed on SIGTERM), or,
    with the simulator here (pymodbus' server answers a request it is still working on
    under the id of the latest one), took it for the next answer as well."""
    caplog.set_level(logging.WARNING)
    faults = FaultSet()
    server = ModbusDeviceServer(
        BatteryRegisters(Battery(rated_w=50_000, capacity_wh=100_000), {"SN": "b1"}), faults, 1
    )
    async with _battery_behind(transport, server) as where:
        toml = f'\n[[devices]]\nid = "bess-1"\nkind = "meter"\n{where}\nunit_id = 1\n'
        config = make_config(tmp_path, devices=toml)
        link = ModbusLinks().for_device(config.devices[0])
        timeout_s = SAFETY_TIMEOUT

        def marker(c: ModbusBaseClient) -> Awaitable[ModbusPDU]:
            return c.read_holding_registers(SUNS_BASE, count=2, device_id=1)

        def header(c: ModbusBaseClient) -> Awaitable[ModbusPDU]:
            return c.read_holding_registers(SUNS_BASE + 2, count=2, device_id=1)

        await link.open("bess-1", timeout_s)
        try:
            common_header = (await link.call("bess-1", timeout_s, header)).registers
            assert common_header == [1, 66]  # SunSpec common model: id 1, length 66
            faults.set(ActiveFault(FaultKind.SLOW, {"delay_s": 0.2}, None))
            seen = server.requests
            read = asyncio.create_task(link.call("bess-1", timeout_s, marker))
            await until(lambda: server.requests > seen, "the read reached the device")
            read.cancel()
            after = await link.call("bess-1", timeout_s, header)
            with pytest.raises(asyncio.CancelledError):
                await read
        finally:
            link.close("bess-1")
    assert after.registers == common_header, "the next read got the cancelled one's answer"
    noise = [r.getMessage() for r in caplog.records if r.name.startswith("pymodbus")]
    assert noise == []
