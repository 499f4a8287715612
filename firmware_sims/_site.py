"""Sites: a park's devices from a preset or TOML, their endpoints, and the running park."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Annotated, Final, Literal, Self, TypeVar

import msgspec
from msgspec import Meta, Struct

from protocol import ID_PATTERN
from protocol.clock import Clock, RealClock

from ._errors import SimConfigError, SimControlError
from ._faults import ActiveFault, FaultKind, FaultSet, fault_params, parse_kind
from ._modbus import ModbusDeviceServer
from ._opcua import OpcUaDeviceServer, endpoint_url
from ._physics import Battery, Chiller, EVCharger, Meter, PVInverter, Weather
from ._registers import (
    BatteryRegisters,
    EVRegisters,
    MeterRegisters,
    PVRegisters,
    RegisterDevice,
    SunSpecDevice,
)
from ._sunspec import SunSpecMap

log = logging.getLogger(__name__)

DEFAULT_PORT_BASE: Final = 15020
"""First port of ``vpp sim site`` (devices take consecutive ports in config order, the
control server the next one)."""
DEFAULT_HOST: Final = "127.0.0.1"
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""A device or site name: usable as an MQTT topic level (:data:`protocol.ID_PATTERN`)."""
UnitId = Annotated[int, Meta(ge=1, le=247)]
Watts = Annotated[float, Meta(gt=0, le=1e8)]
Pct = Annotated[float, Meta(ge=0, le=100)]
Protocol = Literal["modbus", "opcua"]


