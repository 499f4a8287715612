"""Request and response bodies of the catalogue (seed 4.1.1, 4.1.2): templates, instances,
realtime data and history (msgspec Structs; field names from the seed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta

from hub._dto import Id, In, JsonObject, Name, Out, PositiveKw, Uuid

from ._types import Category, InstanceStatus, ParamSpec, ParamValue

Ipv4 = Annotated[
    str,
    Meta(
        max_length=15,
        pattern=r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$(?!\n)",
    ),
]
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


# --------------------------------------------------------------------------- templates


class TemplateCreate(In, kw_only=True):
    name: Name
    type: Annotated[str, Meta(min_length=1, max_length=50)]
    category: Category
    parameters: TemplateParams = {}
    control_interface: JsonObject = {}


class TemplateUpdate(In, kw_only=True):
    name: Name | None = None
    parameters: TemplateParams | None = None
    control_interface: JsonObject | None = None
    status: Literal["ACTIVE", "INACTIVE"] | None = None


class Template(Out, kw_only=True):
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


class TemplatePage(Out, kw_only=True):
    items: list[Template]
    total: int
    page: int
    size: int


# --------------------------------------------------------------------------- instances


class InstanceCreate(In, kw_only=True):
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
    edge_tenant: Id | None = None
    """The tenant of ``edge_id``; by default the one tenant that edge id is registered
    in (422 when several are), else ``VPP_HUB_TENANT``."""


class TemplateMigration(In, kw_only=True):
    """Move an instance to another version of its template (same lineage)."""

    template_id: Uuid
    parameters: ParamValues | None = None
    """New parameter values; None keeps the current ones (checked against the new schema)."""


class StatusChange(In, kw_only=True):
    status: InstanceStatus
    reason: Annotated[str, Meta(max_length=500)] | None = None


class Instance(Out, kw_only=True):
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
    edge_tenant: str | None = None


class InstancePage(Out, kw_only=True):
    items: list[Instance]
    total: int
    page: int
    size: int


class RealtimeData(Out, kw_only=True):
    """Seed 4.1.2: power kW (generator convention), energy kWh, soc %, temperature °C."""

    power: float
    energy: float
    soc: float | None = None
    temperature: float | None = None
    timestamp: dt.datetime


class HistoryPoint(Out, kw_only=True):
    timestamp: dt.datetime
    value: float
    min: float
    max: float
    count: int


class History(Out, kw_only=True):
    resource_id: str
    name: str
    step: int
    points: list[HistoryPoint]
