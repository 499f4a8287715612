"""Discovery (``vpp agent scan``): find devices and read their nameplates, never write.

The only other module of the agent (beside the adapters) that imports pymodbus and
asyncua. It only ever *reads*: holding registers (function 3) on Modbus, browse and read on
OPC UA.

Modbus, per ``host:port`` (one connection, its unit ids asked one after another, as on one
RS-485 bus behind a gateway):

1. the SunSpec marker ``SunS`` at 40000, 50000 and 0, then the model chain (at most
   :data:`MAX_MODELS` models, every length checked against the address space);
2. the nameplate models read whole: 1 (manufacturer, model, serial), 702 (ratings), 713
   and 802 (storage), 203 (meter); 704's revert timers tell the fail-safe it supports;
3. no marker: the Lingtan EVSE map (map version, phases, voltage and currents plausible);
4. anything else that answers is reported as an unknown device (a stub in the config).

OPC UA endpoints are browsed under ``Objects`` for objects whose variables match a known
object type (the chiller plant: ``Power`` and ``PowerLimit``).

Bounded: every request has ``timeout_s``, every target ``target_timeout_s``, at most
``concurrency`` targets at once. Garbage, timeouts and devices that lie about their models
end in :class:`Skipped` (with the reason) or in what could be read; the scan goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge_agent._errors import DeviceError, DeviceProtocolError, DeviceTimeout

from ._sunspec import END_ID, SUNS_MARKER, PointSpec, decode, decode_string, model_points

SUNSPEC_BASES: Final = (40000, 50000, 0)
MAX_MODELS: Final = 64
MAX_MODEL_LEN: Final = 2000
MAX_READ: Final = 125
EVSE_SIZE: Final = 24
NO_DEVICE_CODES: Final = frozenset({10, 11})
"""Gateway path unavailable / target failed to respond: nobody at this unit id."""

METER_MODELS: Final = frozenset({201, 202, 203, 204})
STORAGE_MODELS: Final = frozenset({713, 802, 124})
INVERTER_MODELS: Final = frozenset({101, 102, 103, 701, 702})


@dataclass(frozen=True, slots=True)
class ModbusTarget:
    """One Modbus TCP endpoint and the unit ids to ask there."""

    host: str
    port: int
    units: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class Found:
    """One identified device, with what its nameplate says (None: not stated)."""

    kind: str
    """``battery``, ``pv``, ``meter``, ``ev_charger``, ``hvac`` or ``unknown``."""
    protocol: str
    host: str
    port: int
    unit_id: int | None = None
    endpoint: str = ""
    register_map: str = "sunspec"
    """``sunspec``, ``lingtan-evse`` or ``""`` (unknown map)."""
    sunspec_base: int = 40000
    models: tuple[int, ...] = ()
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    rated_w: float | None = None
    charge_rated_w: float | None = None
    discharge_rated_w: float | None = None
    capacity_wh: float | None = None
    soc_min_pct: float | None = None
    soc_max_pct: float | None = None
    revert: bool = False
    """Whether the device offers a fail-safe timer (SunSpec 704 ``*RvrtTms``, an EVSE
    watchdog, OPC UA ``RevertSeconds``)."""
    phases: int | None = None
    voltage_v: float | None = None
    min_current_a: float | None = None
    max_current_a: float | None = None
    setpoint_c: float | None = None
    opcua_namespace: str = ""
    opcua_object: str = ""
    notes: tuple[str, ...] = ()
    """What the scan could not use (a lying model chain, an implausible rating...)."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A target (or unit) that gave nothing usable, and why."""

    target: str
    reason: str


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found and everything it skipped, in target order."""

    found: list[Found] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@contextlib.contextmanager
def _mapped(where: str) -> Iterator[None]:
    try:
        yield
    except ModbusException as exc:
        raise DeviceTimeout(f"{where}: {str(exc) or type(exc).__name__}") from exc
    except (TimeoutError, OSError) as exc:
        raise DeviceTimeout(f"{where}: {str(exc) or type(exc).__name__}") from exc


class _NoDevice(DeviceError):  # noqa: N818 - an outcome, named like one
    """Nobody answers at this unit id (timeout, or a gateway saying so: ``gateway``)."""

    def __init__(self, message: str, *, gateway: bool = False) -> None:
        super().__init__(message)
        self.gateway = gateway


class _Exception(DeviceProtocolError):  # noqa: N818
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Reader:
    """Reads holding registers of one unit on one connection (nothing else, ever)."""

    def __init__(self, client: AsyncModbusTcpClient, where: str, unit: int, timeout_s: float):
        self._client = client
        self._where = where
        self._unit = unit
        self._timeout = timeout_s
        self.answered = False

    async def read(self, address: int, count: int) -> list[int]:
        if not 0 <= address <= 65535 - count + 1 or not 1 <= count <= MAX_READ:
            raise DeviceProtocolError(f"{self._where}: read outside the address space")
        for attempt in range(2):  # one retry: a busy gateway or device may miss one
            try:
                with _mapped(self._where):
                    async with asyncio.timeout(self._timeout):
                        result = await self._client.read_holding_registers(
                            address, count=count, device_id=self._unit
                        )
                break
            except DeviceTimeout as exc:
                if attempt or not self._client.connected:
                    raise _NoDevice(str(exc)) from exc
        if result.isError():
            code = int(getattr(result, "exception_code", 0) or 0)
            if code in NO_DEVICE_CODES:
                raise _NoDevice(f"{self._where}: gateway exception {code}", gateway=True)
            self.answered = True
            raise _Exception(f"{self._where}: exception code {code} at {address}", code)
        regs = [int(r) for r in result.registers]
        if len(regs) < count:
            self.answered = True
            raise DeviceProtocolError(f"{self._where}: short read at {address}")
        self.answered = True
        return regs


def _value(block: Sequence[int], spec: PointSpec, points: dict[str, PointSpec]) -> float | None:
    """A point's value from its model's registers, scale factor applied (None: unusable)."""
    if spec.offset + spec.size > len(block):
        return None
    raw = decode(block[spec.offset : spec.offset + spec.size], spec)
    if raw is None:
        return None
    exponent = 0
    if isinstance(spec.sf, int):
        exponent = spec.sf
    elif isinstance(spec.sf, str):
        sf = points.get(spec.sf)
        if sf is None or sf.offset >= len(block):
            return None
        sf_raw = decode(block[sf.offset : sf.offset + 1], sf)
        if sf_raw is None or not -10 <= sf_raw <= 10:
            return None
        exponent = sf_raw
    return raw * 10.0**exponent


def _plausible_w(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or not 0 < value <= 1e9:
        return None
    return float(value)


def _pct(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or not 0 <= value <= 100:
        return None
    return float(value)


async def _read_model(reader: _Reader, address: int, length: int) -> list[int]:
    """A model's registers from its ID register on (point offsets count from there), in
    reads of at most 125."""
    out: list[int] = []
    total = length + 2
    while len(out) < total:
        count = min(MAX_READ, total - len(out))
        out += await reader.read(address + len(out), count)
    return out


async def _chain(reader: _Reader, base: int, notes: list[str]) -> dict[int, tuple[int, int]]:
    """``{model id: (address, length)}`` from the marker at ``base`` (garbage stops the walk)."""
    models: dict[int, tuple[int, int]] = {}
    address = base + 2
    for _ in range(MAX_MODELS):
        if address > 65535 - 1:
            notes.append(f"model chain runs past the address space at {address}")
            break
        model_id, length = await reader.read(address, 2)
        if model_id == END_ID:
            break
        if model_id == 0 or length > MAX_MODEL_LEN or address + 2 + length > 65535:
            notes.append(f"model chain broken at {address} (id {model_id}, length {length})")
            break
        if model_id in models:
            notes.append(f"model {model_id} repeated at {address}: chain not followed further")
            break
        expected = sum(p.size for p in model_points(model_id).values()) - 2  # ID, L
        if model_points(model_id) and length < expected:
            notes.append(f"model {model_id} says length {length}, its definition needs "
                         f"{expected}: ignored")  # fmt: skip
        else:
            models[model_id] = (address, length)
        address += 2 + length
    else:
        notes.append(f"model chain longer than {MAX_MODELS} models: stopped there")
    return models


def _kind(models: Iterable[int]) -> str:
    ids = set(models)
    if ids & METER_MODELS:
        return "meter"
    if ids & STORAGE_MODELS:
        return "battery"
    if ids & INVERTER_MODELS:
        return "pv"
    return "unknown"


async def _sunspec(reader: _Reader, target: ModbusTarget, unit: int, base: int) -> Found:
    notes: list[str] = []
    models = await _chain(reader, base, notes)
    bodies: dict[int, list[int]] = {}
    for model_id in (1, 702, 713, 802):
        if model_id in models:
            address, length = models[model_id]
            try:
                bodies[model_id] = await _read_model(reader, address, length)
            except DeviceProtocolError as exc:
                notes.append(f"model {model_id} unreadable: {exc}")

    def point(model_id: int, name: str) -> float | None:
        body = bodies.get(model_id)
        points = model_points(model_id)
        spec = points.get(name)
        return None if body is None or spec is None else _value(body, spec, points)

    def text(name: str) -> str:
        body, spec = bodies.get(1), model_points(1).get(name)
        if body is None or spec is None or spec.offset + spec.size > len(body):
            return ""
        return decode_string(body[spec.offset : spec.offset + spec.size])

    kind = _kind(models)
    rated = _plausible_w(point(702, "WMaxRtg"))
    if kind in {"battery", "pv"} and rated is None:
        notes.append("no plausible WMaxRtg (model 702): set p_max_discharge_w by hand")
    capacity = _plausible_w(point(713, "WHRtg")) or _plausible_w(point(802, "WHRtg"))
    soc_min = _pct(point(802, "SoCMin"))
    soc_max = _pct(point(802, "SoCMax"))
    if soc_min is not None and soc_max is not None and soc_min >= soc_max:
        notes.append(f"802 SoCMin {soc_min:g} % >= SoCMax {soc_max:g} %: ignored")
        soc_min = soc_max = None
    revert_point = {"battery": "WSetRvrtTms", "pv": "WMaxLimPctRvrtTms"}.get(kind)
    revert = (
        704 in models
        and revert_point is not None
        and revert_point in model_points(704)
        and models[704][1] > model_points(704)[revert_point].offset
    )
    return Found(
        kind=kind,
        protocol="modbus",
        host=target.host,
        port=target.port,
        unit_id=unit,
        register_map="sunspec",
        sunspec_base=base,
        models=tuple(models),
        manufacturer=text("Mn"),
        model=text("Md"),
        serial=text("SN"),
        rated_w=rated,
        charge_rated_w=_plausible_w(point(702, "WChaRteMaxRtg")),
        discharge_rated_w=_plausible_w(point(702, "WDisChaRteMaxRtg")),
        capacity_wh=capacity,
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        revert=revert,
        notes=tuple(notes),
    )


def _evse(regs: Sequence[int], target: ModbusTarget, unit: int) -> Found | None:
    """The Lingtan EVSE map (docs/sims.md), recognised by its plausible nameplate."""
    if len(regs) < EVSE_SIZE:
        return None
    version, max_da, min_da, phases, volts = regs[0], regs[8], regs[9], regs[20], regs[21]
    if version != 1 or phases not in {1, 3} or not 100 <= volts <= 300:
        return None
    if not 0 < min_da <= max_da <= 1000:
        return None
    max_a = max_da / 10.0
    return Found(
        kind="ev_charger",
        protocol="modbus",
        host=target.host,
        port=target.port,
        unit_id=unit,
        register_map="lingtan-evse",
        rated_w=max_a * phases * volts,
        revert=True,
        phases=phases,
        voltage_v=float(volts),
        min_current_a=min_da / 10.0,
        max_current_a=max_a,
    )


async def _probe_unit(  # noqa: PLR0911
    reader: _Reader, target: ModbusTarget, unit: int
) -> Found | Skipped:
    where = f"{target.host}:{target.port}/{unit}"
    for base in SUNSPEC_BASES:
        try:
            marker = await reader.read(base, 2)
        except _NoDevice as exc:
            if reader.answered and not exc.gateway:
                continue  # some devices time out on addresses they lack
            return Skipped(where, "no answer" if exc.gateway else f"no answer: {exc}")
        except DeviceProtocolError:
            continue
        if tuple(marker) == SUNS_MARKER:
            try:
                return await _sunspec(reader, target, unit, base)
            except _NoDevice as exc:
                return Skipped(where, f"stopped answering during the SunSpec scan: {exc}")
            except DeviceProtocolError as exc:
                return Skipped(where, f"SunSpec scan failed: {exc}")
    try:
        regs = await reader.read(0, EVSE_SIZE)
    except (_NoDevice, DeviceProtocolError):
        regs = []
    found = _evse(regs, target, unit)
    if found is not None:
        return found
    if reader.answered:
        return Found(
            kind="unknown",
            protocol="modbus",
            host=target.host,
            port=target.port,
            unit_id=unit,
            register_map="",
            notes=("answers Modbus but has no SunSpec marker at 40000, 50000 or 0 and "
                   "no known register map",),
        )  # fmt: skip
    return Skipped(where, "no answer")


async def scan_modbus(
    target: ModbusTarget, *, timeout_s: float = 1.0
) -> tuple[list[Found], list[Skipped]]:
    """Every unit of ``target``, one after another on one connection (reads only)."""
    where = f"{target.host}:{target.port}"
    client = AsyncModbusTcpClient(
        target.host, port=target.port, timeout=timeout_s, retries=0, reconnect_delay=0
    )
    found: list[Found] = []
    skipped: list[Skipped] = []
    try:
        try:
            with _mapped(where):
                async with asyncio.timeout(timeout_s):
                    ok = await client.connect()
        except DeviceTimeout as exc:
            return [], [Skipped(where, f"cannot connect: {exc}")]
        if not ok:
            return [], [Skipped(where, "cannot connect")]
        for unit in target.units:
            if not client.connected:
                with contextlib.suppress(DeviceTimeout), _mapped(where):
                    async with asyncio.timeout(timeout_s):
                        await client.connect()
            reader = _Reader(client, f"{where}/{unit}", unit, timeout_s)
            result = await _probe_unit(reader, target, unit)
            if isinstance(result, Found):
                found.append(result)
            elif len(target.units) == 1 or result.reason != "no answer":
                skipped.append(result)
    finally:
        client.close()
    return found, skipped


# ---------------------------------------------------------------------- OPC UA

HVAC_VARIABLES: Final = frozenset({"Power", "PowerLimit"})


async def scan_opcua(endpoint: str, *, timeout_s: float = 3.0) -> tuple[list[Found], list[Skipped]]:
    """Browse ``Objects`` at ``endpoint`` for known object types (reads only)."""
    from asyncua.client.client import Client
    from asyncua.ua.uaerrors import UaError

    client: Any = Client(endpoint, timeout=timeout_s)
    found: list[Found] = []
    skipped: list[Skipped] = []
    try:
        async with asyncio.timeout(timeout_s * 2):
            await client.connect()
    except (TimeoutError, OSError, UaError) as exc:
        return [], [Skipped(endpoint, f"cannot connect: {str(exc) or type(exc).__name__}")]
    try:
        async with asyncio.timeout(timeout_s * 4):
            namespaces = await client.get_namespace_array()
            for obj in await client.nodes.objects.get_children():
                if obj.nodeid.NamespaceIndex == 0:
                    continue  # Server, Aliases, Locations: the standard's own objects
                name = (await obj.read_browse_name()).Name
                variables = {}
                for child in await obj.get_children():
                    variables[(await child.read_browse_name()).Name] = child
                if not set(variables) >= HVAC_VARIABLES:
                    skipped.append(Skipped(f"{endpoint} {name}", "no known object type"))
                    continue
                found.append(await _hvac(endpoint, obj, name, variables, namespaces))
    except (TimeoutError, OSError, UaError) as exc:
        skipped.append(Skipped(endpoint, f"browse failed: {str(exc) or type(exc).__name__}"))
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await client.disconnect()
    return found, skipped


async def _hvac(
    endpoint: str, obj: Any, name: str, variables: dict[str, Any], namespaces: list[str]
) -> Found:
    from urllib.parse import urlsplit

    notes: list[str] = []

    async def number(var: str) -> float | None:
        node = variables.get(var)
        if node is None:
            return None
        value = await node.read_value()
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    rated = _plausible_w(await number("RatedPower"))
    if rated is None:
        rated = _plausible_w(await number("PowerLimit"))
        if rated is not None:
            notes.append("no RatedPower variable: rating taken from PowerLimit, check it")
    setpoint = await number("Setpoint")
    ns_index = obj.nodeid.NamespaceIndex
    namespace = namespaces[ns_index] if 0 <= ns_index < len(namespaces) else ""
    identifier = obj.nodeid.Identifier
    parts = urlsplit(endpoint)
    return Found(
        kind="hvac",
        protocol="opcua",
        host=parts.hostname or "",
        port=parts.port or 4840,
        endpoint=endpoint,
        register_map="",
        serial=name,
        rated_w=rated,
        revert="RevertSeconds" in variables,
        setpoint_c=setpoint if setpoint is not None and 5 <= setpoint <= 40 else None,
        opcua_namespace=namespace,
        opcua_object=str(identifier) if isinstance(identifier, str) else name,
        notes=tuple(notes),
    )


async def scan(
    modbus: Sequence[ModbusTarget],
    opcua: Sequence[str] = (),
    *,
    timeout_s: float = 1.0,
    target_timeout_s: float = 20.0,
    concurrency: int = 16,
) -> ScanResult:
    """Scan every target, at most ``concurrency`` at once, each within ``target_timeout_s``."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def bounded(label: str, job: Any) -> tuple[list[Found], list[Skipped]]:
        async with gate:
            try:
                async with asyncio.timeout(target_timeout_s):
                    result: tuple[list[Found], list[Skipped]] = await job
                    return result
            except TimeoutError:
                return [], [Skipped(label, f"gave up after {target_timeout_s:g} s")]

    jobs = [bounded(f"{t.host}:{t.port}", scan_modbus(t, timeout_s=timeout_s)) for t in modbus]
    jobs += [bounded(url, scan_opcua(url, timeout_s=max(timeout_s, 2.0))) for url in opcua]
    out = ScanResult()
    for found, skipped in await asyncio.gather(*jobs):
        out.found += found
        out.skipped += skipped
    return out


__all__ = ["Found", "ModbusTarget", "ScanResult", "Skipped", "scan", "scan_modbus", "scan_opcua"]