class _Spec(Struct, tag_field="kind", forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: Name
    unit_id: UnitId = 1


class BatterySpec(_Spec, tag="battery", frozen=True, kw_only=True):
    rated_w: Watts = 500_000.0
    capacity_wh: Watts = 1_000_000.0
    soc_pct: Pct = 50.0
    soc_min_pct: Pct = 5.0
    soc_max_pct: Pct = 95.0
    ramp_pct_per_s: Annotated[float, Meta(gt=0, le=100)] = 10.0
    ambient_c: Annotated[float, Meta(ge=-40, le=80)] = 25.0


class PVSpec(_Spec, tag="pv", frozen=True, kw_only=True):
    rated_w: Watts = 300_000.0


class MeterSpec(_Spec, tag="meter", frozen=True, kw_only=True):
    max_w: Watts = 2_000_000.0
    """Largest |power| the meter must represent (chooses its scale factor)."""


class EVChargerSpec(_Spec, tag="ev_charger", frozen=True, kw_only=True):
    max_a: Annotated[float, Meta(ge=6, le=63)] = 32.0


class HVACSpec(_Spec, tag="hvac", frozen=True, kw_only=True):
    rated_w: Watts = 200_000.0
    setpoint_c: Annotated[float, Meta(ge=16, le=30)] = 24.0
    username: str | None = None
    password: str | None = None
    secure: bool = False
    """Offer Basic256Sha256 Sign / SignAndEncrypt with a self-signed certificate."""


DeviceSpec = BatterySpec | PVSpec | MeterSpec | EVChargerSpec | HVACSpec


class FaultSpec(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A scheduled fault: ``kind`` on ``device`` from ``at_s`` after start for ``seconds``."""

    device: Name
    kind: str
    at_s: Annotated[float, Meta(ge=0)] = 0.0
    seconds: Annotated[float, Meta(gt=0, le=7 * 86_400)] | None = None
    params: dict[str, float] = msgspec.field(default_factory=dict)


class SiteSpec(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A park: its weather, base load and devices (ports are assigned in this order)."""

    name: Name = "site"
    base_load_w: Annotated[float, Meta(ge=0, le=1e8)] = 800_000.0
    latitude_deg: Annotated[float, Meta(ge=-90, le=90)] = 31.2
    longitude_deg: Annotated[float, Meta(ge=-180, le=180)] = 121.5
    cloudiness: Annotated[float, Meta(ge=0, le=1)] = 0.3
    temp_mean_c: Annotated[float, Meta(ge=-40, le=50)] = 27.0
    devices: Annotated[list[DeviceSpec], Meta(min_length=1, max_length=1000)]
    faults: Annotated[list[FaultSpec], Meta(max_length=1000)] = msgspec.field(default_factory=list)


class DeviceEndpoint(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where a device answers: what ``vpp sim site`` prints, one JSON line per device."""

    device: str
    kind: str
    protocol: Protocol
    host: str
    port: int
    unit_id: int | None = None
    endpoint: str | None = None


def _validate(spec: SiteSpec) -> SiteSpec:
    seen: set[str] = set()
    for i, dev in enumerate(spec.devices):
        if dev.name in seen:
            raise SimConfigError(f"devices[{i}].name: duplicate device name {dev.name!r}")
        seen.add(dev.name)
        if isinstance(dev, BatterySpec) and not dev.soc_min_pct < dev.soc_max_pct:
            raise SimConfigError(f"devices[{i}].soc_min_pct: must be below soc_max_pct")
    for i, fault in enumerate(spec.faults):
        if fault.device not in seen:
            raise SimConfigError(f"faults[{i}].device: no device named {fault.device!r}")
        try:
            fk = parse_kind(fault.kind)
            fault_params(fk, fault.params)
        except SimControlError as exc:
            raise SimConfigError(f"faults[{i}].{exc}") from None
    return spec


def parse_site_config(data: bytes | str) -> SiteSpec:
    """Decode a site TOML document; errors name the field (``devices[2].rated_w: ...``)."""
    try:
        spec = msgspec.toml.decode(data, type=SiteSpec)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        if " - at `$." in msg:
            text, _, path = msg.rpartition(" - at `$.")
            raise SimConfigError(f"{path.rstrip('`')}: {text}") from None
        raise SimConfigError(msg) from None
    except msgspec.DecodeError as exc:
        raise SimConfigError(f"not valid TOML: {exc}") from None
    return _validate(spec)


def load_site_config(path: str | Path) -> SiteSpec:
    """Read and validate a site TOML file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SimConfigError(f"cannot read site config {path}: {exc.strerror}") from None
    return parse_site_config(data)


def _park(
    name: str, bess: int, pv: int, ev: int, hvac: int, base_load_w: float, meter_max_w: float
) -> SiteSpec:
    devices: list[DeviceSpec] = [
        BatterySpec(name=f"bess-{i + 1}", soc_pct=40.0 + 10 * i) for i in range(bess)
    ]
    devices += [PVSpec(name=f"pv-{i + 1}", rated_w=250_000.0 + 50_000 * (i % 3)) for i in range(pv)]
    devices.append(MeterSpec(name="meter-1", max_w=meter_max_w))
    devices += [EVChargerSpec(name=f"evse-{i + 1}") for i in range(ev)]
    devices += [HVACSpec(name=f"chiller-{i + 1}") for i in range(hvac)]
    return SiteSpec(name=name, base_load_w=base_load_w, devices=devices)


PRESETS: Final[dict[str, SiteSpec]] = {
    "park-s": _park("park-s", 1, 1, 2, 0, base_load_w=300_000.0, meter_max_w=1_000_000.0),
    "park-a": _park("park-a", 2, 3, 4, 1, base_load_w=800_000.0, meter_max_w=2_000_000.0),
    "park-l": _park("park-l", 4, 8, 12, 2, base_load_w=2_500_000.0, meter_max_w=6_000_000.0),
}
PRESET_NAMES: Final = tuple(PRESETS)
"""``park-s`` (5 devices), ``park-a`` (11 devices), ``park-l`` (27 devices)."""


def load_preset(name: str) -> SiteSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise SimConfigError(
            f"preset: unknown preset {name!r} (choose from {', '.join(PRESET_NAMES)})"
        ) from None


def _kind(spec: _Spec) -> str:
    tag = type(spec).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def plan_endpoints(
    spec: SiteSpec, host: str = DEFAULT_HOST, port_base: int = DEFAULT_PORT_BASE
) -> list[DeviceEndpoint]:
    """Endpoints of ``spec`` on consecutive ports from ``port_base``, in config order.

    Pure: nothing is started. ``port_base=0`` gives port 0 everywhere ("assigned at start").
    """
    if not 0 <= port_base <= 65535 - len(spec.devices):
        raise SimConfigError(f"port_base: {port_base} leaves no room for {len(spec.devices)} ports")
    out = []
    for i, dev in enumerate(spec.devices):
        port = port_base + i if port_base else 0
        if isinstance(dev, HVACSpec):
            out.append(
                DeviceEndpoint(
                    device=dev.name,
                    kind=_kind(dev),
                    protocol="opcua",
                    host=host,
                    port=port,
                    endpoint=endpoint_url(host, port, dev.name),
                )
            )
        else:
            out.append(
                DeviceEndpoint(
                    device=dev.name,
                    kind=_kind(dev),
                    protocol="modbus",
                    host=host,
                    port=port,
                    unit_id=dev.unit_id,
                )
            )
    return out


Model = Battery | PVInverter | Meter | EVCharger | Chiller
_M = TypeVar("_M", Battery, PVInverter, Meter, EVCharger, Chiller)


class _Device:
    def __init__(self, spec: DeviceSpec, model: Model, registers: RegisterDevice | None) -> None:
        self.spec = spec
        self.model = model
        self.registers = registers
        self.faults = FaultSet()
        self.server: ModbusDeviceServer | OpcUaDeviceServer | None = None


class SimSite:
    """A running park: every device served on loopback, physics stepped on ``clock``.

    ``port_base=0`` binds free ports; otherwise device *i* gets ``port_base + i``. The
    physics loop steps every ``tick_s`` of clock time; tests with a
    :class:`~protocol.clock.ManualClock` call :meth:`step` instead (or advance the clock).
    ``control_port`` (``None`` = no control server, 0 = free port) serves fault requests.
    """

    def __init__(
        self,
        spec: SiteSpec,
        *,
        clock: Clock | None = None,
        host: str = DEFAULT_HOST,
        port_base: int = 0,
        seed: int = 0,
        tick_s: float = 1.0,
        control_port: int | None = None,
    ) -> None:
        self.spec = _validate(spec)
        self.clock: Clock = clock or RealClock()
        self.host = host
        self.port_base = port_base
        self.seed = seed
        self.tick_s = tick_s
        self.control_port = control_port
        self.control_address: tuple[str, int] | None = None
        self.t = self.clock.now()
        self.weather = Weather(
            seed,
            latitude_deg=spec.latitude_deg,
            longitude_deg=spec.longitude_deg,
            cloudiness=spec.cloudiness,
            temp_mean_c=spec.temp_mean_c,
        )
        self._devices: dict[str, _Device] = {}
        for index, dev in enumerate(spec.devices):
            self._devices[dev.name] = self._build(index, dev)
        self.endpoints: list[DeviceEndpoint] = []
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._last_clock = self.t
        self._schedule = sorted(spec.faults, key=lambda f: f.at_s)
        self._start = self.t
        self.step(0.0)

    def _build(self, index: int, spec: DeviceSpec) -> _Device:
        common: dict[str, str | int] = {"SN": spec.name, "DA": spec.unit_id}
        t = self.t
        match spec:
            case BatterySpec():
                b = Battery(
                    rated_w=spec.rated_w,
                    capacity_wh=spec.capacity_wh,
                    soc_pct=spec.soc_pct,
                    soc_min_pct=spec.soc_min_pct,
                    soc_max_pct=spec.soc_max_pct,
                    ramp_pct_per_s=spec.ramp_pct_per_s,
                    ambient_c=spec.ambient_c,
                    temp_c=spec.ambient_c,
                    t=t,
                )
                return _Device(spec, b, BatteryRegisters(b, common | {"Md": "LT-BESS"}))
            case PVSpec():
                p = PVInverter(rated_w=spec.rated_w, weather=self.weather, t=t)
                return _Device(spec, p, PVRegisters(p, common | {"Md": "LT-PV"}))
            case MeterSpec():
                m = Meter(t=t)
                return _Device(spec, m, MeterRegisters(m, common | {"Md": "LT-M3"}, spec.max_w))
            case EVChargerSpec():
                e = EVCharger(
                    max_a=spec.max_a,
                    seed=self.seed,
                    index=index,
                    tz_offset_s=self.weather.lon_deg / 15.0 * 3600.0,
                    t=t,
                    last_heartbeat=t,
                )
                return _Device(spec, e, EVRegisters(e))
            case HVACSpec():
                c = Chiller(
                    rated_w=spec.rated_w,
                    weather=self.weather,
                    default_setpoint_c=spec.setpoint_c,
                    setpoint_c=spec.setpoint_c,
                    t=t,
                )
                return _Device(spec, c, None)

    # ----------------------------------------------------------------- accessors

    @property
    def names(self) -> list[str]:
        return list(self._devices)

    def _get(self, name: str) -> _Device:
        try:
            return self._devices[name]
        except KeyError:
            raise SimControlError(f"device: no device named {name!r}") from None

    def device(self, name: str) -> Model:
        """The physics model of device ``name`` (Battery, PVInverter, Meter, EVCharger, Chiller)."""
        return self._get(name).model

    def device_kind(self, name: str) -> str:
        """``battery``, ``pv``, ``meter``, ``ev_charger`` or ``hvac``."""
        return _kind(self._get(name).spec)

    def _typed(self, name: str, cls: type[_M]) -> _M:
        model = self._get(name).model
        if not isinstance(model, cls):
            raise SimControlError(f"device: {name!r} is not a {cls.__name__}")
        return model

    def battery(self, name: str) -> Battery:
        """The :class:`Battery` model of ``name`` (SimControlError if it is something else)."""
        return self._typed(name, Battery)

    def pv(self, name: str) -> PVInverter:
        return self._typed(name, PVInverter)

    def meter(self, name: str) -> Meter:
        return self._typed(name, Meter)

    def ev_charger(self, name: str) -> EVCharger:
        return self._typed(name, EVCharger)

    def chiller(self, name: str) -> Chiller:
        return self._typed(name, Chiller)

    def sunspec_map(self, name: str) -> SunSpecMap:
        """The SunSpec register map of a SunSpec device (addresses and scale factors)."""
        regs = self._get(name).registers
        if not isinstance(regs, SunSpecDevice):
            raise SimControlError(f"device: {name!r} is not a SunSpec device")
        return regs.smap

    def endpoint(self, name: str) -> DeviceEndpoint:
        for ep in self.endpoints:
            if ep.device == name:
                return ep
        raise SimControlError(f"device: no device named {name!r}")

    @property
    def meter_import_w(self) -> float:
        """Net power at the point of connection, import > 0 (what the meter reads)."""
        return self._net_import_w()

    def _net_import_w(self) -> float:
        total = self.weather.load_w(self.t, self.spec.base_load_w)
        for dev in self._devices.values():
            m = dev.model
            if isinstance(m, Battery | PVInverter):
                total -= m.p_w
            elif isinstance(m, EVCharger | Chiller):
                total += m.p_w
        return total

    # ----------------------------------------------------------------- physics

    def step(self, dt_s: float) -> None:
        """Advance the physics ``dt_s`` simulated seconds (in sub-steps of at most 5 s)."""
        if dt_s < 0:
            raise ValueError("dt_s must be >= 0")
        n = max(1, math.ceil(dt_s / 5.0))
        h = dt_s / n
        for _ in range(n):
            self.t += h
            self._expire_faults()
            while self._schedule and self.t >= self._start + self._schedule[0].at_s:
                f = self._schedule.pop(0)
                self.set_fault(f.device, f.kind, f.seconds, **f.params)
            for dev in self._devices.values():
                if not isinstance(dev.model, Meter):
                    dev.model.step(h)
            net = self._net_import_w()
            for dev in self._devices.values():
                if isinstance(dev.model, Meter):
                    dev.model.step(h, net)
        for dev in self._devices.values():
            if dev.registers is not None:
                dev.registers.mark_dirty()

    async def _run_physics(self) -> None:
        while True:
            await self.clock.sleep(self.tick_s)
            now = self.clock.now()
            dt, self._last_clock = now - self._last_clock, now
            if dt > 0:
                self.step(dt)
            await self._publish_opcua()

    async def _publish_opcua(self) -> None:
        for dev in self._devices.values():
            if isinstance(dev.server, OpcUaDeviceServer):
                await dev.server.publish()

    # ----------------------------------------------------------------- faults

    async def drop_subscriptions(self, device: str) -> int:
        """An OPC UA device deletes its clients' subscriptions and keeps their sessions;
        how many there were."""
        server = self._get(device).server
        if not isinstance(server, OpcUaDeviceServer):
            raise SimControlError(f"device {device!r} is not an OPC UA device")
        return await server.drop_subscriptions()

    def set_fault(
        self, device: str, kind: FaultKind | str, seconds: float | None = None, **params: float
    ) -> None:
        """Inject a fault on ``device`` for ``seconds`` of site time (``None``: until cleared)."""
        dev = self._get(device)
        fk = parse_kind(kind) if isinstance(kind, str) else kind
        if seconds is not None and not 0 < seconds <= 7 * 86_400:
            raise SimControlError("seconds: must be > 0 and at most a week")
        full = fault_params(fk, dict(params))
        if fk is FaultKind.REBOOT:
            dev.model.power_on_reset()
            log.info("device %s rebooted (down for %s s)", device, seconds or 0)
            if seconds is not None:  # down while it boots: connections dropped like drop
                dev.faults.set(ActiveFault(fk, full, self.t + seconds))
        else:
            dev.faults.set(ActiveFault(fk, full, None if seconds is None else self.t + seconds))
            log.info("fault %s on %s (%s) for %s s", fk.value, device, full, seconds or "ever")
        if fk is FaultKind.ALARM:
            dev.model.alarm = True
        if fk in {FaultKind.DROP, FaultKind.REBOOT} and dev.server is not None:
            dev.server.drop_connections()
        if dev.registers is not None:
            dev.registers.mark_dirty()

    def clear_fault(self, device: str, kind: FaultKind | str | None = None) -> None:
        """Clear one fault kind on ``device`` (or all of them)."""
        dev = self._get(device)
        fk = None if kind is None else parse_kind(kind) if isinstance(kind, str) else kind
        dev.faults.clear(fk)
        log.info("fault %s on %s cleared", "all" if fk is None else fk.value, device)
        self._sync_alarm(dev)

    def faults(self, device: str) -> dict[str, dict[str, float]]:
        return {k.value: f.params for k, f in self._get(device).faults.active.items()}

    def _sync_alarm(self, dev: _Device) -> None:
        dev.model.alarm = FaultKind.ALARM in dev.faults
        if dev.registers is not None:
            dev.registers.mark_dirty()

    def _expire_faults(self) -> None:
        for dev in self._devices.values():
            if dev.faults.active and (gone := dev.faults.expire(self.t)):
                log.info("fault %s on %s expired", ",".join(gone), dev.spec.name)
                self._sync_alarm(dev)

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        planned = plan_endpoints(self.spec, self.host, self.port_base)
        stack = self._stack
        try:
            cert_root: Path | None = None
            for ep, dev in zip(planned, self._devices.values(), strict=True):
                if dev.registers is not None:
                    srv = ModbusDeviceServer(
                        dev.registers, dev.faults, dev.spec.unit_id, seed=self.seed
                    )
                    await stack.enter_async_context(srv.serve(self.host, ep.port))
                    dev.server = srv
                    self.endpoints.append(msgspec.structs.replace(ep, port=srv.port))
                else:
                    spec = dev.spec
                    assert isinstance(spec, HVACSpec)
                    assert isinstance(dev.model, Chiller)
                    cert_dir = None
                    if spec.secure:
                        if cert_root is None:
                            cert_root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                        cert_dir = cert_root / spec.name
                    ua = OpcUaDeviceServer(spec.name, dev.model, dev.faults, seed=self.seed)
                    await stack.enter_async_context(
                        ua.serve(
                            self.host,
                            ep.port,
                            username=spec.username,
                            password=spec.password,
                            cert_dir=cert_dir,
                        )
                    )
                    dev.server = ua
                    self.endpoints.append(
                        msgspec.structs.replace(ep, port=ua.port, endpoint=ua.url)
                    )
            if self.control_port is not None:
                from ._control import serve_control

                self.control_address = await stack.enter_async_context(
                    serve_control(self, self.host, self.control_port)
                )
            tg = await stack.enter_async_context(asyncio.TaskGroup())
            self._last_clock = self.clock.now()
            self._task = tg.create_task(self._run_physics(), name="sim-physics")
        except BaseException:
            await stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._stack.aclose()
