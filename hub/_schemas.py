"""Request and response bodies of the REST API (msgspec Structs; field names from seed 4.1
and 4.3.2). Units: power and capacity in kW, energy in kWh, times ISO 8601 UTC,
durations and response times in seconds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from hub.domain import Category, Conflict, InstanceStatus, MarketType, ParamSpec, ParamValue
from protocol import ID_PATTERN

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Uuid = Annotated[str, Meta(min_length=1, max_length=36)]
Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
Kw = Annotated[float, Meta(ge=-1e7, le=1e7)]
PositiveKw = Annotated[float, Meta(ge=0, le=1e7)]
Ratio = Annotated[float, Meta(gt=0, le=1)]
Priority = Annotated[int, Meta(ge=1, le=1000)]
Ipv4 = Annotated[
    str,
    Meta(
        max_length=15,
        pattern=r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$(?!\n)",
    ),
]
JsonObject = Annotated[dict[str, Any], Meta(max_length=200)]
ParamName = Annotated[str, Meta(min_length=1, max_length=64)]
TemplateParams = Annotated[
    dict[ParamName, Any],
    Meta(
        max_length=100,
        extra_json_schema={
            "description": (
                "Either plain values, each the default of a parameter whose type it gives "
                "(number, boolean, string), or schema entries {type, unit, min, max, default, "
                "required, description}; not both. Responses show the schema form."
            ),
            "examples": [
                {"rated_power_kw": 500, "capacity_kwh": 1000},
                {"rated_kw": {"type": "number", "unit": "kW", "required": True}},
            ],
        },
    ),
]
ParamValues = Annotated[dict[Annotated[str, Meta(max_length=64)], ParamValue], Meta(max_length=100)]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Request bodies reject unknown fields (a typo should not pass silently)."""


class _Out(msgspec.Struct, kw_only=True):
    pass


# --------------------------------------------------------------------------- templates


class TemplateCreate(_In, kw_only=True):
    name: Name
    type: Annotated[str, Meta(min_length=1, max_length=50)]
    category: Category
    parameters: TemplateParams = {}
    control_interface: JsonObject = {}


class TemplateUpdate(_In, kw_only=True):
    name: Name | None = None
    parameters: TemplateParams | None = None
    control_interface: JsonObject | None = None
    status: Literal["ACTIVE", "INACTIVE"] | None = None


class Template(_Out, kw_only=True):
    id: str
    name: str
    type: str
    category: Category | None
    parameters: dict[str, ParamSpec]
    control_interface: dict[str, Any]
    version: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None
    lineage_id: str | None
    current_id: str
    """The id of the template's current (newest) version: ``id`` itself on that version,
    where an older version's template went otherwise."""


class TemplatePage(_Out, kw_only=True):
    items: list[Template]
    total: int
    page: int
    size: int


# --------------------------------------------------------------------------- instances


class InstanceCreate(_In, kw_only=True):
    template_id: Uuid
    name: Name
    device_ip: Ipv4 | None = None
    device_port: Annotated[int, Meta(ge=1, le=65535)] | None = None
    location_info: JsonObject = {}
    capacity: PositiveKw
    efficiency: Annotated[float, Meta(ge=0, le=1)] | None = None
    parameters: ParamValues = {}
    edge_id: Id | None = None
    device_id: Id | None = None


class TemplateMigration(_In, kw_only=True):
    """Move an instance to another version of its template (same lineage)."""

    template_id: Uuid
    parameters: ParamValues | None = None
    """New parameter values; None keeps the current ones (checked against the new schema)."""


class StatusChange(_In, kw_only=True):
    status: InstanceStatus
    reason: Annotated[str, Meta(max_length=500)] | None = None


class Instance(_Out, kw_only=True):
    id: str
    template_id: str
    name: str
    device_ip: str | None
    device_port: int | None
    location_info: dict[str, Any]
    capacity: float | None
    efficiency: float | None
    status: str
    last_heartbeat: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    parameters: dict[str, ParamValue]
    edge_id: str | None
    device_id: str | None
    status_reason: str | None


class InstancePage(_Out, kw_only=True):
    items: list[Instance]
    total: int
    page: int
    size: int


class RealtimeData(_Out, kw_only=True):
    """Seed 4.1.2: power kW (generator convention), energy kWh, soc %, temperature °C."""

    power: float
    energy: float
    soc: float | None = None
    temperature: float | None = None
    timestamp: dt.datetime


class HistoryPoint(_Out, kw_only=True):
    timestamp: dt.datetime
    value: float
    min: float
    max: float
    count: int


class History(_Out, kw_only=True):
    resource_id: str
    name: str
    step: int
    points: list[HistoryPoint]


# --------------------------------------------------------------------------- vpps


class VppCreate(_In, kw_only=True):
    name: Name
    description: Annotated[str, Meta(max_length=2000)] = ""
    market_type: MarketType
    resource_ids: Annotated[list[Uuid], Meta(max_length=5000)] = []


class MemberAdd(_In, kw_only=True):
    resource_id: Uuid
    allocation_ratio: Ratio = 1.0
    priority: Priority = 1


class MemberUpdate(_In, kw_only=True):
    resource_id: Uuid
    allocation_ratio: Ratio | None = None
    priority: Priority | None = None


