"""Aggregation and conflicts of a membership that is not saved (the VPP builder's drag).

The same pure functions the saved VPP uses (:func:`hub.vpps.aggregate`,
:func:`hub.vpps.detect_conflicts`) on the same member states: what the builder shows
while dragging is what ``aggregated-params`` and ``conflicts`` will say once saved.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.errors import InvalidInputError
from hub.store import ResourceInstance, ResourceMapping, ResourceTemplate
from hub.vpps import aggregate, detect_conflicts, member_state

from ._schemas import AggregationPreview, AggregationPreviewIn


async def preview(
    session: AsyncSession, ctx: HubContext, data: AggregationPreviewIn
) -> AggregationPreview:
    ids = [m.resource_id for m in data.members]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("a resource is listed twice", field="members")
    rows = (
        {
            inst.id: (inst, tmpl)
            for inst, tmpl in await session.execute(
                select(ResourceInstance, ResourceTemplate)
                .join(ResourceTemplate, ResourceTemplate.id == ResourceInstance.template_id)
                .where(ResourceInstance.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    missing = [i for i in ids if i not in rows]
    if missing:
        raise InvalidInputError(
            f"unknown resource instance(s): {', '.join(missing)}", field="members"
        )
    fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
    states = []
    for m in data.members:
        inst, tmpl = rows[m.resource_id]
        proposed = ResourceMapping(
            resource_id=m.resource_id, allocation_ratio=m.allocation_ratio, priority=m.priority
        )  # transient: never added to the session
        states.append(member_state(inst, tmpl, proposed, ctx.cache, fresh))
    # Ratios the members already have in other VPPs, plus the proposed ones.
    totals = {m.resource_id: m.allocation_ratio for m in data.members}
    if ids:
        others = select(ResourceMapping.resource_id, func.sum(ResourceMapping.allocation_ratio))
        others = others.where(ResourceMapping.resource_id.in_(ids))
        if data.vpp_id is not None:
            others = others.where(ResourceMapping.vpp_id != data.vpp_id)
        for rid, total in await session.execute(others.group_by(ResourceMapping.resource_id)):
            totals[rid] += float(total or 0.0)
    requirement = (
        next(
            (q for q in ctx.settings.market_requirements if q.market_type == data.market_type),
            None,
        )
        if data.market_type is not None
        else None
    )
    return AggregationPreview(
        params=aggregate(states),
        conflicts=detect_conflicts(
            data.vpp_id or "preview", states, ratio_totals=totals, requirement=requirement
        ),
    )
