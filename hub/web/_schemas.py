"""Bodies of the console's own routes (live snapshot, aggregation preview)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from hub.vpps import AggregatedParams, Conflict, MarketType

Uuid = Annotated[str, Meta(min_length=1, max_length=36)]


class ResourceLive(msgspec.Struct, kw_only=True):
    """One resource instance as the console's live views show it: status and its newest
    values (only what they show: 5,000 of these go out every second; the rest of an
    instance is ``GET resource-instances/{id}``)."""

    id: str
    name: str
    category: str | None
    status: str
    device_id: str | None
    capacity: float | None
    p_kw: float | None
    """Newest active power (kW, generator convention), None when stale or never seen."""
    soc: float | None
    ts: dt.datetime | None
    """When the newest value was measured (device time)."""
    location_info: dict[str, Any]


class VppLive(msgspec.Struct, kw_only=True):
    """A VPP with its aggregated parameters now (its members: ``GET vpps``)."""

    id: str
    name: str
    status: str
    market_type: str | None
    params: AggregatedParams


class EdgeLive(msgspec.Struct, kw_only=True):
    id: str
    tenant: str
    name: str
    online: bool
    last_seen: dt.datetime | None


class DispatchLive(msgspec.Struct, kw_only=True):
    """A recent top-level instruction with its execution status (as execution-status)."""

    instruction_id: str
    vpp_id: str
    resource_id: str | None
    status: str
    requested_power: float
    target_power: float
    actual_power: float | None
    deviation: float | None
    start_time: dt.datetime
    end_time: dt.datetime
    created_by: str | None
    reason: str


AlarmCode = Literal[
    "resource_error", "resource_offline", "edge_offline", "dispatch_rejected", "dispatch_clamped"
]


class Alarm(msgspec.Struct, kw_only=True):
    """A condition an operator should look at; ``code`` is translated by the console,
    ``detail`` is the hub's own text (a reason), shown as it is."""

    code: AlarmCode
    severity: Literal["warning", "error"]
    subject_id: str
    subject_name: str
    detail: str = ""


class LiveSnapshot(msgspec.Struct, kw_only=True):
    """Everything the live views show, as of ``ts`` (the hub's clock). Each pushed
    ``live`` event is one whole snapshot."""

    seq: int
    ts: dt.datetime
    resources: list[ResourceLive]
    vpps: list[VppLive]
    edges: list[EdgeLive]
    dispatch: list[DispatchLive]
    alarms: list[Alarm]


class PreviewMember(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    resource_id: Uuid
    allocation_ratio: Annotated[float, Meta(gt=0, le=1)] = 1.0
    priority: Annotated[int, Meta(ge=1, le=1000)] = 1


class AggregationPreviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A membership that is not saved: the members as they would be, and optionally the
    VPP being edited (its saved members' ratios then do not count twice)."""

    members: Annotated[list[PreviewMember], Meta(max_length=5000)]
    vpp_id: Uuid | None = None
    market_type: MarketType | None = None


class AggregationPreview(msgspec.Struct, kw_only=True):
    params: AggregatedParams
    conflicts: list[Conflict]