class ResourcesUpdate(_In, kw_only=True):
    add_resources: Annotated[list[MemberAdd], Meta(max_length=5000)] = []
    remove_resources: Annotated[list[Uuid], Meta(max_length=5000)] = []
    update_resources: Annotated[list[MemberUpdate], Meta(max_length=5000)] = []


class Member(_Out, kw_only=True):
    resource_id: str
    allocation_ratio: float
    priority: int


class VppOut(_Out, kw_only=True):
    id: str
    name: str
    description: str | None
    total_capacity: float | None
    available_capacity: float | None
    response_time: int | None
    market_type: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    resources: list[Member]


class VppPage(_Out, kw_only=True):
    items: list[VppOut]
    total: int
    page: int
    size: int


class ConflictReport(_Out, kw_only=True):
    vpp_id: str
    conflicts: list[Conflict]


# --------------------------------------------------------------------------- dispatch


class InstructionIn(_In, kw_only=True):
    """One instruction. Without ``resource_id`` (or with the VPP's own id) the target is
    the VPP's total output and is disaggregated over its members."""

    resource_id: Uuid | None = None
    target_power: Kw
    duration: Annotated[int, Meta(ge=1, le=7 * 86400)]
    start_time: dt.datetime | None = None
    """None: now (by the hub's clock, which runs accelerated in the demo)."""


class ExecuteDispatch(_In, kw_only=True):
    vpp_id: Uuid
    dispatch_instructions: Annotated[list[InstructionIn], Meta(min_length=1, max_length=500)]
    max_offline_s: Annotated[float, Meta(gt=0, le=86_400 * 366)] | None = None
    """None (the default, right for market awards and day plans): the edges follow these
    instructions through a hub or broker outage until they end. A value (signals such as
    regulation that must not outlive the link): an edge stops following them once it has
    not heard from the hub for that many seconds, and falls back to its default control."""


class MemberInstruction(_Out, kw_only=True):
    instruction_id: str
    resource_id: str
    target_power: float
    edge_id: str | None
    device_id: str | None


class InstructionOut(_Out, kw_only=True):
    instruction_id: str
    resource_id: str | None
    target_power: float
    feasible_power: float
    infeasible_power: float
    start_time: dt.datetime
    end_time: dt.datetime
    members: list[MemberInstruction]


class DispatchAccepted(_Out, kw_only=True):
    vpp_id: str
    instructions: list[InstructionOut]
    published_edges: list[str]


class ExecutionStatus(_Out, kw_only=True):
    """What the devices did with an instruction, from the edges' execution reports.

    Units as everywhere in the API: kW, kWh, s. ``actual_power``: measured power in the
    latest reports; ``deviation``: actual minus target; ``applied_power``: the setpoint
    the devices accepted (after their register rounding); ``delivered_energy``: energy
    delivered while the instruction was in force (generator convention: discharge > 0),
    integrated at the edge from measured power, final once ``status`` is ``done``;
    ``started_time``: the first accepted write. ``status``: ``pending``, ``accepted``,
    ``executing``, ``clamped``, ``failed`` (the device refused or the write failed,
    ``reason`` says why), ``rejected``, ``superseded``, ``expired`` or ``done``; for a
    VPP-level instruction the least advanced member status.
    """

    instruction_id: str
    status: str
    actual_power: float | None
    deviation: float | None
    timestamp: dt.datetime
    target_power: float
    reason: str = ""
    applied_power: float | None = None
    delivered_energy: float | None = None
    started_time: dt.datetime | None = None


# --------------------------------------------------------------------------- security


class LoginIn(_In, kw_only=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class TokenOut(_Out, kw_only=True):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: str


class Me(_Out, kw_only=True):
    user_id: str
    username: str
    role: str
    via: str


class ApiKeyCreate(_In, kw_only=True):
    name: Name


class ApiKeyOut(_Out, kw_only=True):
    id: str
    name: str
    key: str
    """Shown once; only its hash is stored."""
    prefix: str


class UserCreate(_In, kw_only=True):
    username: Annotated[
        str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$(?!\n)")
    ]
    password: Annotated[str, Meta(min_length=8, max_length=256)]
    role: Literal["viewer", "operator", "trader", "admin"]


class UserUpdate(_In, kw_only=True):
    disabled: bool | None = None
    role: Literal["viewer", "operator", "trader", "admin"] | None = None


class UserOut(_Out, kw_only=True):
    id: str
    username: str
    role: str
    disabled: bool
    created_at: dt.datetime


class AuditOut(_Out, kw_only=True):
    id: int
    ts: dt.datetime
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(_Out, kw_only=True):
    items: list[AuditOut]
    total: int
    page: int
    size: int


class EdgeCreate(_In, kw_only=True):
    id: Id
    name: Annotated[str, Meta(max_length=100)] = ""


class EdgeOut(_Out, kw_only=True):
    id: str
    tenant: str
    name: str
    mqtt_username: str
    online: bool
    last_seen: dt.datetime | None


class EdgeCredentials(_Out, kw_only=True):
    edge: EdgeOut
    mqtt_password: str
    agent_config_toml: str
    acl: str
