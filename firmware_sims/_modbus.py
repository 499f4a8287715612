"""One Modbus TCP server per simulated device (pymodbus ``SimDevice`` datastore), or
several devices on one RTU bus (:class:`ModbusBusServer`: a serial port, such as one end
of a pty pair, or RTU frames over TCP as a serial-to-Ethernet gateway passes them).

The datastore is pymodbus' current ``SimDevice``/``SimData`` API: the register block is
declared once (read-only registers flagged, so writes to them get *illegal data address*;
addresses outside the map get the same), and an ``action`` hook renders live values from
the device model on every read and validates every write (*illegal data value* when the
model refuses). Faults are applied in the same hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from ._faults import FaultKind, FaultSet
from ._registers import ExcCode, RegisterDevice
from ._sunspec import SUNS_BASE

if TYPE_CHECKING:
    from pymodbus.server import ModbusTcpServer

REGISTER_FUNCTIONS = frozenset({3, 4, 6, 16, 23})
"""Read holding/input registers, write single/multiple, read-write multiple."""


@contextlib.asynccontextmanager
async def _listening(server: Any, host: str, port: int) -> AsyncIterator[tuple[str, int]]:
    """A pymodbus TCP server listening on ``host:port``; the address it bound (port 0 = a
    free one) until the block exits, then shut down."""
    if not await server.listen():
        raise OSError(f"cannot listen on {host}:{port}")
    sockets = server.transport.sockets
    try:
        yield sockets[0].getsockname()[:2]
    finally:
        await server.shutdown()


class ModbusDeviceServer:
    """A running Modbus TCP server for one device; ``port`` is the bound port."""

    def __init__(
        self, device: RegisterDevice, faults: FaultSet, unit_id: int, seed: int = 0
    ) -> None:
        self.device = device
        self.faults = faults
        self.unit_id = unit_id
        self.host = ""
        self.port = 0
        self.requests = 0
        self._server: ModbusTcpServer | None = None
        self._frozen: list[int] | None = None
        self._garbage = random.Random(seed)  # noqa: S311 - simulation, not crypto

    def _simdevices(self) -> list[Any]:
        """The device under its unit id, and a catch-all (id 0) for any other unit id."""
        from pymodbus.simulator import SimDevice

        action: Any = self._action
        devices = [SimDevice(id=self.unit_id, simdata=self._blocks(), action=action)]
        if self.unit_id != 0:
            other: Any = self._wrong_unit
            devices.append(SimDevice(id=0, simdata=self._blocks(), action=other))
        return devices

    async def _wrong_unit(self, *_args: object) -> object:
        from pymodbus.constants import ExcCodes

        return ExcCodes.GATEWAY_NO_RESPONSE

    def _blocks(self) -> list[Any]:
        from pymodbus.simulator import DataType, SimData

        dev = self.device
        blocks: list[SimData] = []
        start = 0
        size = len(dev.image)
        while start < size:
            ro = (dev.base + start) not in dev.writable
            end = start
            while end < size and ((dev.base + end) not in dev.writable) == ro:
                end += 1
            blocks.append(
                SimData(
                    address=dev.base + start,
                    count=1,
                    values=[v & 0xFFFF for v in dev.image[start:end]],
                    datatype=DataType.REGISTERS,
                    readonly=ro,
                )
            )
            start = end
        return blocks

    def drop_connections(self) -> None:
        """Close every open client connection (the ``drop`` fault)."""
        if self._server is None:
            return
        for conn in list(self._server.active_connections.values()):
            conn.close()

    async def _request_fault(self, write: bool) -> int | None:
        """Apply drop/reboot/slow/exception/refuse_writes; the exception code, if any."""
        faults = self.faults
        if FaultKind.DROP in faults or FaultKind.REBOOT in faults:
            self.drop_connections()
            return int(ExcCode.DEVICE_FAILURE)  # never delivered: the connection is gone
        if (slow := faults.get(FaultKind.SLOW)) is not None:
            await asyncio.sleep(slow.params["delay_s"])
        if (exc := faults.get(FaultKind.EXCEPTION)) is not None:
            return int(exc.params["code"])
        if write and (refuse := faults.get(FaultKind.REFUSE_WRITES)) is not None:
            return int(refuse.params["code"])
        return None

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> object:
        from pymodbus.constants import ExcCodes

        self.requests += 1
        if function_code not in REGISTER_FUNCTIONS:  # coils, discrete inputs: not a SunSpec map
            return ExcCodes.ILLEGAL_FUNCTION
        faults = self.faults
        if faults.active and (code := await self._request_fault(set_values is not None)):
            return ExcCodes(code)
        dev = self.device
        if FaultKind.FROZEN not in faults:
            self._frozen = None
        elif self._frozen is None:  # readings stop at what was last served
            self._frozen = list(dev.image)
        if set_values is not None:
            code = dev.write(address, [int(v) for v in set_values])
            return None if code is None else ExcCodes(int(code))
        offset = address - start_address
        if FaultKind.GARBAGE in faults:
            rnd = self._garbage
            for i in range(offset, offset + count):
                registers[i] = rnd.getrandbits(16)
            if dev.base == SUNS_BASE:  # keep the chain scannable: marker and headers
                registers[offset : offset + count] = self._keep_headers(
                    address, registers[offset : offset + count]
                )
            return None
        if self._frozen is not None:
            image = self._frozen
        else:
            dev.refresh()
            image = dev.image
        src = address - dev.base
        registers[offset : offset + count] = image[src : src + count]
        return None

    def _keep_headers(self, address: int, values: list[int]) -> list[int]:
        smap = getattr(self.device, "smap", None)
        if smap is None:  # pragma: no cover - only SunSpec devices live at 40000
            return values
        keep = {SUNS_BASE, SUNS_BASE + 1, smap.end, smap.end + 1}
        for layout in smap.models.values():
            keep.update({layout.address, layout.address + 1})
        image = self.device.image
        return [
            image[a - SUNS_BASE] if a in keep else v
            for a, v in zip(range(address, address + len(values)), values, strict=True)
        ]

    @contextlib.asynccontextmanager
    async def serve(self, host: str, port: int) -> AsyncIterator[ModbusDeviceServer]:
        """Listen on ``host:port`` (0 = a free port) until the block exits."""
        from pymodbus.server import ModbusTcpServer

        server = ModbusTcpServer(self._simdevices(), address=(host, port))
        async with _listening(server, host, port) as (self.host, self.port):
            self._server = server
            try:
                yield self
            finally:
                self._server = None


@contextlib.asynccontextmanager
async def run_modbus_device(
    device: RegisterDevice,
    *,
    unit_id: int = 1,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultSet | None = None,
) -> AsyncIterator[ModbusDeviceServer]:
    """Serve one device's register map on Modbus TCP until the block exits.

    >>> # async with run_modbus_device(BatteryRegisters(Battery(...), {...})) as srv: srv.port
    """
    server = ModbusDeviceServer(device, faults or FaultSet(), unit_id)
    async with server.serve(host, port):
        yield server


class ModbusBusServer:
    """Devices on one RTU bus, each answering under its own unit id; a unit id nobody has
    gets no answer (as on RS-485), so its master times out."""

    def __init__(self, devices: Sequence[ModbusDeviceServer]) -> None:
        units = [d.unit_id for d in devices]
        if len(set(units)) != len(units) or 0 in units:
            raise ValueError(f"unit ids on one bus must be distinct and not 0: {units}")
        self.devices = list(devices)
        self.host = ""
        self.port = 0
        self._server: Any = None

    def _simdevices(self) -> list[Any]:
        return [d._simdevices()[0] for d in self.devices]

    @contextlib.asynccontextmanager
    async def serve_serial(
        self,
        path: str,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        bytesize: int = 8,
    ) -> AsyncIterator[ModbusBusServer]:
        """Answer on the serial port ``path`` until the block exits."""
        from pymodbus import FramerType
        from pymodbus.server import ModbusSerialServer

        server = ModbusSerialServer(
            self._simdevices(),
            framer=FramerType.RTU,
            port=path,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            bytesize=bytesize,
            ignore_missing_devices=True,
        )
        if not await server.listen():
            raise OSError(f"cannot open serial port {path}")
        self._server = server
        try:
            yield self
        finally:
            self._server = None
            await server.shutdown()  # type: ignore[no-untyped-call]

    @contextlib.asynccontextmanager
    async def serve_rtu_tcp(self, host: str, port: int) -> AsyncIterator[ModbusBusServer]:
        """Answer RTU frames on TCP ``host:port`` (0 = a free port), as a gateway does."""
        from pymodbus import FramerType
        from pymodbus.server import ModbusTcpServer

        server = ModbusTcpServer(
            self._simdevices(),
            framer=FramerType.RTU,
            address=(host, port),
            ignore_missing_devices=True,
        )
        async with _listening(server, host, port) as (self.host, self.port):
            self._server = server
            try:
                yield self
            finally:
                self._server = None
