"""The agent's configuration: one TOML file decoded into msgspec Structs.

Unknown fields are rejected everywhere (a typo must fail at startup, not be ignored), and
every error is a :class:`~edge_agent.ConfigError` naming the field and, where it can be
found, the line. Example (``vpp agent init`` writes a complete one)::

    [site]
    tenant = "acme"
    edge = "park-a"
    control_period_s = 1.0
    watchdog_s = 300.0

    [site.limits]
    import_max_w = 400000.0
    export_max_w = 100000.0

    [site.default_control]
    mode = "self_consumption"

    [hub]
    url = "mqtt://127.0.0.1:1883"

    [outbox]
    path = "var/agent/outbox.db"

    [metrics]
    port = 9108

    [[devices]]
    id = "bess-1"
    kind = "battery"
    protocol = "modbus"
    host = "127.0.0.1"
    port = 15020
    unit_id = 1
    register_map = "sunspec"

    [devices.limits]
    p_max_discharge_w = 250000.0
    p_max_charge_w = 250000.0
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from protocol import ControlMode
from protocol.topics import TopicError, validate_device_id, validate_id

from ._errors import ConfigError

DeviceKind = Literal["battery", "pv", "meter", "ev_charger", "hvac"]
DeviceProtocol = Literal["modbus", "modbus_rtu", "opcua"]
"""``modbus``: Modbus TCP; ``modbus_rtu``: RTU framing on a serial bus (``serial_port``) or
through an RTU-over-TCP gateway (``host``/``port``, no ``serial_port``); ``opcua``."""
Parity = Literal["N", "E", "O"]
BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PosSeconds = Annotated[float, Meta(gt=0, le=86_400)]
Watts = Annotated[float, Meta(ge=0, le=1e9)]
Pct = Annotated[float, Meta(ge=0, le=100)]


class _Cfg(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every config table: frozen, keyword-only, unknown fields rejected."""


class DeviceLimitsConfig(_Cfg, frozen=True, kw_only=True):
    """Rated limits of one device (generator convention: discharge > 0, charge < 0)."""

    p_max_discharge_w: Watts = 0.0
    p_max_charge_w: Watts = 0.0
    soc_min_pct: Pct = 0.0
    soc_max_pct: Pct = 100.0
    ramp_w_per_s: Annotated[float, Meta(gt=0, le=1e9)] | None = None
    temp_derate_start_c: Annotated[float, Meta(ge=-50, le=150)] | None = None
    temp_max_c: Annotated[float, Meta(ge=-50, le=150)] | None = None
    revert_s: Annotated[float, Meta(ge=2, le=3600)] = 10.0
    """Device-side fail-safe period (SunSpec ``*_RvrtTms``); refreshed every half of it."""

    def __post_init__(self) -> None:
        if self.soc_min_pct > self.soc_max_pct:
            raise ValueError("soc_min_pct must be <= soc_max_pct")
        if (
            self.temp_derate_start_c is not None
            and self.temp_max_c is not None
            and self.temp_derate_start_c >= self.temp_max_c
        ):
            raise ValueError("temp_derate_start_c must be below temp_max_c")


RegType = Literal["int16", "uint16", "int32", "uint32", "float32"]


