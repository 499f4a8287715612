"""Modbus adapter (pymodbus): TCP, RTU on a serial bus or through an RTU-over-TCP gateway;
SunSpec discovery or a custom register map.

Transports (:class:`ModbusLink`): a Modbus TCP device has a connection of its own; every
RTU device on one bus (one ``serial_port``, or one gateway ``host:port``) shares one link
(:class:`ModbusLinks` hands them out), which serialises the requests of all its devices
(one frame on the wire at a time) and keeps the RTU inter-frame silence of 3.5 character
times (at least 1.75 ms, as the Modbus serial line spec asks above 19,200 baud) between a
response and the next request. A device that does not answer holds the bus only for its
own ``timeout_s``; the link stays open for the others and is reopened only when the
transport itself failed (a serial port gone, a gateway's socket closed).

The only module of the agent that imports pymodbus. Library errors are translated in
:func:`map_modbus_exceptions`; the client is created inside the running loop, with
pymodbus' own reconnection and retries switched off (the device runner owns reconnection).

SunSpec: the model chain is walked from ``sunspec_base`` (40000) on connect. Points are
split into *fast* (read every poll: power, BMS limits, setpoint read-back) and *slow*
(energy, SoC, nameplate, scale factors: one group per slow poll, round robin); each class
is grouped into as few requests as the map allows (:func:`group_spans`).

Control (SunSpec 704): a battery gets ``WSetEna=1, WSetMod=1, WSet`` in one request and
``WSetRvrtTms`` on the first write after every (re)connect (a device that rebooted has
its revert timer back at 0 = disabled); a PV inverter gets ``WMaxLimPctEna=1, WMaxLimPct``
and ``WMaxLimPctRvrtTms`` the same way, the percent computed from the device's own
``WMaxRtg`` (read from it; the configured rating only when the device has none). Every
write re-arms the device's revert timer, so the device falls back to its own default by
itself if the agent stops writing. :meth:`ModbusAdapter.write` returns the value the
registers now hold (after scale factor, percent steps and rounding toward zero).

Custom register maps: the ``setpoint_w`` point is written as one register (16-bit types)
or two (``int32``/``uint32``, and ``float32`` as an IEEE 754 big-endian pair).

Fault detection beyond errors on the wire: an alarm (model 701 ``Alrm``, 713 ``Sta``=2 or
802 ``State``=99), implausible values (garbage), and a BMS heartbeat (802 ``Hb``) that
stops moving (frozen readings) all raise :class:`DeviceProtocolError`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import struct
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from edge_agent._config import DeviceConfig, RegisterMap, RegisterPoint
from edge_agent._errors import DeviceProtocolError, DeviceTimeout
from protocol import MetricDef, PointValue
from protocol.clock import Clock, RealClock

from ._base import Reading, Setpoint, WriteResult
from ._sunspec import (
    END_ID,
    SUNS_MARKER,
    PointSpec,
    Span,
    decode,
    decode_string,
    encode,
    group_spans,
    model_points,
)

_T = TypeVar("_T")

MAX_MODELS: Final = 64
CONTROL_ROLES: Final = frozenset({"setpoint_w", "current_limit_a"})
FROZEN_AFTER_POLLS: Final = 10

# (model, point, name in telemetry, unit, role in Reading)
Wanted = tuple[int, str, str, str, str]
FAST: Final[dict[str, list[Wanted]]] = {
    "battery": [
        (701, "W", "p_w", "W", "p_w"),
        (701, "TmpCab", "temp_c", "C", "temp_c"),
        (701, "Alrm", "alarm", "", ""),
        (702, "WChaRteMax", "bms_max_charge_w", "W", "bms_max_charge_w"),
        (702, "WDisChaRteMax", "bms_max_discharge_w", "W", "bms_max_discharge_w"),
        (704, "WSetEna", "setpoint_enabled", "", ""),
        (704, "WSet", "setpoint_w", "W", "setpoint_w"),
        (704, "WSetRvrtRem", "revert_remaining_s", "s", ""),
        (802, "Hb", "heartbeat", "", ""),
        (802, "State", "bms_state", "", ""),
    ],
    "pv": [
        (701, "W", "p_w", "W", "p_w"),
        (701, "Alrm", "alarm", "", ""),
        (704, "WMaxLimPctEna", "limit_enabled", "", ""),
        (704, "WMaxLimPct", "limit_pct", "%", ""),
    ],
    "meter": [(203, "W", "p_w", "W", "p_w"), (203, "Evt", "events", "", "")],
}
SLOW: Final[dict[str, list[Wanted]]] = {
    "battery": [
        (713, "SoC", "soc_pct", "%", "soc_pct"),
        (713, "WHAvail", "wh_available", "Wh", ""),
        (713, "Sta", "storage_state", "", ""),
        (701, "TotWhInj", "e_out_wh", "Wh", ""),
        (701, "TotWhAbs", "e_in_wh", "Wh", ""),
        (702, "WMaxRtg", "rated_w", "W", "rated_w"),
    ],
    "pv": [
        (701, "TotWhInj", "e_out_wh", "Wh", ""),
        (702, "WMaxRtg", "rated_w", "W", "rated_w"),
    ],
    "meter": [
        (203, "TotWhImp", "e_import_wh", "Wh", ""),
        (203, "TotWhExp", "e_export_wh", "Wh", ""),
        (203, "Hz", "hz", "Hz", ""),
    ],
}


def toward_zero(value: float) -> int:
    """The register value nearest to ``value`` that is not farther from 0 W than it.

    The guard's bounds always contain 0 W, so rounding a setpoint to the register's
    resolution must never round away from zero (up to half a step past a limit, and a
    whole refused write when the BMS limit is not a multiple of the step).

    >>> toward_zero(1234.6), toward_zero(-1234.6), toward_zero(499.99999999999994)
    (1234, -1234, 500)
    """
    nearest = round(value)
    if abs(nearest) > abs(value) + 1e-6:
        return math.trunc(value)
    return nearest


def float32_registers(value: float) -> tuple[list[int], float]:
    """The two registers (big-endian IEEE 754) of ``value`` as float32, and the value they hold.

    >>> float32_registers(-1500.0)
    ([50363, 32768], -1500.0)
    """
    data = struct.pack(">f", value)
    held: float = struct.unpack(">f", data)[0]
    return [int.from_bytes(data[:2], "big"), int.from_bytes(data[2:], "big")], held


@contextlib.contextmanager
def map_modbus_exceptions(device: str) -> Iterator[None]:
    """Translate pymodbus and socket errors into :class:`DeviceError` subclasses."""
    try:
        yield
    except (ConnectionException, ModbusIOException) as exc:
        raise DeviceTimeout(f"{device}: {str(exc) or type(exc).__name__}") from exc
    except ModbusException as exc:
        raise DeviceProtocolError(f"{device}: {str(exc) or type(exc).__name__}") from exc
    except (TimeoutError, OSError) as exc:
        raise DeviceTimeout(f"{device}: {str(exc) or type(exc).__name__}") from exc


class ModbusLink:
    """One Modbus transport and the devices on it: requests one at a time, in the order
    they come, with ``frame_gap_s`` of silence after each response (RTU)."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], ModbusBaseClient],
        *,
        frame_gap_s: float = 0.0,
    ) -> None:
        self.name = name
        self._factory = factory
        self.frame_gap_s = frame_gap_s
        self._client: ModbusBaseClient | None = None
        self._lock = asyncio.Lock()
        self._users: set[str] = set()
        self._last_end = -math.inf
        self.in_flight = 0
        self.max_in_flight = 0
        """Requests on the wire at once, at most: 1 (a test checks it)."""
        self.opens = 0

    @property
    def users(self) -> frozenset[str]:
        return frozenset(self._users)

    async def open(self, user: str, timeout_s: float) -> None:
        """Join the link as ``user``; the transport is (re)opened when it is not up."""
        async with self._lock:
            self._users.add(user)
            if self._client is not None and self._client.connected:
                return
            self._drop()
            client = self._factory()
            self._client = client
            self.opens += 1
            with map_modbus_exceptions(user):
                async with asyncio.timeout(timeout_s):
                    ok = await client.connect()
            if not ok:
                self._drop()
                raise DeviceTimeout(f"{user}: cannot connect to {self.name}")

    def close(self, user: str) -> None:
        """Leave the link; the transport closes with its last user."""
        self._users.discard(user)
        if not self._users:
            self._drop()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def call(
        self, user: str, timeout_s: float, request: Callable[[ModbusBaseClient], Awaitable[_T]]
    ) -> _T:
        """Run one request for ``user`` when the bus is free."""
        async with self._lock:
            client = self._client
            if client is None or user not in self._users:
                raise DeviceTimeout(f"{user}: not connected")
            # The line's silence is physical time, whatever clock the agent runs on.
            wait = self._last_end + self.frame_gap_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                with map_modbus_exceptions(user):
                    async with asyncio.timeout(timeout_s):
                        return await request(client)
            except DeviceTimeout:
                if not client.connected:  # the transport failed, not only this device
                    self._drop()
                raise
            finally:
                self.in_flight -= 1
                self._last_end = time.monotonic()


