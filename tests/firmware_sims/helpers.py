"""pymodbus client helpers for the simulator tests (client created inside the loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymodbus.client import AsyncModbusTcpClient

from firmware_sims import DeviceEndpoint, SunSpecMap
from tests.support import SAFETY_TIMEOUT


@asynccontextmanager
async def modbus(ep: DeviceEndpoint, timeout_s: float = 3.0) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(ep.host, port=ep.port, timeout=timeout_s, retries=0)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        assert await client.connect()
    try:
        yield client
    finally:
        client.close()


async def read_point(
    client: AsyncModbusTcpClient, smap: SunSpecMap, model: int, name: str
) -> float | None:
    """Read one SunSpec point over the wire and decode it with the device's map."""
    p = smap.point(model, name)
    async with asyncio.timeout(SAFETY_TIMEOUT):
        rr = await client.read_holding_registers(p.address, count=p.size, device_id=1)
    assert not rr.isError(), rr
    image = list(smap.template)
    base = smap.point(1, "ID").address - 2
    image[p.address - base : p.address - base + p.size] = rr.registers
    return smap.value(image, p)


def encode(smap: SunSpecMap, model: int, name: str, value: float) -> tuple[int, list[int]]:
    """Address and registers that write ``value`` to a SunSpec point."""
    p = smap.point(model, name)
    image = list(smap.template)
    smap.put(image, p, value)
    base = smap.point(1, "ID").address - 2
    return p.address, image[p.address - base : p.address - base + p.size]