class RegisterPoint(_Cfg, frozen=True, kw_only=True):
    """One point of a custom register map (holding registers)."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    address: Annotated[int, Meta(ge=0, le=65535)]
    type: RegType = "int16"
    scale: float = 1.0
    unit: Annotated[str, Meta(max_length=16)] = ""
    poll: Literal["fast", "slow"] = "fast"
    role: Literal[
        "", "p_w", "soc_pct", "temp_c", "setpoint_w", "current_limit_a", "watchdog_s",
        "fallback_a", "heartbeat",
    ] = ""  # fmt: skip
    """What the control loop reads from (or writes to) this point. EV chargers:
    ``current_limit_a`` (the control, A after ``scale``), ``watchdog_s`` (armed after every
    connect), ``fallback_a`` (the current the watchdog falls back to, written with it when
    ``charger.fallback_current_a`` is set), ``heartbeat`` (a counter written with every
    control write, for chargers whose watchdog needs one)."""


class RegisterMap(_Cfg, frozen=True, kw_only=True):
    """A named custom register map for devices without SunSpec."""

    points: Annotated[list[RegisterPoint], Meta(min_length=1, max_length=500)]


class ChargerConfig(_Cfg, frozen=True, kw_only=True):
    """An EV charger's electrical nameplate: how a power cap becomes a current limit.

    A cap of ``P`` W (consumption) is written as ``P / (phases * voltage_v)`` A, rounded
    down to the register's step; a cap below ``min_current_a`` (the least current a car
    charges at, IEC 61851: 6 A) cannot be followed and becomes 0 A (paused).
    """

    phases: Literal[1, 3] = 3
    voltage_v: Annotated[float, Meta(ge=100, le=400)] = 230.0
    """Phase-to-neutral voltage."""
    min_current_a: Annotated[float, Meta(ge=0, le=80)] = 6.0
    max_current_a: Annotated[float, Meta(gt=0, le=80)] = 32.0
    fallback_current_a: Annotated[float, Meta(ge=0, le=80)] | None = None
    """Written to the charger's ``fallback_a`` point with its watchdog: the current it
    takes by itself when the agent stops writing (None: leave the charger's own)."""

    def __post_init__(self) -> None:
        if self.min_current_a > self.max_current_a:
            raise ValueError("min_current_a must be <= max_current_a")
        fb = self.fallback_current_a
        if fb is not None and fb != 0 and not self.min_current_a <= fb <= self.max_current_a:
            raise ValueError("fallback_current_a must be 0 or within min..max_current_a")

    @property
    def w_per_a(self) -> float:
        return self.phases * self.voltage_v

    @property
    def max_w(self) -> float:
        return self.max_current_a * self.w_per_a

    @property
    def min_w(self) -> float:
        return self.min_current_a * self.w_per_a


class HvacConfig(_Cfg, frozen=True, kw_only=True):
    """A chiller plant as a flexible load: how far an event may take the building.

    A consumption cap below the rating curtails the plant: the agent writes the cap to
    ``PowerLimit`` and raises ``Setpoint`` by up to ``setpoint_offset_max_c`` (in proportion
    to the curtailed share), never above ``comfort_max_c``. While the room is at or above
    ``comfort_max_c`` the SafetyGuard allows no curtailment (clamp reason ``comfort_band``).
    After an event the plant draws more than before it until the room is back at its
    setpoint: that *rebound* is measured for ``rebound_window_s`` and reported.
    """

    comfort_min_c: Annotated[float, Meta(ge=5, le=40)] = 20.0
    comfort_max_c: Annotated[float, Meta(ge=5, le=40)] = 27.0
    setpoint_c: Annotated[float, Meta(ge=5, le=40)] | None = None
    """The setpoint outside events (None: the plant's own, read at every connect)."""
    setpoint_offset_max_c: Annotated[float, Meta(ge=0, le=10)] = 2.0
    rebound_window_s: Annotated[float, Meta(gt=0, le=86_400)] = 1800.0

    def __post_init__(self) -> None:
        if self.comfort_min_c >= self.comfort_max_c:
            raise ValueError("comfort_min_c must be below comfort_max_c")
        sp = self.setpoint_c
        if sp is not None and not self.comfort_min_c <= sp <= self.comfort_max_c:
            raise ValueError("setpoint_c must lie within the comfort band")


class DeviceConfig(_Cfg, frozen=True, kw_only=True):
    """One device connection."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    kind: DeviceKind
    protocol: DeviceProtocol = "modbus"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 502
    unit_id: Annotated[int, Meta(ge=0, le=255)] = 1
    serial_port: str = ""
    """``modbus_rtu`` on a serial line: its device (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``);
    every device naming the same port shares one bus (one poller, requests serialised)."""
    baudrate: int = 9600
    parity: Parity = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    endpoint: str = ""
    """OPC UA endpoint URL (``opc.tcp://host:port/path``); ``host``/``port`` otherwise."""
    opcua_namespace: str = "urn:lingtan:sims"
    opcua_object: str = ""
    """OPC UA object holding the device's variables (default: the device id)."""
    poll_interval_s: PosSeconds = 1.0
    slow_every: Annotated[int, Meta(ge=1, le=3600)] = 10
    """Slow points (energy, SoC, nameplate) are read every ``slow_every`` polls."""
    register_map: str = "sunspec"
    """``"sunspec"`` (discovery from 40000) or the name of a ``[register_maps.NAME]``."""
    sunspec_base: Annotated[int, Meta(ge=0, le=65535)] = 40000
    min_request_gap_s: Annotated[float, Meta(ge=0, le=10)] = 0.0
    timeout_s: Annotated[float, Meta(gt=0, le=60)] = 2.0
    backoff_max_s: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    limits: DeviceLimitsConfig = DeviceLimitsConfig()
    charger: ChargerConfig = ChargerConfig()
    """EV chargers only: phases, voltage and current range."""
    hvac: HvacConfig = HvacConfig()
    """HVAC plants only: comfort band, setpoint offset, rebound window."""

    @property
    def bus(self) -> str | None:
        """The shared RTU bus this device is on (``serial:/dev/ttyUSB0`` or
        ``rtu-tcp:host:port`` for a gateway); None for a connection of its own."""
        if self.protocol != "modbus_rtu":
            return None
        if self.serial_port:
            return f"serial:{self.serial_port}"
        return f"rtu-tcp:{self.host}:{self.port}"

    @property
    def line(self) -> tuple[int, str, int, int]:
        """Serial line settings: baud rate, parity, stop bits, data bits."""
        return (self.baudrate, self.parity, self.stopbits, self.bytesize)


class HubConfig(_Cfg, frozen=True, kw_only=True):
    """How to reach the hub's MQTT broker."""

    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive_s: Annotated[int, Meta(ge=5, le=3600)] = 30
    reconnect_max_s: Annotated[float, Meta(gt=0, le=3600)] = 10.0
    """Longest pause between reconnection attempts (exponential backoff with jitter)."""
    client_id: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts" or self.ca_file is not None


class OutboxConfig(_Cfg, frozen=True, kw_only=True):
    """The store-and-forward outbox (SQLite, WAL)."""

    path: str = "var/agent/outbox.db"
    quota_mb: Annotated[float, Meta(gt=0, le=1_000_000)] = 512.0
    ttl_days: Annotated[float, Meta(gt=0, le=3650)] = 30.0
    commit_interval_s: Annotated[float, Meta(ge=0, le=60)] = 1.0
    telemetry_linger_s: Annotated[float, Meta(ge=0, le=5)] = 0.15
    """After the first polled point, gather this long (clock s) before a live batch leaves:
    devices polled at the same tick share one batch. Live data never waits for a commit."""
    retain_on_error: Annotated[int, Meta(ge=0, le=1_000_000)] = 600
    """Rows kept in memory while commits fail (disk full, read-only, I/O); older ones are
    lost and the hub told so through ``floor_seq``."""
    flush_rate_per_s: Annotated[float, Meta(gt=0, le=1e6)] = 500.0
    """Backlog messages replayed per second, interleaved with live data."""
    replay_grace_s: Annotated[float, Meta(ge=0, le=60)] = 1.0
    """After a reconnect the backlog waits this long for the hub's first ack (so what the
    hub already stored is not sent again); live data flows meanwhile."""
    resend_after_s: Annotated[float, Meta(gt=0, le=86_400)] = 15.0
    """When the hub's ack has not moved for this long while rows wait (it waits at a gap the
    broker left), everything unacked is replayed again."""


class MetricsConfig(_Cfg, frozen=True, kw_only=True):
    """``/metrics`` and ``/healthz`` on a local port (0 disables the server)."""

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 9108


class SiteLimitsConfig(_Cfg, frozen=True, kw_only=True):
    """Limits at the point of connection (POC) and the site's SoC window and ramp."""

    import_max_w: Watts
    export_max_w: Watts
    soc_min_pct: Pct = 5.0
    soc_max_pct: Pct = 95.0
    ramp_w_per_s: Annotated[float, Meta(gt=0, le=1e9)] | None = None

    def __post_init__(self) -> None:
        if self.soc_min_pct > self.soc_max_pct:
            raise ValueError("soc_min_pct must be <= soc_max_pct")


class DefaultControlConfig(_Cfg, frozen=True, kw_only=True):
    """What the site does when no valid schedule is in force."""

    mode: ControlMode = "self_consumption"
    peak_limit_w: Watts | None = None

    def __post_init__(self) -> None:
        if self.mode == "peak_shaving" and self.peak_limit_w is None:
            raise ValueError("peak_shaving needs peak_limit_w")


class SiteSection(_Cfg, frozen=True, kw_only=True):
    """Who the site is and what it may do at its point of connection."""

    tenant: str
    edge: str
    limits: SiteLimitsConfig
    default_control: DefaultControlConfig = DefaultControlConfig()
    watchdog_s: PosSeconds = 300.0
    control_period_s: Annotated[float, Meta(ge=0.05, le=60)] = 1.0
    meter: str | None = None
    """Device id of the point-of-connection meter (the only meter if unset)."""


class AgentConfig(_Cfg, frozen=True, kw_only=True):
    """The whole agent configuration (one TOML file)."""

    site: SiteSection
    hub: HubConfig = HubConfig()
    outbox: OutboxConfig = OutboxConfig()
    metrics: MetricsConfig = MetricsConfig()
    devices: Annotated[list[DeviceConfig], Meta(max_length=1000)] = []
    register_maps: dict[str, RegisterMap] = {}
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def device(self, device_id: str) -> DeviceConfig:
        for dev in self.devices:
            if dev.id == device_id:
                return dev
        raise KeyError(device_id)

    @property
    def meter_id(self) -> str | None:
        if self.site.meter is not None:
            return self.site.meter
        meters = [d.id for d in self.devices if d.kind == "meter"]
        return meters[0] if meters else None


_PATH = re.compile(r" - at `(?P<path>\$[^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `(?P<name>[^`]+)`")


def _line_of(text: str, path: str, message: str) -> int | None:
    """Best-effort line of the offending key (the last name in ``path`` or an unknown one)."""
    unknown = _UNKNOWN.search(message)
    names = re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)", path)
    key = unknown.group("name") if unknown else (names[-1] if names else None)
    if key is None:
        return None
    pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)", re.M)
    found = list(pattern.finditer(text))
    if not found:
        return None
    return text.count("\n", 0, found[-1].start() if unknown else found[0].start()) + 1