def frame_gap_s(baudrate: int) -> float:
    """RTU silence between frames: 3.5 characters of 11 bits, at least 1.75 ms.

    >>> round(frame_gap_s(9600) * 1000, 2), frame_gap_s(115200)
    (4.01, 0.00175)
    """
    return max(3.5 * 11 / baudrate, 0.00175)


class ModbusLinks:
    """The links of one agent: one per RTU bus, shared by the devices on it; one per
    Modbus TCP device."""

    def __init__(self) -> None:
        self._links: dict[str, ModbusLink] = {}

    def for_device(self, config: DeviceConfig) -> ModbusLink:
        bus = config.bus
        if bus is None:
            return ModbusLink(f"{config.host}:{config.port}", _tcp_factory(config))
        link = self._links.get(bus)
        if link is None:
            if config.serial_port:
                link = ModbusLink(
                    bus, _serial_factory(config), frame_gap_s=frame_gap_s(config.baudrate)
                )
            else:  # an RTU-over-TCP gateway: RTU frames in a TCP stream, still one bus
                link = ModbusLink(
                    bus,
                    _tcp_factory(config, FramerType.RTU),
                    frame_gap_s=frame_gap_s(config.baudrate),
                )
            self._links[bus] = link
        return link


def _tcp_factory(
    config: DeviceConfig, framer: FramerType = FramerType.SOCKET
) -> Callable[[], ModbusBaseClient]:
    def make() -> ModbusBaseClient:
        return AsyncModbusTcpClient(
            config.host,
            port=config.port,
            framer=framer,
            timeout=config.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=config.id,
        )

    return make


