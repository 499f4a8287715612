"""VPP use cases: members and their live state (for aggregation, conflicts and dispatch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFoundError
from hub.store import LiveCache, ResourceInstance, ResourceMapping, ResourceTemplate, Vpp

from ._types import MemberState


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


__all__ = ["get_vpp", "member_state", "ratio_totals", "vpp_members"]