def _check_rtu(
    dev: DeviceConfig, where: str, buses: dict[str, list[tuple[str, DeviceConfig]]]
) -> None:
    """An RTU device: a unicast unit id, a standard baud rate, and the same line settings
    and distinct unit ids as every other device on its bus."""
    if not 1 <= dev.unit_id <= 247:
        raise ConfigError(
            f"unit_id {dev.unit_id} on an RTU bus must be 1..247 (0 is broadcast)",
            field=f"{where}.unit_id",
        )
    if dev.serial_port and dev.baudrate not in BAUD_RATES:
        raise ConfigError(
            f"baudrate {dev.baudrate} is not one of {', '.join(map(str, BAUD_RATES))}",
            field=f"{where}.baudrate",
        )
    bus = dev.bus
    assert bus is not None
    for other_where, other in buses.get(bus, []):
        if other.unit_id == dev.unit_id:
            raise ConfigError(
                f"unit_id {dev.unit_id} is already used on {bus} by {other.id!r} ({other_where})",
                field=f"{where}.unit_id",
            )
        if dev.serial_port and other.line != dev.line:
            raise ConfigError(
                f"{dev.id!r} sets baudrate/parity/stopbits/bytesize {dev.line} on {bus}, "
                f"but {other.id!r} on the same bus has {other.line}: one bus, one line setting",
                field=f"{where}.baudrate",
            )
    buses.setdefault(bus, []).append((where, dev))


