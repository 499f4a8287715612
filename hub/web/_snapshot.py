"""What the live views show, read from the live cache and the database in one pass.

Read-only: one session, a handful of queries, no writes. Built by the feed's poller at
its cadence (not per client), and by ``GET /api/v1/vpp/console/snapshot`` for a client
that resyncs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.dispatch import execution_status
from hub.errors import NotFoundError
from hub.store import DispatchInstruction, Edge, ResourceInstance, ResourceMapping, ResourceTemplate
from hub.store import Vpp as VppRow
from hub.vpps import aggregate, member_state

from ._schemas import Alarm, DispatchLive, EdgeLive, LiveSnapshot, ResourceLive, VppLive

RECENT_DISPATCH_S = 15 * 60
"""Instructions that ended longer ago than this (hub clock) leave the wall."""
MAX_DISPATCH = 20
MAX_VPPS = 200
MAX_RESOURCES = 5000


def _ts(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def build_snapshot(session: AsyncSession, ctx: HubContext, seq: int) -> LiveSnapshot:
    now_ms = ctx.clock.now_ms()
    fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
    cache = ctx.cache
    templates = {t.id: t for t in await session.scalars(select(ResourceTemplate))}
    # The list needs no parameters (JSON per row): plain columns, not ORM objects.
    rows = list(
        await session.execute(
            select(
                ResourceInstance.id,
                ResourceInstance.name,
                ResourceInstance.template_id,
                ResourceInstance.status,
                ResourceInstance.status_reason,
                ResourceInstance.edge_id,
                ResourceInstance.device_id,
                ResourceInstance.capacity,
                ResourceInstance.location_info,
            )
            .order_by(ResourceInstance.name, ResourceInstance.id)
            .limit(MAX_RESOURCES)
        )
    )
    resources: list[ResourceLive] = []
    alarms: list[Alarm] = []
    names: dict[str, str] = {}
    for inst in rows:
        names[inst.id] = inst.name
        tmpl = templates.get(inst.template_id)
        live = cache.device(inst.edge_id, inst.device_id)
        p_w = cache.value(inst.edge_id, inst.device_id, "p_w", newer_than_ms=fresh)
        soc = cache.value(inst.edge_id, inst.device_id, "soc_pct", newer_than_ms=fresh)
        resources.append(
            ResourceLive(
                id=inst.id,
                name=inst.name,
                category=tmpl.category if tmpl is not None else None,
                type=tmpl.type if tmpl is not None else None,
                status=inst.status,
                status_reason=inst.status_reason,
                edge_id=inst.edge_id,
                device_id=inst.device_id,
                capacity=None if inst.capacity is None else float(inst.capacity),
                p_kw=None if p_w is None else round(p_w / 1000.0, 3),
                soc=None if soc is None else round(soc, 2),
                ts=_ts(live.last_ms) if live is not None and live.last_ms else None,
                location_info=dict(inst.location_info or {}),
            )
        )
        if inst.status == "ERROR":
            alarms.append(
                Alarm(
                    code="resource_error",
                    severity="error",
                    subject_id=inst.id,
                    subject_name=inst.name,
                    detail=inst.status_reason or "",
                )
            )
        elif inst.status == "OFFLINE":
            alarms.append(
                Alarm(
                    code="resource_offline",
                    severity="warning",
                    subject_id=inst.id,
                    subject_name=inst.name,
                    detail=inst.status_reason or "",
                )
            )

    vpp_rows = list(
        await session.scalars(select(VppRow).order_by(VppRow.name, VppRow.id).limit(MAX_VPPS))
    )
    mappings: dict[str, list[ResourceMapping]] = defaultdict(list)
    if vpp_rows:
        for m in await session.scalars(
            select(ResourceMapping)
            .where(ResourceMapping.vpp_id.in_([v.id for v in vpp_rows]))
            .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
        ):
            mappings[m.vpp_id].append(m)
    member_ids = {m.resource_id for ms in mappings.values() for m in ms}
    members_by_id = (
        {
            i.id: i
            for i in await session.scalars(
                select(ResourceInstance).where(ResourceInstance.id.in_(member_ids))
            )
        }
        if member_ids
        else {}
    )
    vpps: list[VppLive] = []
    for vpp in vpp_rows:
        states = [
            member_state(
                members_by_id[m.resource_id],
                templates[members_by_id[m.resource_id].template_id],
                m,
                cache,
                fresh,
            )
            for m in mappings[vpp.id]
            if m.resource_id in members_by_id
        ]
        vpps.append(
            VppLive(
                id=vpp.id,
                name=vpp.name,
                status=vpp.status,
                market_type=vpp.market_type,
                member_ids=[m.resource_id for m in mappings[vpp.id]],
                params=aggregate(states),
            )
        )

    edges: list[EdgeLive] = []
    for edge in await session.scalars(select(Edge).order_by(Edge.id)):
        held = cache.edge(edge.id)
        online = held.online if held is not None else bool(edge.online)
        edges.append(EdgeLive(id=edge.id, name=edge.name, online=online, last_seen=edge.last_seen))
        if not online:
            alarms.append(
                Alarm(
                    code="edge_offline", severity="error", subject_id=edge.id, subject_name=edge.id
                )
            )

    since = _ts(now_ms - RECENT_DISPATCH_S * 1000)
    instructions = list(
        await session.scalars(
            select(DispatchInstruction)
            .where(DispatchInstruction.parent_id.is_(None), DispatchInstruction.end_time >= since)
            .order_by(DispatchInstruction.created_at.desc(), DispatchInstruction.id)
            .limit(MAX_DISPATCH)
        )
    )
    dispatch: list[DispatchLive] = []
    vpp_names = {v.id: v.name for v in vpp_rows}
    for row in instructions:
        try:
            status = await execution_status(session, ctx, row.id)
        except NotFoundError:  # deleted between the two reads
            continue
        dispatch.append(
            DispatchLive(
                instruction_id=row.id,
                vpp_id=row.vpp_id,
                resource_id=row.resource_id,
                status=status.status,
                requested_power=row.requested_power,
                target_power=status.target_power,
                actual_power=status.actual_power,
                deviation=status.deviation,
                start_time=_aware(row.start_time),
                end_time=_aware(row.end_time),
                created_by=row.created_by,
                reason=status.reason,
            )
        )
        if status.status in {"rejected", "clamped"}:
            subject = names.get(row.resource_id or "")
            alarms.append(
                Alarm(
                    code="dispatch_rejected" if status.status == "rejected" else "dispatch_clamped",
                    severity="error" if status.status == "rejected" else "warning",
                    subject_id=row.id,
                    subject_name=subject or vpp_names.get(row.vpp_id, row.vpp_id),
                    detail=status.reason,
                )
            )
    return LiveSnapshot(
        seq=seq,
        ts=_ts(now_ms),
        resources=resources,
        vpps=vpps,
        edges=edges,
        dispatch=dispatch,
        alarms=alarms,
    )
