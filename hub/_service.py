"""Use cases shared by the controllers, the CLI and the demo seeding.

Each function takes an open session and leaves committing to the caller, so one request
is one transaction (its audit entry included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.topics import EdgeTopics, validate_id

from ._cache import LiveCache
from ._security import Principal, Role, hash_password
from .domain import PRESETS, MemberState, ParamSpec
from .errors import ConflictError, NotFoundError
from .store import (
    AuditEntry,
    Edge,
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    User,
    Vpp,
    row_dict,
)

SYSTEM = Principal(user_id="system", username="system", role="admin")


def new_id() -> str:
    return str(uuid.uuid4())


def audit(
    session: AsyncSession,
    who: Principal,
    action: str,
    entity: str,
    entity_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One audit entry in the caller's transaction."""
    session.add(
        AuditEntry(
            ts=dt.datetime.now(dt.UTC),
            actor=who.username,
            role=who.role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(value))
    return out


# --------------------------------------------------------------------------- templates


async def ensure_presets(session: AsyncSession) -> int:
    """Load the preset templates once (when no template of that ``type`` exists yet)."""
    have = set((await session.execute(select(ResourceTemplate.type))).scalars())
    added = 0
    for preset in PRESETS:
        if preset.type in have:
            continue
        tid = new_id()
        session.add(
            ResourceTemplate(
                id=tid,
                lineage_id=tid,
                name=preset.name,
                type=preset.type,
                category=preset.category,
                parameters=msgspec.to_builtins(preset.parameters),
                control_interface=preset.control_interface,
                version="1.0",
                status="ACTIVE",
                created_by="system",
            )
        )
        added += 1
    return added


def template_schema(row: ResourceTemplate) -> dict[str, ParamSpec]:
    return msgspec.convert(row.parameters or {}, dict[str, ParamSpec])


def next_version(version: str) -> str:
    head = version.split(".", 1)[0]
    return f"{int(head) + 1}.0" if head.isdigit() else f"{version}.1"


def _version_key(row: ResourceTemplate) -> tuple[int, dt.datetime, str]:
    head = row.version.split(".", 1)[0]
    created = row.created_at or dt.datetime.min
    return (int(head) if head.isdigit() else -1, created.replace(tzinfo=None), row.id)


async def template_versions(
    session: AsyncSession, row: ResourceTemplate, *, lock: bool = False
) -> list[ResourceTemplate]:
    """Every version of ``row``'s template (its lineage), oldest first: the last is the
    current one. ``lock`` locks them (``FOR UPDATE`` on PostgreSQL) and reads them again
    once locked, so two writers of one template see each other's new version."""
    lineage = row.lineage_id or row.id
    query = select(ResourceTemplate).where(
        or_(ResourceTemplate.lineage_id == lineage, ResourceTemplate.id == lineage)
    )
    if lock:
        await session.execute(query.with_for_update())
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return sorted({r.id: r for r in [row, *rows]}.values(), key=_version_key)


async def current_versions(
    session: AsyncSession, rows: Sequence[ResourceTemplate]
) -> dict[str, str]:
    """The current (newest) version's id of each lineage among ``rows``, by lineage id."""
    lineages = {r.lineage_id or r.id for r in rows}
    if not lineages:
        return {}
    found = await session.scalars(
        select(ResourceTemplate).where(
            or_(ResourceTemplate.lineage_id.in_(lineages), ResourceTemplate.id.in_(lineages))
        )
    )
    newest: dict[str, ResourceTemplate] = {}
    for r in [*rows, *found]:
        lineage = r.lineage_id or r.id
        if lineage not in newest or _version_key(r) > _version_key(newest[lineage]):
            newest[lineage] = r
    return {lineage: r.id for lineage, r in newest.items()}


# --------------------------------------------------------------------------- users


async def create_user(
    session: AsyncSession, username: str, password: str, role: Role, *, replace: bool = False
) -> User:
    existing = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    if existing is not None:
        if not replace:
            raise ConflictError(f"user {username!r} exists", field="username")
        existing.password_hash = await asyncio.to_thread(hash_password, password)
        existing.role = role
        existing.disabled = False
        return existing
    user = User(
        id=new_id(),
        username=username,
        password_hash=await asyncio.to_thread(hash_password, password),
        role=role,
    )
    session.add(user)
    return user


# --------------------------------------------------------------------------- edges


async def create_edge(
    session: AsyncSession, tenant: str, edge_id: str, name: str = ""
) -> tuple[Edge, str]:
    """Register an edge; returns it and its MQTT password (shown once, stored hashed)."""
    validate_id(edge_id, "edge id")
    validate_id(tenant, "tenant id")
    if await session.get(Edge, edge_id) is not None:
        raise ConflictError(f"edge {edge_id!r} is already registered", field="id")
    password = secrets.token_urlsafe(24)
    edge = Edge(
        id=edge_id,
        tenant=tenant,
        name=name,
        mqtt_username=f"edge-{edge_id}",
        mqtt_password_hash=await asyncio.to_thread(hash_password, password),
        online=False,
        schedule_version=0,
    )
    session.add(edge)
    return edge, password


def agent_config_toml(edge: Edge, password: str, mqtt_url: str) -> str:
    """The ``[site]`` and ``[hub]`` sections of the edge agent's TOML for this edge."""
    return (
        "# vpp agent config: add [[devices]] for the site's devices\n"
        "[site]\n"
        f'tenant = "{edge.tenant}"\n'
        f'edge = "{edge.id}"\n'
        "\n[site.limits]\n"
        "import_max_w = 1000000.0\n"
        "export_max_w = 1000000.0\n"
        "\n[hub]\n"
        f'url = "{mqtt_url}"\n'
        f'username = "{edge.mqtt_username}"\n'
        f'password = "{password}"\n'
    )


def acl_lines(edge: Edge) -> str:
    """mosquitto ACL lines confining the edge to its own topics."""
    topics = EdgeTopics(edge.tenant, edge.id)
    return (
        f"user {edge.mqtt_username}\n"
        f"topic write {topics.base}/state\n"
        f"topic write {topics.base}/birth\n"
        f"topic write {topics.base}/+/birth\n"
        f"topic write {topics.data}\n"
        f"topic write {topics.dispatch_status}\n"
        f"topic write {topics.reply}\n"
        f"topic read {topics.config}\n"
        f"topic read {topics.dispatch}\n"
        f"topic read {topics.ack}\n"
        f"topic read {topics.cmd_filter}\n"
        "topic read vpp/v1/_hub/state\n"
    )


# --------------------------------------------------------------------------- members


def _num(params: dict[str, Any], name: str) -> float | None:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _num_or(params: dict[str, Any], name: str, default: float) -> float:
    value = _num(params, name)
    return default if value is None else value


def member_state(
    instance: ResourceInstance,
    template: ResourceTemplate,
    mapping: ResourceMapping | None,
    cache: LiveCache,
    fresh_after_ms: int,
) -> MemberState:
    """What aggregation needs about one member, from its rows and the live cache."""
    params: dict[str, Any] = dict(instance.parameters or {})
    p_w = cache.value(instance.edge_id, instance.device_id, "p_w", newer_than_ms=fresh_after_ms)
    soc = cache.value(instance.edge_id, instance.device_id, "soc_pct", newer_than_ms=fresh_after_ms)
    capacity = float(instance.capacity or _num(params, "rated_kw") or 0.0)
    max_discharge = _num(params, "max_discharge_kw")
    max_charge = _num(params, "max_charge_kw")
    # The BMS's live limits narrow the configured ones.
    bms_dis = cache.value(
        instance.edge_id, instance.device_id, "bms_max_discharge_w", newer_than_ms=fresh_after_ms
    )
    bms_ch = cache.value(
        instance.edge_id, instance.device_id, "bms_max_charge_w", newer_than_ms=fresh_after_ms
    )
    if bms_dis is not None:
        max_discharge = min(capacity if max_discharge is None else max_discharge, bms_dis / 1000)
    if bms_ch is not None:
        max_charge = min(capacity if max_charge is None else max_charge, bms_ch / 1000)
    efficiency = instance.efficiency
    if efficiency is None:
        efficiency = _num(params, "efficiency") or _num(params, "discharge_efficiency") or 1.0
    category = template.category or "LOAD"
    dispatchable = params.get("dispatchable", True) is not False
    return MemberState(
        resource_id=instance.id,
        category=category,  # type: ignore[arg-type]
        status=instance.status,  # type: ignore[arg-type]
        capacity_kw=max(0.0, capacity),
        allocation_ratio=float(mapping.allocation_ratio) if mapping is not None else 1.0,
        priority=mapping.priority if mapping is not None else 1,
        p_kw=None if p_w is None else p_w / 1000.0,
        soc_pct=soc,
        max_discharge_kw=max_discharge,
        max_charge_kw=max_charge,
        min_kw=_num_or(params, "min_kw", 0.0),
        soc_min_pct=_num_or(params, "soc_min_pct", 0.0),
        soc_max_pct=_num_or(params, "soc_max_pct", 100.0),
        energy_kwh=_num(params, "rated_kwh"),
        response_time_s=_num_or(params, "response_time_s", 1.0),
        efficiency=float(efficiency),
        dispatchable=dispatchable,
        curtailable=params.get("curtailable", True) is not False,
    )


async def vpp_members(
    session: AsyncSession, vpp_id: str
) -> list[tuple[ResourceMapping, ResourceInstance, ResourceTemplate]]:
    rows = await session.execute(
        select(ResourceMapping, ResourceInstance, ResourceTemplate)
        .join(ResourceInstance, ResourceInstance.id == ResourceMapping.resource_id)
        .join(ResourceTemplate, ResourceTemplate.id == ResourceInstance.template_id)
        .where(ResourceMapping.vpp_id == vpp_id)
        .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
    )
    return [(m, i, t) for m, i, t in rows]


async def get_vpp(session: AsyncSession, vpp_id: str) -> Vpp:
    vpp = await session.get(Vpp, vpp_id)
    if vpp is None:
        raise NotFoundError(f"VPP {vpp_id} not found")
    return vpp


async def ratio_totals(session: AsyncSession, resource_ids: Sequence[str]) -> dict[str, float]:
    if not resource_ids:
        return {}
    rows = await session.execute(
        select(ResourceMapping.resource_id, func.sum(ResourceMapping.allocation_ratio))
        .where(ResourceMapping.resource_id.in_(list(resource_ids)))
        .group_by(ResourceMapping.resource_id)
    )
    return {rid: float(total or 0.0) for rid, total in rows}


__all__ = [
    "SYSTEM",
    "acl_lines",
    "agent_config_toml",
    "audit",
    "create_edge",
    "create_user",
    "current_versions",
    "ensure_presets",
    "get_vpp",
    "member_state",
    "new_id",
    "next_version",
    "ratio_totals",
    "row_dict",
    "template_schema",
    "template_versions",
    "vpp_members",
]