def _serial_factory(config: DeviceConfig) -> Callable[[], ModbusBaseClient]:
    def make() -> ModbusBaseClient:
        return AsyncModbusSerialClient(
            config.serial_port,
            framer=FramerType.RTU,
            baudrate=config.baudrate,
            parity=config.parity,
            stopbits=config.stopbits,
            bytesize=config.bytesize,
            timeout=config.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=config.serial_port,
        )

    return make


@dataclass(frozen=True, slots=True)
class _Located:
    spec: PointSpec
    address: int
    name: str
    unit: str
    role: str
    sf_address: int | None = None
    """Register of the point's scale factor (None: fixed exponent ``spec.sf`` or none)."""


class ModbusAdapter:
    """A :class:`~edge_agent.devices.DeviceAdapter` for one Modbus device (TCP or RTU);
    ``link``: the bus it shares with other devices (default: a connection of its own)."""

    def __init__(
        self,
        config: DeviceConfig,
        *,
        custom_map: RegisterMap | None = None,
        clock: Clock | None = None,
        link: ModbusLink | None = None,
    ) -> None:
        self._cfg = config
        """The device config in force (replaced by :meth:`configure` when the hub pushes one)."""
        self._clock: Clock = clock or RealClock()
        """The agent's clock: the request gap is kept on it."""
        self._heartbeat = 0
        self._custom = custom_map
        self._link = link or ModbusLinks().for_device(config)
        self._connected = False
        self._lock = asyncio.Lock()
        self._last_request = 0.0
        self._models: dict[int, int] = {}
        self._regs: dict[int, int] = {}
        self._fast: list[Span] = []
        self._slow: list[Span] = []
        self._slow_next = 0
        self._points: list[_Located] = []
        self._custom_points: list[RegisterPoint] = []
        self._hb: tuple[int | None, int] = (None, 0)
        self._fast_names: frozenset[str] = frozenset()
        self._all_fresh = False
        self._slow_names: list[frozenset[str]] = []
        self._armed_revert: float | None = None
        self.requests = 0
        self.request_times: collections.deque[float] = collections.deque(maxlen=64)
        """Clock-monotonic start times of the latest requests (diagnostics, bounded)."""

    @property
    def device(self) -> str:
        return self._cfg.id

    def configure(self, config: DeviceConfig) -> None:
        """Follow a new config of the same device (pushed limits, revert period): used
        from the next request on."""
        self._cfg = config

    @property
    def controllable(self) -> bool:
        if self._custom is not None:
            return any(p.role in CONTROL_ROLES for p in self._custom.points)
        return 704 in self._models and self._cfg.kind in {"battery", "pv"}

    # ------------------------------------------------------------------ requests

    async def _gap(self) -> None:
        gap = self._cfg.min_request_gap_s
        clock = self._clock
        if gap > 0:
            wait = self._last_request + gap - clock.monotonic()
            if wait > 0:
                await clock.sleep(wait)
        self._last_request = clock.monotonic()
        self.request_times.append(self._last_request)

    @property
    def link(self) -> ModbusLink:
        return self._link

    async def _request(self, request: Callable[[ModbusBaseClient], Awaitable[Any]]) -> Any:
        if not self._connected:
            raise DeviceTimeout(f"{self.device}: not connected")
        await self._gap()
        self.requests += 1
        return await self._link.call(self.device, self._cfg.timeout_s, request)

    async def _read(self, address: int, count: int) -> list[int]:
        unit = self._cfg.unit_id
        result = await self._request(
            lambda c: c.read_holding_registers(address, count=count, device_id=unit)
        )
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceProtocolError(f"{self.device}: exception code {code} reading {address}")
        regs = list(result.registers)
        if len(regs) < count:
            raise DeviceProtocolError(f"{self.device}: short read at {address}")
        return regs

    async def _write(self, address: int, values: list[int]) -> None:
        unit = self._cfg.unit_id
        result = await self._request(lambda c: c.write_registers(address, values, device_id=unit))
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceProtocolError(f"{self.device}: write refused at {address} (code {code})")

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        await self.close()
        # Whatever was armed before is unknown now (the device may have rebooted, its
        # revert timer back at 0): the first write after this one arms it again.
        self._armed_revert = None
        await self._link.open(self.device, self._cfg.timeout_s)
        self._connected = True
        async with self._lock:
            if self._custom is not None:
                self._plan_custom(self._custom)
            else:
                await self._discover()
            for span in self._fast + self._slow:
                await self._read_span(span)
            self._all_fresh = True
        # the heartbeat history survives reconnects: a frozen device stays suspect until its
        # heartbeat moves again

    async def close(self) -> None:
        if self._connected or self.device in self._link.users:
            self._connected = False
            self._link.close(self.device)

    async def _read_span(self, span: Span) -> None:
        regs = await self._read(span.address, span.count)
        for k, value in enumerate(regs):
            self._regs[span.address + k] = value

    async def _discover(self) -> None:
        base = self._cfg.sunspec_base
        marker = await self._read(base, 2)
        if tuple(marker) != SUNS_MARKER:
            raise DeviceProtocolError(f"{self.device}: no SunSpec marker at {base}")
        address = base + 2
        models: dict[int, int] = {}
        for _ in range(MAX_MODELS):
            model_id, length = await self._read(address, 2)
            if model_id == END_ID:
                break
            models[model_id] = address
            address += 2 + length
        else:
            raise DeviceProtocolError(f"{self.device}: SunSpec chain longer than {MAX_MODELS}")
        self._models = models
        kind = self._cfg.kind if self._cfg.kind in FAST else self._guess_kind(models)
        located: list[_Located] = []
        fast_ranges: list[tuple[int, int]] = []
        slow_ranges: list[tuple[int, int]] = []
        for wanted, ranges in (
            (FAST.get(kind, []), fast_ranges),
            (SLOW.get(kind, []), slow_ranges),
        ):
            for model, point, name, unit, role in wanted:
                spec = model_points(model).get(point) if model in models else None
                if spec is None:
                    continue
                addr = models[model] + spec.offset
                sf = self._sf_spec(spec)
                sf_addr = None if sf is None else models[model] + sf.offset
                located.append(_Located(spec, addr, name, unit, role, sf_addr))
                ranges.append((addr, spec.size))
                if sf_addr is not None:
                    slow_ranges.append((sf_addr, 1))
        if not located:
            raise DeviceProtocolError(f"{self.device}: none of the expected SunSpec models found")
        self._points = located
        self._fast = group_spans(fast_ranges)
        self._slow = group_spans(slow_ranges)
        self._fast_names = frozenset().union(*self._names_in(self._fast))
        self._slow_names = self._names_in(self._slow)

    @staticmethod
    def _guess_kind(models: dict[int, int]) -> str:
        if any(m in models for m in (201, 202, 203, 204)):
            return "meter"
        if 713 in models or 802 in models:
            return "battery"
        return "pv"

    @staticmethod
    def _sf_spec(spec: PointSpec) -> PointSpec | None:
        if isinstance(spec.sf, str):
            return model_points(spec.model).get(spec.sf)
        return None

    def _plan_custom(self, custom: RegisterMap) -> None:
        size = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
        self._custom_points = list(custom.points)
        self._fast = group_spans((p.address, size[p.type]) for p in custom.points
                                 if p.poll == "fast")  # fmt: skip
        self._slow = group_spans((p.address, size[p.type]) for p in custom.points
                                 if p.poll == "slow")  # fmt: skip
        self._fast_names = frozenset()
        self._slow_names = [frozenset() for _ in self._slow]  # custom readings report all

    # ------------------------------------------------------------------ reading

    async def read(self, *, slow: bool = False) -> Reading:
        fresh: frozenset[str] | None = self._fast_names
        if self._all_fresh:  # connect() just read everything: report it all once
            self._all_fresh, fresh = False, None
        async with self._lock:
            for span in self._fast:
                await self._read_span(span)
            if slow and self._slow:
                index = self._slow_next % len(self._slow)
                await self._read_span(self._slow[index])
                if fresh is not None:
                    fresh = fresh | self._slow_names[index]
                self._slow_next += 1
        if self._custom is not None:
            return self._custom_reading()
        return self._sunspec_reading(fresh)

    def _names_in(self, spans: list[Span]) -> list[frozenset[str]]:
        return [
            frozenset(
                loc.name
                for loc in self._points
                if span.address <= loc.address < span.address + span.count
            )
            for span in spans
        ]

    def _value(self, loc: _Located) -> float | int | str | None:
        regs = self._regs
        spec = loc.spec
        if spec.type == "string":
            return decode_string([regs.get(loc.address + k, 0) for k in range(spec.size)])
        if spec.size == 1:
            raw = decode((regs.get(loc.address, 0),), spec)
        else:
            raw = decode([regs.get(loc.address + k, 0) for k in range(spec.size)], spec)
        if raw is None:
            return None
        if loc.sf_address is None:
            exponent = spec.sf if isinstance(spec.sf, int) else 0
        else:
            sf_raw = regs.get(loc.sf_address, 0x8000)
            if sf_raw == 0x8000:
                return None  # scale factor not implemented
            exponent = sf_raw - 0x10000 if sf_raw >= 0x8000 else sf_raw
            if not -10 <= exponent <= 10:
                raise DeviceProtocolError(f"{self.device}: implausible scale factor {exponent}")
        if exponent == 0:
            return raw
        return raw * 10.0**exponent

    def _sunspec_reading(self, fresh: frozenset[str] | None = None) -> Reading:
        values: dict[str, PointValue] = {}
        units: dict[str, str] = {}
        roles: dict[str, float] = {}
        for loc in self._points:
            value = self._value(loc)
            values[loc.name] = value
            if loc.unit:
                units[loc.name] = loc.unit
            if loc.role and isinstance(value, int | float):
                roles[loc.role] = float(value)
        self._check_plausible(values, roles)
        return Reading(
            values=values,
            units=units,
            p_w=roles.get("p_w"),
            soc_pct=roles.get("soc_pct"),
            temp_c=roles.get("temp_c"),
            bms_max_charge_w=roles.get("bms_max_charge_w"),
            bms_max_discharge_w=roles.get("bms_max_discharge_w"),
            rated_w=roles.get("rated_w"),
            setpoint_w=roles.get("setpoint_w"),
            fresh=fresh,
        )

    def _check_plausible(self, values: dict[str, PointValue], roles: dict[str, float]) -> None:
        dev = self.device
        alarm = values.get("alarm")
        if isinstance(alarm, int) and alarm & (1 << 16):
            raise DeviceProtocolError(f"{dev}: device alarm (Alrm={alarm:#x})")
        if values.get("bms_state") == 99 or values.get("storage_state") == 2:
            raise DeviceProtocolError(f"{dev}: battery alarm")
        soc = roles.get("soc_pct")
        if soc is not None and not 0 <= soc <= 100:
            raise DeviceProtocolError(f"{dev}: implausible SoC {soc:g} %")
        rated = roles.get("rated_w") or self._cfg.limits.p_max_discharge_w
        p = roles.get("p_w")
        if p is not None and rated > 0 and self._cfg.kind != "meter" and abs(p) > 2 * rated:
            raise DeviceProtocolError(f"{dev}: implausible power {p:g} W (rated {rated:g} W)")
        for key in ("bms_max_charge_w", "bms_max_discharge_w"):
            v = roles.get(key)
            if v is not None and rated > 0 and not 0 <= v <= 2 * rated:
                raise DeviceProtocolError(f"{dev}: implausible {key} {v:g} W")
        hb = values.get("heartbeat")
        if isinstance(hb, int):
            last, same = self._hb
            same = same + 1 if hb == last else 0
            self._hb = (hb, same)
            if same >= FROZEN_AFTER_POLLS:
                raise DeviceProtocolError(f"{dev}: readings frozen (BMS heartbeat stuck at {hb})")

    def _custom_reading(self) -> Reading:
        values: dict[str, PointValue] = {}
        units: dict[str, str] = {}
        roles: dict[str, float] = {}
        for p in self._custom_points:
            size = 2 if p.type in {"int32", "uint32", "float32"} else 1
            regs = [self._regs.get(p.address + k, 0) for k in range(size)]
            raw = 0
            for r in regs:
                raw = (raw << 16) | r
            if p.type == "float32":
                number: float = struct.unpack(">f", raw.to_bytes(4, "big"))[0]
            else:
                if p.type.startswith("int") and raw >= 1 << (16 * size - 1):
                    raw -= 1 << (16 * size)
                number = raw
            value = number * p.scale
            values[p.name] = value
            if p.unit:
                units[p.name] = p.unit
            if p.role:
                roles[p.role] = float(value)
        return Reading(values=values, units=units, p_w=roles.get("p_w"),
                       soc_pct=roles.get("soc_pct"), temp_c=roles.get("temp_c"),
                       setpoint_w=roles.get("setpoint_w"))  # fmt: skip

    # ------------------------------------------------------------------ writing

    def _addr(self, model: int, point: str) -> tuple[int, PointSpec]:
        spec = model_points(model).get(point)
        if model not in self._models or spec is None:
            raise DeviceProtocolError(f"{self.device}: no SunSpec point {model}.{point}")
        return self._models[model] + spec.offset, spec

    def _scale_of(self, model: int, spec: PointSpec) -> int:
        sf = self._sf_spec(spec)
        if sf is None:
            return spec.sf if isinstance(spec.sf, int) else 0
        raw = decode([self._regs.get(self._models[model] + sf.offset, 0)], sf)
        return raw or 0

    async def write(self, setpoint: Setpoint) -> WriteResult:
        if self._custom is not None:
            return await self._write_custom(setpoint)
        tms = max(1, round(setpoint.revert_s))
        async with self._lock:
            if self._cfg.kind == "battery":
                ena_addr, _ = self._addr(704, "WSetEna")
                wset_addr, wset = self._addr(704, "WSet")
                if self._armed_revert != tms:
                    tms_addr, tms_spec = self._addr(704, "WSetRvrtTms")
                    await self._write(tms_addr, encode(tms, tms_spec.size))
                exp = self._scale_of(704, wset)
                raw = toward_zero(setpoint.p_w / 10.0**exp)
                if wset_addr == ena_addr + 2:  # WSetEna, WSetMod, WSet: one request
                    await self._write(ena_addr, [1, 1, *encode(raw, wset.size)])
                else:  # pragma: no cover - every SunSpec 704 has them adjacent
                    await self._write(wset_addr, encode(raw, wset.size))
                    await self._write(ena_addr, [1])
                written = raw * 10.0**exp
            elif self._cfg.kind == "pv":
                ena_addr, _ = self._addr(704, "WMaxLimPctEna")
                pct_addr, pct = self._addr(704, "WMaxLimPct")
                if self._armed_revert != tms:
                    tms_addr, tms_spec = self._addr(704, "WMaxLimPctRvrtTms")
                    await self._write(tms_addr, encode(tms, tms_spec.size))
                rated = self._rated_w()
                share = 100.0 if rated <= 0 else min(100.0, max(0.0, setpoint.p_w / rated * 100))
                exp = self._scale_of(704, pct)
                raw = toward_zero(share / 10.0**exp)
                if pct_addr == ena_addr + 1:
                    await self._write(ena_addr, [1, *encode(raw, pct.size)])
                else:  # pragma: no cover
                    await self._write(pct_addr, encode(raw, pct.size))
                    await self._write(ena_addr, [1])
                written = raw * 10.0**exp / 100.0 * rated
            else:
                raise DeviceProtocolError(f"{self.device}: a {self._cfg.kind} is not controllable")
        self._armed_revert = tms
        return WriteResult(written, float(tms))

    def _rated_w(self) -> float:
        """The device's own rating (702 ``WMaxRtg``, read on connect); the configured
        ``p_max_discharge_w`` only when the device does not state one."""
        for loc in self._points:
            if loc.role == "rated_w":
                value = self._value(loc)
                if isinstance(value, int | float) and math.isfinite(value) and value > 0:
                    return float(value)
        return self._cfg.limits.p_max_discharge_w

    def _role(self, role: str) -> RegisterPoint | None:
        return next((p for p in self._custom_points if p.role == role), None)

    @staticmethod
    def _registers(point: RegisterPoint, value: float) -> tuple[list[int], float]:
        """The registers of ``value`` (engineering units) at ``point``, and what they hold."""
        if point.type == "float32":
            regs, held = float32_registers(value / point.scale)
            return regs, held * point.scale
        raw = toward_zero(value / point.scale)
        return encode(raw, 2 if point.type in {"int32", "uint32"} else 1), raw * point.scale

    async def _write_charger(self, setpoint: Setpoint, limit: RegisterPoint) -> WriteResult:
        """An EV charger: the power cap as a current limit (0 or min..max A), the watchdog
        armed (and the fallback current written) on the first write after every connect,
        the heartbeat counted up with every write."""
        charger = self._cfg.charger
        amps = min(charger.max_current_a, max(0.0, -setpoint.p_w) / charger.w_per_a)
        regs, held_a = self._registers(limit, amps)
        if 0 < held_a < charger.min_current_a:  # cannot charge that slowly: pause
            regs, held_a = self._registers(limit, 0.0)
        watchdog = self._role("watchdog_s")
        tms = max(1, round(setpoint.revert_s))
        async with self._lock:
            if watchdog is not None and self._armed_revert != tms:
                fallback = self._role("fallback_a")
                fallback_a = charger.fallback_current_a
                if fallback is not None and fallback_a is not None:
                    await self._write(fallback.address, self._registers(fallback, fallback_a)[0])
                await self._write(watchdog.address, self._registers(watchdog, tms)[0])
            await self._write(limit.address, regs)
            heartbeat = self._role("heartbeat")
            if heartbeat is not None:
                self._heartbeat = (self._heartbeat + 1) & 0x7FFF
                await self._write(heartbeat.address, [self._heartbeat])
        written = 0.0 - held_a * charger.w_per_a  # never -0.0
        if watchdog is None:
            return WriteResult(written, None)
        self._armed_revert = tms
        return WriteResult(written, float(tms))

    async def _write_custom(self, setpoint: Setpoint) -> WriteResult:
        limit = self._role("current_limit_a")
        if limit is not None and self._cfg.kind == "ev_charger":
            return await self._write_charger(setpoint, limit)
        target = self._role("setpoint_w")
        if target is None:
            raise DeviceProtocolError(f"{self.device}: its register map has no setpoint_w point")
        if target.type == "float32":
            regs, written = float32_registers(setpoint.p_w / target.scale)
            written *= target.scale
        else:
            raw = toward_zero(setpoint.p_w / target.scale)
            regs = encode(raw, 2 if target.type in {"int32", "uint32"} else 1)
            written = raw * target.scale
        async with self._lock:
            await self._write(target.address, regs)
        return WriteResult(written, None)

    async def release(self) -> None:
        if not self._connected:
            return
        if self._custom is not None:
            limit = self._role("current_limit_a")
            if limit is not None and self._cfg.kind == "ev_charger":
                charger = self._cfg.charger
                amps = charger.fallback_current_a
                amps = charger.max_current_a if amps is None else amps
                async with self._lock:  # what its own watchdog would fall back to
                    await self._write(limit.address, self._registers(limit, amps)[0])
                self._armed_revert = None
            return
        async with self._lock:
            if self._cfg.kind == "battery" and 704 in self._models:
                addr, _ = self._addr(704, "WSetEna")
                await self._write(addr, [0])
            elif self._cfg.kind == "pv" and 704 in self._models:
                addr, _ = self._addr(704, "WMaxLimPctEna")
                await self._write(addr, [0])
        self._armed_revert = None

    def metrics(self) -> list[MetricDef]:
        if self._custom is not None:
            return [MetricDef(name=p.name, unit=p.unit, writable=p.role in CONTROL_ROLES)
                    for p in self._custom_points]  # fmt: skip
        return [
            MetricDef(
                name=loc.name,
                unit=loc.unit,
                dtype="int" if loc.spec.type.startswith(("enum", "bitfield", "uint16")) and
                not loc.unit else "float",
                sunspec_point=f"{loc.spec.model}.{loc.spec.name}",
                writable=loc.name == "setpoint_w",
            )
            for loc in self._points
        ]  # fmt: skip


__all__ = [
    "ModbusAdapter",
    "ModbusLink",
    "ModbusLinks",
    "float32_registers",
    "frame_gap_s",
    "map_modbus_exceptions",
    "toward_zero",
]
