"""``/api/v1/vpp/vpps`` (seed 4.1.3): VPPs, their members, aggregation, conflicts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._deps import Caller, Ctx, Page, Session, Size
from hub.auth import WRITERS, audit, requires
from hub.errors import ConflictError, InvalidInputError
from hub.store import (
    ResourceInstance,
    ResourceMapping,
    TradingRecord,
    Vpp,
    edge_key,
    new_id,
    remembered,
    row_dict,
)

from ._aggregate import aggregate
from ._conflicts import commitment_kw, detect_conflicts
from ._schemas import ConflictReport, Member, ResourcesUpdate, VppCreate, VppOut, VppPage
from ._service import (
    MemberRow,
    get_vpp,
    member_rows,
    member_states,
    ratio_totals,
    row_state,
    vpp_header,
)
from ._types import AggregatedParams, Commitment, MarketType, MemberState


def vpp_out(row: Vpp, members: list[Member]) -> VppOut:
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
        resources=members,
    )


async def _mappings(session: Session, vpp_ids: list[str]) -> dict[str, list[Member]]:
    """The members of ``vpp_ids`` in one query of three columns (no ORM objects)."""
    out: dict[str, list[Member]] = {v: [] for v in vpp_ids}
    if vpp_ids:
        rows = await session.execute(
            select(
                ResourceMapping.vpp_id,
                ResourceMapping.resource_id,
                ResourceMapping.allocation_ratio,
                ResourceMapping.priority,
            )
            .where(ResourceMapping.vpp_id.in_(vpp_ids))
            .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
        )
        for vpp_id, rid, ratio, priority in rows:
            out[vpp_id].append(
                Member(resource_id=rid, allocation_ratio=float(ratio), priority=priority)
            )
    return out


async def live_members(session: Session, ctx: Ctx, vpp_id: FromPath[str]) -> list[MemberState]:
    """The members' rows (kept in ``ctx.reads`` until one of their tables is written) with
    the live cache's values as they are now."""
    fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
    return await member_states(session, vpp_id, ctx.cache, fresh, ctx.reads)


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

    @get("/", opt={"cached": True})
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

    @get("/{vpp_id:str}", opt={"cached": True})
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
        current = {
            m.resource_id: m
            for m in await session.scalars(
                select(ResourceMapping).where(ResourceMapping.vpp_id == vpp.id)
            )
        }
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
    async def aggregated_params(self, ctx: Ctx, vpp_id: FromPath[str]) -> AggregatedParams:
        """Total capacity, available up/down capacity from live state (status, SoC,
        limits, allocation ratio), slowest response time (s) and weighted efficiency."""
        # A session of its own, opened only when a kept read misses (no session
        # dependency: with two async dependencies Litestar starts a task group a request).
        async with ctx.reader_primary()() as session:
            await vpp_header(session, vpp_id, ctx.reads)
            rows = await member_rows(session, vpp_id, ctx.reads)
        # The aggregate of these very rows while no live value of their edges changed,
        # kept for at most response_cache_s (values turn stale with time too).
        key = ("vpp-aggregate", vpp_id)
        kept = ctx.reads.get(key)
        if kept is not None and kept[0] is rows and kept[2] == ctx.cache.changed(kept[1]):
            return cast(AggregatedParams, kept[3])
        edges = _edges_of(rows)
        version = ctx.cache.changed(edges)
        fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
        params = aggregate([row_state(r, ctx.cache, fresh) for r in rows])
        ctx.reads.put(key, (), ctx.reads.now(), (rows, edges, version, params), volatile=False)
        return params

    @get("/{vpp_id:str}/conflicts")
    async def conflicts(self, ctx: Ctx, vpp_id: FromPath[str]) -> ConflictReport:
        """Allocation above 1 across VPPs, capacity committed twice in one period,
        unavailable members, market qualification and response-time requirements."""
        # A session of its own, connected only when a kept read misses (no session
        # dependency: with two async dependencies Litestar starts a task group a request).
        async with ctx.reader_primary()() as session:
            vpp = await vpp_header(session, vpp_id, ctx.reads)
            rows = await member_rows(session, vpp_id, ctx.reads)
            ids = tuple(r[0] for r in rows)
            totals, commitments = await remembered(
                ctx.reads,
                ("vpp-conflicts", vpp_id, ids),
                lambda on: _commitments(on, vpp_id, ids),
                session,
            )
        # The report of these very rows while no live value of their edges changed,
        # kept for at most response_cache_s (live values turn stale with time too).
        key = ("vpp-conflict-report", vpp_id)
        kept = ctx.reads.get(key)
        if (
            kept is not None
            and kept[0] is rows
            and kept[1] is totals
            and kept[2] is vpp
            and kept[4] == ctx.cache.changed(kept[3])
        ):
            return cast(ConflictReport, kept[5])
        edges = _edges_of(rows)
        version = ctx.cache.changed(edges)
        fresh = ctx.clock.now_ms() - int(ctx.settings.stale_after_s * 1000)
        requirement = next(
            (q for q in ctx.settings.market_requirements if q.market_type == vpp.market_type),
            None,
        )
        found = detect_conflicts(
            vpp_id,
            [row_state(r, ctx.cache, fresh) for r in rows],
            ratio_totals=totals,
            commitments=commitments,
            requirement=requirement,
        )
        report = ConflictReport(vpp_id=vpp_id, conflicts=found)
        kept = (rows, totals, vpp, edges, version, report)
        ctx.reads.put(key, (), ctx.reads.now(), kept, volatile=False)
        return report


def _edges_of(rows: list[MemberRow]) -> tuple[str, ...]:
    """The live cache's keys of the edges the members are behind (a VPP has few)."""
    return tuple({k for r in rows if (k := edge_key(r[5], r[6])) is not None})


async def _commitments(
    session: AsyncSession, vpp_id: str, ids: tuple[str, ...]
) -> tuple[dict[str, float], list[Commitment]]:
    """Each member's allocation ratios summed over every VPP, and the VPP's market
    commitments (submitted or cleared trading records)."""
    totals = await ratio_totals(session, ids)
    records = await session.execute(
        select(
            TradingRecord.market_type,
            TradingRecord.trading_date,
            TradingRecord.time_slot,
            TradingRecord.cleared_quantity,
            TradingRecord.bid_quantity,
        ).where(
            TradingRecord.vpp_id == vpp_id,
            TradingRecord.status.in_(["SUBMITTED", "CLEARED"]),
        )
    )
    return totals, [
        Commitment(
            vpp_id=vpp_id,
            market_type=market_type or "",
            period=f"{trading_date}/{time_slot}",
            quantity_kw=commitment_kw(float(cleared or bid or 0.0), time_slot),
        )
        for market_type, trading_date, time_slot, cleared, bid in records
    ]
