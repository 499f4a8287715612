"""Wire types of the MQTT contract between edge agents and the hub.

Every message is a frozen msgspec Struct with an explicit tag in the field ``kind``
(``"telemetry.v1"``...). The major version lives in the topic (``vpp/v1/...``) and in the
tag; the minor version is the field ``v``. Within v1 fields are only ever *added*, always
with a default, so an older reader ignores them and a newer reader fills them in. Unknown
fields are therefore accepted on decode (never ``forbid_unknown_fields`` on wire types).

Conventions
-----------
* Time: ``*_ts_ms`` fields are integer milliseconds since the Unix epoch, UTC.
* Power: ``*_w`` fields are watts with the **generator convention** seen from the device:
  positive = power delivered into the site bus (battery discharging, PV producing),
  negative = power taken from it (battery charging, EV charging, HVAC consuming).
  The one exception is the site meter's ``p_w`` point, which is the point-of-connection
  *import* (positive = importing from the grid), as every revenue meter reports it.
* Energy: ``*_wh``; state of charge: ``*_pct`` (0..100); temperature: ``*_c``.

The uplink union (edge -> hub) is :data:`Uplink`; the downlink union (hub -> edge) is
:data:`Downlink`.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

MINOR_VERSION: Final = 0
"""Minor version written in ``v`` by this build. Readers accept any minor version."""

MAX_POINTS_PER_BATCH: Final = 10_000
MAX_INTERVALS_PER_SCHEDULE: Final = 2_000
MAX_TARGETS_PER_INTERVAL: Final = 500
MAX_METRICS_PER_BIRTH: Final = 2_000
MAX_DEVICE_LIMITS: Final = 500

RESERVED_SEGMENTS: Final = frozenset(
    {"state", "birth", "data", "config", "dispatch", "status", "ack", "cmd", "reply"}
)
"""Topic words that cannot be used as device ids (they would make topics ambiguous)."""

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$(?!\n)"
"""``$(?!\n)``: Python's ``$`` also matches before a trailing newline ("park\n" would pass
and end up inside a topic); the lookahead closes that, and reads the same in JSON Schema."""

Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""A tenant, edge or device id: safe as one MQTT topic level (no ``+ # /``, not empty)."""

Text = Annotated[str, Meta(max_length=1024)]
Name = Annotated[str, Meta(min_length=1, max_length=128)]
Unit = Annotated[str, Meta(max_length=16)]
TimestampMs = Annotated[int, Meta(ge=0, le=32_503_680_000_000)]  # up to year 3000
Seq = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Version = Annotated[int, Meta(ge=1, le=2**31 - 1)]
PowerW = Annotated[float, Meta(ge=-1e9, le=1e9)]
NonNegPowerW = Annotated[float, Meta(ge=0, le=1e9)]
Pct = Annotated[float, Meta(ge=0, le=100)]
Seconds = Annotated[float, Meta(gt=0, le=86_400 * 366)]
EnergyWh = Annotated[float, Meta(ge=-1e12, le=1e12)]

PointValue = float | int | bool | str | None
Quality = Literal["good", "uncertain", "bad"]
Encoding = Literal["json", "msgpack"]
ControlMode = Literal["self_consumption", "zero_export", "peak_shaving", "idle"]


class _Wire(
    Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    tag_field="kind",
):
    """Base of every wire message: frozen, keyword-only, tagged in ``kind``."""


def _check(condition: bool, message: str) -> None:
    # msgspec wraps ValueError raised in __post_init__ into a ValidationError.
    if not condition:
        raise ValueError(message)


# --------------------------------------------------------------------------- state


class State(_Wire, tag="state.v1", frozen=True, kw_only=True):
    """Edge liveness, retained on ``.../state`` and set as the MQTT Will (online=false)."""

    v: int = MINOR_VERSION
    online: bool
    sid: Seq
    """Session id: grows by one at every agent start; pairs with ``seq`` in the outbox."""
    ts_ms: TimestampMs
    storage_error: Annotated[str, Meta(max_length=256)] = ""
    """Empty while the edge's outbox stores fine. Otherwise the failing storage (disk full,
    read-only, I/O...): local control goes on, but telemetry is not stored, and rows it
    cannot keep are lost (``floor_seq`` tells the hub which). Republished when it changes."""