def _semantic_checks(config: AgentConfig) -> None:
    try:
        validate_id(config.site.tenant, "tenant id")
        validate_id(config.site.edge, "edge id")
    except TopicError as exc:
        raise ConfigError(str(exc), field="$.site") from exc
    seen: set[str] = set()
    buses: dict[str, list[tuple[str, DeviceConfig]]] = {}
    for index, dev in enumerate(config.devices):
        where = f"$.devices[{index}]"
        try:
            validate_device_id(dev.id)
        except TopicError as exc:
            raise ConfigError(str(exc), field=f"{where}.id") from exc
        if dev.id in seen:
            raise ConfigError(f"duplicate device id {dev.id!r}", field=f"{where}.id")
        seen.add(dev.id)
        if dev.register_map != "sunspec" and dev.register_map not in config.register_maps:
            raise ConfigError(
                f"unknown register_map {dev.register_map!r}: use 'sunspec' or define "
                f"[register_maps.{dev.register_map}]",
                field=f"{where}.register_map",
            )
        limits = dev.limits
        writable = limits.p_max_discharge_w > 0 or limits.p_max_charge_w > 0
        if writable and limits.revert_s < 2 * config.site.control_period_s:
            raise ConfigError(
                f"revert_s {limits.revert_s:g} s is shorter than two control periods "
                f"({config.site.control_period_s:g} s): the agent could not refresh the "
                "device's revert timer within half its period",
                field=f"{where}.limits.revert_s",
            )
        custom = config.register_maps.get(dev.register_map)
        if dev.kind == "ev_charger" and writable and custom is not None:
            roles = {p.role for p in custom.points}
            if not roles & {"current_limit_a", "setpoint_w"}:
                raise ConfigError(
                    f"ev_charger {dev.id!r} has p_max_charge_w but register map "
                    f"{dev.register_map!r} has no current_limit_a (or setpoint_w) point to write",
                    field=f"{where}.register_map",
                )
        if dev.protocol == "modbus_rtu":
            _check_rtu(dev, where, buses)
        if dev.protocol == "opcua" and not dev.endpoint.startswith("opc.tcp://"):
            raise ConfigError(
                "an opcua device needs endpoint = 'opc.tcp://host:port/...'",
                field=f"{where}.endpoint",
            )
    meter = config.site.meter
    if meter is not None and meter not in seen:
        raise ConfigError(f"site.meter {meter!r} is not a configured device", field="$.site.meter")
    if urlsplit(config.hub.url).scheme not in {"mqtt", "mqtts"}:
        raise ConfigError("hub.url must start with mqtt:// or mqtts://", field="$.hub.url")


def parse_config(text: str | bytes) -> AgentConfig:
    """Decode and check a TOML config; raise :class:`ConfigError` naming the field."""
    raw = text.encode() if isinstance(text, str) else text
    source = raw.decode("utf-8", errors="replace")
    try:
        config = msgspec.toml.decode(raw, type=AgentConfig)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        path = match.group("path") if match else "$"
        unknown = _UNKNOWN.search(message)
        if unknown:
            path = f"{path}.{unknown.group('name')}"
        raise ConfigError(
            f"invalid config field {path}: {message}",
            field=path,
            line=_line_of(source, path, message),
        ) from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", field="$") from exc
    _semantic_checks(config)
    return config


def load_config(path: str | Path) -> AgentConfig:
    """Read and check the config file at ``path``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", field="$") from exc
    return parse_config(raw)


__all__ = [
    "AgentConfig",
    "ChargerConfig",
    "DefaultControlConfig",
    "DeviceConfig",
    "DeviceKind",
    "DeviceLimitsConfig",
    "HubConfig",
    "HvacConfig",
    "MetricsConfig",
    "OutboxConfig",
    "RegisterMap",
    "RegisterPoint",
    "SiteLimitsConfig",
    "SiteSection",
    "load_config",
    "parse_config",
]
