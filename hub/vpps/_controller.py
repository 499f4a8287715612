"""``/api/v1/vpp/vpps`` (seed 4.1.3): VPPs, their members, aggregation, conflicts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import delete, func, select

from hub._deps import Caller, Ctx, Page, Session, Size
from hub.auth import WRITERS, audit, requires
from hub.errors import ConflictError, InvalidInputError
from hub.store import ResourceInstance, ResourceMapping, TradingRecord, Vpp, new_id, row_dict

from ._aggregate import aggregate
from ._conflicts import detect_conflicts
from ._schemas import ConflictReport, Member, ResourcesUpdate, VppCreate, VppOut, VppPage
from ._service import get_vpp, member_state, ratio_totals, vpp_members
from ._types import AggregatedParams, Commitment, MarketType, MemberState


def vpp_out(row: Vpp, members: list[ResourceMapping]) -> VppOut:
    return VppOut(
        id=row.id,
        name=row.name,
        description=row.description,
        total_capacity=row.total_capacity,
        available_capacity=row.available_capacity,
        response_time=row.response_time,
        market_type=row.market_type,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resources=[
            Member(
                resource_id=m.resource_id,
                allocation_ratio=float(m.allocation_ratio),
                priority=m.priority,
            )
            for m in members
        ],
    )


async def _mappings(session: Session, vpp_ids: list[str]) -> dict[str, list[ResourceMapping]]:
    out: dict[str, list[ResourceMapping]] = {v: [] for v in vpp_ids}
    if vpp_ids:
        rows = await session.scalars(
            select(ResourceMapping)
            .where(ResourceMapping.vpp_id.in_(vpp_ids))
            .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
        )
        for m in rows:
            out[m.vpp_id].append(m)
    return out


async def live_members(session: Session, ctx: Ctx, vpp_id: FromPath[str]) -> list[MemberState]:
    fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
    return [
        member_state(i, t, m, ctx.cache, fresh) for m, i, t in await vpp_members(session, vpp_id)
    ]


async def refresh_summary(session: Session, ctx: Ctx, vpp: Vpp) -> AggregatedParams:
    """Aggregate and store the summary columns of ``vpps``."""
    params = aggregate(await live_members(session, ctx, vpp.id))
    vpp.total_capacity = params.total_capacity
    vpp.available_capacity = params.available_up_capacity
    vpp.response_time = round(params.response_time)
    return params


async def _check_resources(session: Session, ids: list[str], field: str) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInputError("a resource is listed twice", field=field)
    if not ids:
        return
    found = set(
        await session.scalars(select(ResourceInstance.id).where(ResourceInstance.id.in_(ids)))
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInputError(f"unknown resource instance(s): {', '.join(missing)}", field=field)


class VppController(Controller):
    path = "/api/v1/vpp/vpps"
    tags = ("vpps",)

    @get("/")
    async def list_vpps(
        self,
        session: Session,
        market_type: FromQuery[MarketType | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        page: Page = 1,
        size: Size = 20,
    ) -> VppPage:
        """VPPs filtered by ``market_type`` and ``status``."""
        query = select(Vpp)
        if market_type is not None:
            query = query.where(Vpp.market_type == market_type)
        if status is not None:
            query = query.where(Vpp.status == status)
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            await session.scalars(
                query.order_by(Vpp.created_at.desc(), Vpp.id).limit(size).offset((page - 1) * size)
            )
        )
        members = await _mappings(session, [r.id for r in rows])
        return VppPage(
            items=[vpp_out(r, members[r.id]) for r in rows], total=total or 0, page=page, size=size
        )

    @get("/{vpp_id:str}")
    async def get_vpp(self, session: Session, vpp_id: FromPath[str]) -> VppOut:
        vpp = await get_vpp(session, vpp_id)
        return vpp_out(vpp, (await _mappings(session, [vpp.id]))[vpp.id])

    @post("/", guards=[requires(*WRITERS)])
    async def create_vpp(
        self, session: Session, ctx: Ctx, principal: Caller, data: JSONBody[VppCreate]
    ) -> VppOut:
        """Create a VPP with its first members (allocation ratio 1, priority 1)."""
        await _check_resources(session, data.resource_ids, "resource_ids")
        vpp = Vpp(
            id=new_id(),
            name=data.name,
            description=data.description,
            market_type=data.market_type,
            status="ACTIVE",
        )
        session.add(vpp)
        await session.flush()
        for rid in data.resource_ids:
            session.add(
                ResourceMapping(
                    id=new_id(), vpp_id=vpp.id, resource_id=rid, allocation_ratio=1.0, priority=1
                )
            )
        await session.flush()
        await refresh_summary(session, ctx, vpp)
        await session.flush()
        members = (await _mappings(session, [vpp.id]))[vpp.id]
        after = row_dict(vpp) | {"resource_ids": data.resource_ids}
        audit(session, principal, "create", "vpp", vpp.id, None, after)
        await session.commit()
        return vpp_out(vpp, members)

    @put("/{vpp_id:str}/resources", guards=[requires(*WRITERS)])
    async def update_resources(
        self,
        session: Session,
        ctx: Ctx,
        principal: Caller,
        vpp_id: FromPath[str],
        data: JSONBody[ResourcesUpdate],
    ) -> VppOut:
        """Add, remove and update members in one transaction."""
        vpp = await get_vpp(session, vpp_id)
        current = {m.resource_id: m for m in (await _mappings(session, [vpp.id]))[vpp.id]}
        before = row_dict(vpp) | {
            "resources": {
                r: [float(m.allocation_ratio), m.priority] for r, m in sorted(current.items())
            }
        }
        add_ids = [a.resource_id for a in data.add_resources]
        await _check_resources(session, add_ids, "add_resources")
        for rid in add_ids:
            if rid in current:
                raise ConflictError(f"resource {rid} is already a member of VPP {vpp.id}")
        for rid in data.remove_resources:
            if rid not in current:
                raise InvalidInputError(f"resource {rid} is not a member", field="remove_resources")
        touched = [u.resource_id for u in data.update_resources]
        if len(set(touched)) != len(touched):
            raise InvalidInputError("a resource is listed twice", field="update_resources")
        for u in data.update_resources:
            if u.resource_id not in current or u.resource_id in data.remove_resources:
                raise InvalidInputError(
                    f"resource {u.resource_id} is not a member", field="update_resources"
                )
        if data.remove_resources:
            await session.execute(
                delete(ResourceMapping).where(
                    ResourceMapping.vpp_id == vpp.id,
                    ResourceMapping.resource_id.in_(data.remove_resources),
                )
            )
        for u in data.update_resources:
            mapping = current[u.resource_id]
            if u.allocation_ratio is not None:
                mapping.allocation_ratio = u.allocation_ratio
            if u.priority is not None:
                mapping.priority = u.priority
        for a in data.add_resources:
            session.add(
                ResourceMapping(
                    id=new_id(),
                    vpp_id=vpp.id,
                    resource_id=a.resource_id,
                    allocation_ratio=a.allocation_ratio,
                    priority=a.priority,
                )
            )
        await session.flush()
        await refresh_summary(session, ctx, vpp)
        vpp.updated_at = dt.datetime.now(dt.UTC)
        await session.flush()
        members = (await _mappings(session, [vpp.id]))[vpp.id]
        after = row_dict(vpp) | {
            "resources": {m.resource_id: [float(m.allocation_ratio), m.priority] for m in members}
        }
        audit(session, principal, "update_resources", "vpp", vpp.id, before, after)
        await session.commit()
        return vpp_out(vpp, members)

    @get("/{vpp_id:str}/aggregated-params")
    async def aggregated_params(
        self, session: Session, ctx: Ctx, vpp_id: FromPath[str]
    ) -> AggregatedParams:
        """Total capacity, available up/down capacity from live state (status, SoC,
        limits, allocation ratio), slowest response time (s) and weighted efficiency."""
        await get_vpp(session, vpp_id)
        return aggregate(await live_members(session, ctx, vpp_id))

    @get("/{vpp_id:str}/conflicts")
    async def conflicts(self, session: Session, ctx: Ctx, vpp_id: FromPath[str]) -> ConflictReport:
        """Allocation above 1 across VPPs, capacity committed twice in one period,
        unavailable members, market qualification and response-time requirements."""
        vpp = await get_vpp(session, vpp_id)
        members = await live_members(session, ctx, vpp_id)
        totals = await ratio_totals(session, [m.resource_id for m in members])
        records = await session.scalars(
            select(TradingRecord).where(
                TradingRecord.vpp_id == vpp_id,
                TradingRecord.status.in_(["SUBMITTED", "CLEARED"]),
            )
        )
        commitments = [
            Commitment(
                vpp_id=r.vpp_id,
                market_type=r.market_type or "",
                period=f"{r.trading_date}/{r.time_slot}",
                quantity_kw=float(r.cleared_quantity or r.bid_quantity or 0.0),
            )
            for r in records
        ]
        requirement = next(
            (q for q in ctx.settings.market_requirements if q.market_type == vpp.market_type),
            None,
        )
        found = detect_conflicts(
            vpp_id,
            members,
            ratio_totals=totals,
            commitments=commitments,
            requirement=requirement,
        )
        return ConflictReport(vpp_id=vpp_id, conflicts=found)