class HubState(_Wire, tag="hub_state.v1", frozen=True, kw_only=True):
    """Hub liveness, retained on ``vpp/v1/_hub/state``; edges flush backlog when online."""

    v: int = MINOR_VERSION
    online: bool
    ts_ms: TimestampMs
    hub_version: Annotated[str, Meta(max_length=64)] = ""


# --------------------------------------------------------------------------- birth


class MetricDef(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of a birth certificate's metric catalogue."""

    name: Name
    unit: Unit = ""
    dtype: Literal["float", "int", "bool", "str"] = "float"
    sunspec_point: Annotated[str, Meta(max_length=64)] | None = None
    """SunSpec model and point, for example ``"701.W"``, when the metric maps to one."""
    writable: bool = False
    description: Text = ""


DeviceRef = Annotated[str, Meta(min_length=1, max_length=64)]
"""A device named inside a payload. Checked for length only: a regex per point would triple
the decode cost of a batch. Ids are validated where they become topics (``protocol.topics``)
and receivers match them against the device catalogue from ``birth``."""


class Point(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One measurement of one device."""

    device: DeviceRef
    name: Name
    value: PointValue
    unit: Unit = ""
    quality: Quality = "good"
    ts_ms: TimestampMs


class Birth(_Wire, tag="birth.v1", frozen=True, kw_only=True):
    """Metric catalogue and current values; retained on ``.../birth`` or ``.../{dev}/birth``.

    ``device`` is None for the edge's own birth certificate. ``encoding`` says which payload
    encoding this edge uses for ``data`` (msgspec JSON by default, msgpack optional).
    """

    v: int = MINOR_VERSION
    edge: Id
    device: Id | None = None
    sid: Seq
    ts_ms: TimestampMs
    encoding: Encoding = "json"
    device_kind: Annotated[str, Meta(max_length=32)] = ""
    protocol: Annotated[str, Meta(max_length=32)] = ""
    agent_version: Annotated[str, Meta(max_length=64)] = ""
    metrics: Annotated[list[MetricDef], Meta(max_length=MAX_METRICS_PER_BIRTH)] = []
    values: Annotated[list[Point], Meta(max_length=MAX_METRICS_PER_BIRTH)] = []


# --------------------------------------------------------------------------- telemetry


class TelemetryBatch(_Wire, tag="telemetry.v1", frozen=True, kw_only=True):
    """A batch of points on ``.../data``, keyed by ``(edge, sid, seq)``.

    ``hist=True`` marks backlog replayed from the outbox after an outage; its points keep
    their original timestamps.
    """

    v: int = MINOR_VERSION
    edge: Id
    sid: Seq
    seq: Seq
    ts_ms: TimestampMs
    hist: bool = False
    floor_seq: Seq = 0
    """The lowest seq of this session the edge may still send (its oldest unacknowledged
    row, or this message): the hub never waits for a seq below it. A seq below it that the
    hub has not stored is gone for good (thinned, or lost to a storage error) and the hub
    records the gap. 0: not stated (older agents); the hub then starts a session it meets
    for the first time at the lowest seq it sees."""
    points: Annotated[list[Point], Meta(max_length=MAX_POINTS_PER_BATCH)]


# --------------------------------------------------------------------------- config


class DeviceLimits(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Rated limits of one device (generator convention: discharge > 0, charge < 0)."""

    device: Id
    p_max_discharge_w: NonNegPowerW
    """Largest power the device may deliver (discharge / generation)."""
    p_max_charge_w: NonNegPowerW = 0.0
    """Largest power the device may absorb (charge / consumption), as a positive number."""
    soc_min_pct: Pct = 0.0
    soc_max_pct: Pct = 100.0
    ramp_w_per_s: Annotated[float, Meta(gt=0, le=1e9)] | None = None
    temp_derate_start_c: Annotated[float, Meta(ge=-50, le=150)] | None = None
    temp_max_c: Annotated[float, Meta(ge=-50, le=150)] | None = None

    def __post_init__(self) -> None:
        _check(self.soc_min_pct <= self.soc_max_pct, "soc_min_pct must be <= soc_max_pct")
        if self.temp_derate_start_c is not None and self.temp_max_c is not None:
            _check(
                self.temp_derate_start_c < self.temp_max_c,
                "temp_derate_start_c must be below temp_max_c",
            )


class SiteLimits(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Limits at the site's point of connection (POC)."""

    import_max_w: NonNegPowerW
    export_max_w: NonNegPowerW
    soc_min_pct: Pct = 5.0
    soc_max_pct: Pct = 95.0
    ramp_w_per_s: Annotated[float, Meta(gt=0, le=1e9)] | None = None

    def __post_init__(self) -> None:
        _check(self.soc_min_pct <= self.soc_max_pct, "soc_min_pct must be <= soc_max_pct")


class DefaultControl(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the site does when no valid schedule is in force."""

    mode: ControlMode = "self_consumption"
    peak_limit_w: NonNegPowerW | None = None
    """Import limit for ``peak_shaving``."""

    def __post_init__(self) -> None:
        _check(
            self.mode != "peak_shaving" or self.peak_limit_w is not None,
            "peak_shaving needs peak_limit_w",
        )


class SiteConfig(_Wire, tag="config.v1", frozen=True, kw_only=True):
    """Versioned site configuration pushed by the hub, retained on ``.../config``."""

    v: int = MINOR_VERSION
    edge: Id
    version: Version
    ts_ms: TimestampMs
    site_limits: SiteLimits
    default_control: DefaultControl = DefaultControl()
    device_limits: Annotated[list[DeviceLimits], Meta(max_length=MAX_DEVICE_LIMITS)] = []
    watchdog_s: Seconds = 300.0
    """Hub silence after which the edge falls back to its default control."""

    def __post_init__(self) -> None:
        devices = [d.device for d in self.device_limits]
        _check(len(set(devices)) == len(devices), "device_limits names a device twice")


# --------------------------------------------------------------------------- dispatch


class DeviceTarget(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Target active power of one device during one interval."""

    device: Id
    p_target_w: PowerW
    instruction_id: Annotated[str, Meta(max_length=64)] = ""
    """The hub's dispatch instruction this target belongs to (for execution-status)."""


class DispatchInterval(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``[start_ts_ms, end_ts_ms)`` with the targets in force during it."""

    start_ts_ms: TimestampMs
    end_ts_ms: TimestampMs
    targets: Annotated[list[DeviceTarget], Meta(max_length=MAX_TARGETS_PER_INTERVAL)]

    def __post_init__(self) -> None:
        _check(self.start_ts_ms < self.end_ts_ms, "start_ts_ms must be before end_ts_ms")
        devices = [t.device for t in self.targets]
        _check(len(set(devices)) == len(devices), "a device has two targets in one interval")


class DispatchSchedule(_Wire, tag="dispatch.v1", frozen=True, kw_only=True):
    """A schedule, retained on ``.../dispatch``. A higher ``version`` replaces a lower one.

    Intervals are sorted and do not overlap. Past ``expires_ts_ms`` the schedule is not
    executed at all; the site returns to its default control.
    """

    v: int = MINOR_VERSION
    id: Annotated[str, Meta(min_length=1, max_length=64)]
    version: Version
    edge: Id
    issued_ts_ms: TimestampMs
    expires_ts_ms: TimestampMs
    intervals: Annotated[list[DispatchInterval], Meta(max_length=MAX_INTERVALS_PER_SCHEDULE)]
    max_offline_s: Seconds | None = None
    """None (market awards, day plans): the schedule runs until its own expiry whatever the
    link. A value (signals such as regulation that must not outlive the link): the edge
    stops following it once the hub has been silent that long and falls back to default
    control."""

    def __post_init__(self) -> None:
        _check(self.issued_ts_ms <= self.expires_ts_ms, "expires_ts_ms is before issued_ts_ms")
        for before, after in zip(self.intervals, self.intervals[1:], strict=False):
            _check(
                before.end_ts_ms <= after.start_ts_ms,
                "intervals must be sorted and must not overlap",
            )


DispatchState = Literal[
    "accepted", "clamped", "rejected", "executing", "done", "expired", "superseded", "failed"
]
"""``executing``/``clamped``: the device write returned, ``p_applied_w`` is the value
written; ``failed``: the write was refused or failed (``reason`` says why); ``done``: the
instruction ended, ``energy_wh`` is what the device delivered while it was in force."""


class DispatchStatus(_Wire, tag="dispatch_status.v1", frozen=True, kw_only=True):
    """Execution report on ``.../dispatch/status``; goes through the outbox like telemetry."""

    v: int = MINOR_VERSION
    edge: Id
    sid: Seq
    seq: Seq
    ts_ms: TimestampMs
    hist: bool = False
    schedule_id: Annotated[str, Meta(max_length=64)]
    version: Annotated[int, Meta(ge=0, le=2**31 - 1)]
    status: DispatchState
    reason: Text = ""
    device: Id | None = None
    instruction_id: Annotated[str, Meta(max_length=64)] = ""
    p_target_w: PowerW | None = None
    p_applied_w: PowerW | None = None
    """The setpoint the device accepted: the value written after the SafetyGuard and after
    the register's own rounding (percent steps, scale factors)."""
    p_actual_w: PowerW | None = None
    """Measured power of the device when the report was made."""
    deviation_w: PowerW | None = None
    floor_seq: Seq = 0
    """As in :class:`TelemetryBatch`."""
    energy_wh: EnergyWh | None = None
    """Energy the device delivered (generator convention: discharge > 0) since the
    instruction came into force, integrated at the edge from measured power."""
    started_ts_ms: TimestampMs | None = None
    """When the instruction came into force on the device (its first accepted write)."""


# --------------------------------------------------------------------------- ack


class Ack(_Wire, tag="ack.v1", frozen=True, kw_only=True):
    """Highest contiguous ``(sid, seq)`` the hub has stored; the edge deletes up to it."""

    v: int = MINOR_VERSION
    edge: Id
    sid: Seq
    seq: Seq
    ts_ms: TimestampMs


# --------------------------------------------------------------------------- commands

ArgValue = float | int | bool | str


class Command(_Wire, tag="cmd.v1", frozen=True, kw_only=True):
    """Request on ``.../cmd/{dev}``; answered once per ``cid`` on ``reply_to``."""

    v: int = MINOR_VERSION
    cid: Annotated[str, Meta(min_length=1, max_length=64)]
    device: Id
    op: Annotated[str, Meta(min_length=1, max_length=64)]
    args: Annotated[dict[Annotated[str, Meta(max_length=64)], ArgValue], Meta(max_length=64)] = {}
    reply_to: Annotated[str, Meta(min_length=1, max_length=256)]
    ts_ms: TimestampMs
    expires_ts_ms: TimestampMs


class Reply(_Wire, tag="reply.v1", frozen=True, kw_only=True):
    """Answer to a :class:`Command`, idempotent by ``cid``."""

    v: int = MINOR_VERSION
    cid: Annotated[str, Meta(min_length=1, max_length=64)]
    ok: bool
    code: Literal["ok", "rejected", "expired", "unknown_device", "unsupported", "error"] = "ok"
    message: Text = ""
    result: Annotated[
        dict[Annotated[str, Meta(max_length=64)], ArgValue], Meta(max_length=256)
    ] = {}
    ts_ms: TimestampMs


Uplink = State | Birth | TelemetryBatch | DispatchStatus | Reply
"""Everything an edge publishes."""

Downlink = HubState | SiteConfig | DispatchSchedule | Ack | Command
"""Everything the hub publishes."""

Message = Uplink | Downlink

UPLINK_TYPES: Final[tuple[type[Struct], ...]] = (
    State,
    Birth,
    TelemetryBatch,
    DispatchStatus,
    Reply,
)
DOWNLINK_TYPES: Final[tuple[type[Struct], ...]] = (
    HubState,
    SiteConfig,
    DispatchSchedule,
    Ack,
    Command,
)
MESSAGE_TYPES: Final = UPLINK_TYPES + DOWNLINK_TYPES


def tag_of(cls: type[Struct]) -> str:
    """The ``kind`` tag of a message class."""
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag
