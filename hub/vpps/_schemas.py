"""Request and response bodies of ``/api/v1/vpp/vpps`` (seed 4.1.3)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from hub._dto import In, Name, Out, Priority, Ratio, Uuid

from ._types import Conflict, MarketType

# --------------------------------------------------------------------------- vpps


class VppCreate(In, kw_only=True):
    name: Name
    description: Annotated[str, Meta(max_length=2000)] = ""
    market_type: MarketType
    resource_ids: Annotated[list[Uuid], Meta(max_length=5000)] = []


class MemberAdd(In, kw_only=True):
    resource_id: Uuid
    allocation_ratio: Ratio = 1.0
    priority: Priority = 1


class MemberUpdate(In, kw_only=True):
    resource_id: Uuid
    allocation_ratio: Ratio | None = None
    priority: Priority | None = None


class ResourcesUpdate(In, kw_only=True):
    add_resources: Annotated[list[MemberAdd], Meta(max_length=5000)] = []
    remove_resources: Annotated[list[Uuid], Meta(max_length=5000)] = []
    update_resources: Annotated[list[MemberUpdate], Meta(max_length=5000)] = []


class Member(Out, kw_only=True):
    resource_id: str
    allocation_ratio: float
    priority: int


class VppOut(Out, kw_only=True):
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


class VppPage(Out, kw_only=True):
    items: list[VppOut]
    total: int
    page: int
    size: int


class ConflictReport(Out, kw_only=True):
    vpp_id: str
    conflicts: list[Conflict]
