"""VPP use cases: members and their live state (for aggregation, conflicts and dispatch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    Enum,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    join,
    outerjoin,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFoundError
from hub.store import (
    LiveCache,
    Memo,
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    Vpp,
    edge_key,
    json_loads,
    remembered,
)

from ._types import MemberState


def _num(params: dict[str, Any], name: str) -> float | None:
    value = params.get(name)
    kind = type(value)
    if kind is float:
        return value
    if kind is bool or not isinstance(value, (int, float)):  # a tuple: no union per call
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
    prepared = _prepare(
        instance.id,
        instance.status,
        instance.capacity,
        instance.efficiency,
        instance.parameters,
        edge_key(instance.edge_tenant, instance.edge_id),
        instance.device_id,
        template.category,
        float(mapping.allocation_ratio) if mapping is not None else 1.0,
        mapping.priority if mapping is not None else 1,
    )
    return live_state(prepared, cache, fresh_after_ms)


class PreparedMember(NamedTuple):
    """A member's state from its rows alone (no live value: ``base``), and where its live
    values are (:func:`live_state` adds them). Made once per read of the rows, so views
    that show many members often parse their parameters once."""

    base: MemberState
    edge: str | None
    """The live cache's key of the edge (hub.store.edge_key)."""
    device: str | None


def _prepare(
    resource_id: str,
    status: str,
    capacity_col: float | None,
    efficiency_col: float | None,
    parameters: dict[str, Any] | None,
    edge_id: str | None,  # the live cache's key of the edge (hub.store.edge_key)
    device_id: str | None,
    category_col: str | None,
    allocation_ratio: float,
    priority: int,
) -> PreparedMember:
    params: dict[str, Any] = parameters or {}
    capacity = float(capacity_col or _num(params, "rated_kw") or 0.0)
    efficiency = efficiency_col
    if efficiency is None:
        efficiency = _num(params, "efficiency") or _num(params, "discharge_efficiency") or 1.0
    base = MemberState(
        resource_id=resource_id,
        category=category_col or "LOAD",  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        capacity_kw=max(0.0, capacity),
        allocation_ratio=allocation_ratio,
        priority=priority,
        max_discharge_kw=_num(params, "max_discharge_kw"),
        max_charge_kw=_num(params, "max_charge_kw"),
        min_kw=_num_or(params, "min_kw", 0.0),
        soc_min_pct=_num_or(params, "soc_min_pct", 0.0),
        soc_max_pct=_num_or(params, "soc_max_pct", 100.0),
        energy_kwh=_num(params, "rated_kwh"),
        response_time_s=_num_or(params, "response_time_s", 1.0),
        efficiency=float(efficiency),
        dispatchable=params.get("dispatchable", True) is not False,
        curtailable=params.get("curtailable", True) is not False,
    )
    return PreparedMember(base, edge_id, device_id)


def live_state(member: PreparedMember, cache: LiveCache, fresh_after_ms: int) -> MemberState:
    """``member.base`` with the live values of ``cache`` newer than ``fresh_after_ms``:
    power, SoC, and the BMS's live limits, which narrow the configured ones."""
    live = cache.device(member.edge, member.device)
    if live is None:
        return member.base
    held = live.values
    # four lookups written out (a generator over the names was a third of the call)
    p_w = v[0] if (v := held.get("p_w")) is not None and v[1] >= fresh_after_ms else None
    soc = v[0] if (v := held.get("soc_pct")) is not None and v[1] >= fresh_after_ms else None
    bms_dis = (
        v[0]
        if (v := held.get("bms_max_discharge_w")) is not None and v[1] >= fresh_after_ms
        else None
    )
    bms_ch = (
        v[0] if (v := held.get("bms_max_charge_w")) is not None and v[1] >= fresh_after_ms else None
    )
    if p_w is None and soc is None and bms_dis is None and bms_ch is None:
        return member.base
    base = member.base
    capacity = base.capacity_kw
    max_discharge, max_charge = base.max_discharge_kw, base.max_charge_kw
    if bms_dis is not None:
        max_discharge = min(capacity if max_discharge is None else max_discharge, bms_dis / 1000)
    if bms_ch is not None:
        max_charge = min(capacity if max_charge is None else max_charge, bms_ch / 1000)
    return msgspec.structs.replace(
        base,
        p_kw=None if p_w is None else p_w / 1000.0,
        soc_pct=soc,
        max_discharge_kw=max_discharge,
        max_charge_kw=max_charge,
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


MemberRow = tuple[Any, ...]


async def member_rows(
    session: AsyncSession, vpp_id: str, memo: Memo[Any, Any] | None = None
) -> list[MemberRow]:
    """The columns aggregation needs of every member of ``vpp_id`` (priority, then id),
    in one query; kept in ``memo`` until a table they come from is written."""

    async def read(on: AsyncSession) -> list[MemberRow]:
        return [tuple(r) for r in await on.execute(_MEMBER_ROWS, {"vpp_id": vpp_id})]

    if memo is None:
        return await read(session)
    return await remembered(memo, ("vpp-members", vpp_id), read, session, volatile=False)


async def member_rows_of(
    session: AsyncSession, vpp_ids: Sequence[str]
) -> dict[str, list[MemberRow]]:
    """:func:`member_rows` of every VPP of ``vpp_ids`` in one query (the same columns,
    the same order within a VPP): for views of many VPPs at once (the console's live
    snapshot), where one query per VPP would be hundreds."""
    out: dict[str, list[MemberRow]] = {v: [] for v in vpp_ids}
    if not vpp_ids:
        return out
    query = (
        _members(ResourceMapping.vpp_id)
        .where(ResourceMapping.vpp_id.in_(list(vpp_ids)))
        .order_by(ResourceMapping.vpp_id, ResourceMapping.priority, ResourceMapping.resource_id)
    )
    for vpp_id, *row in await session.execute(query):
        out[vpp_id].append(tuple(row))
    return out


def prepare_row(row: MemberRow) -> PreparedMember:
    """:class:`PreparedMember` of one row of :func:`member_rows`."""
    rid, st, cap, eff, params, tenant, edge, dev, cat, ratio, prio = row
    return _prepare(rid, st, cap, eff, params, edge_key(tenant, edge), dev, cat, float(ratio), prio)


def prepare_rows(
    rows: Sequence[MemberRow],
    previous: tuple[Sequence[MemberRow], Sequence[PreparedMember]] | None,
    prepare: Callable[[MemberRow], PreparedMember] = prepare_row,
) -> list[PreparedMember]:
    """``prepare`` of each of ``rows`` (one VPP's members, in order), reusing the prepared
    member of ``previous`` (the rows read last time, and what they gave) for a row equal
    to the one read then: comparing rows is much cheaper than parsing their parameters."""
    if previous is None or len(previous[0]) != len(rows):
        return [prepare(r) for r in rows]
    return [o if r == was else prepare(r) for r, was, o in zip(rows, *previous, strict=True)]


class PreparedMembers:
    """Each VPP's members as :func:`prepare_row` makes them of the rows of
    :func:`status_and_member_rows` (their parameters as JSON text), kept from the last
    read of that VPP: a row read again unchanged, its parameters the same text, is neither
    decoded nor parsed again (a dispatch reads its VPP's rows every time; decoding and
    parsing the parameters of 50 members was ~10 % of a plan's CPU). Holds the last
    ``max_vpps`` VPPs read, the one read longest ago dropped first; no I/O, no awaits."""

    def __init__(self, max_vpps: int = 4096) -> None:
        self._max = max_vpps
        self._held: dict[str, tuple[list[MemberRow], list[PreparedMember]]] = {}

    def of(self, vpp_id: str, rows: list[MemberRow]) -> list[PreparedMember]:
        """:func:`prepare_row` of each of ``rows`` (the members of ``vpp_id`` in order, as
        :func:`status_and_member_rows` reads them)."""
        held = self._held.pop(vpp_id, None)
        prepared = prepare_rows(rows, held, _prepare_text_row)
        self._held[vpp_id] = (rows, prepared)
        if len(self._held) > self._max:
            del self._held[next(iter(self._held))]
        return prepared


def _prepare_text_row(row: MemberRow) -> PreparedMember:
    """:func:`prepare_row` of a row whose parameters are their JSON text (decoded as the
    engine decodes a JSON column)."""
    text = row[4]
    return prepare_row((*row[:4], None if text is None else json_loads(text), *row[5:]))


async def status_and_member_rows(session: AsyncSession, vpp_id: str) -> tuple[str, list[MemberRow]]:
    """The status of VPP ``vpp_id`` and :func:`member_rows`, in one query (what every
    dispatch reads first); 404 for an unknown VPP. The parameters come as their JSON text
    and the two enum columns as plain strings, for :class:`PreparedMembers` (which
    decodes a row's parameters only when the text changed)."""
    # on the session's connection: a Core result, no ORM result processing
    conn = await session.connection()
    rows = (await conn.execute(_STATUS_AND_MEMBER_ROWS, {"vpp_id": vpp_id})).all()
    if not rows:
        raise NotFoundError(f"VPP {vpp_id} not found")
    return rows[0][0], [tuple(r[1:]) for r in rows if r[1] is not None]


def row_state(row: MemberRow, cache: LiveCache, fresh_after_ms: int) -> MemberState:
    """:func:`member_state` of one row of :func:`member_rows`."""
    return live_state(prepare_row(row), cache, fresh_after_ms)


async def member_states(
    session: AsyncSession,
    vpp_id: str,
    cache: LiveCache,
    fresh_after_ms: int,
    memo: Memo[Any, Any] | None = None,
) -> list[MemberState]:
    """:func:`member_state` of every member of ``vpp_id`` (priority, then id): the rows of
    :func:`member_rows` (no ORM objects, no template parameter schemas) with the live
    values of the cache as they are now."""
    return [row_state(r, cache, fresh_after_ms) for r in await member_rows(session, vpp_id, memo)]


_MEMBER_COLUMNS = (
    ResourceInstance.id,
    ResourceInstance.status,
    ResourceInstance.capacity,
    ResourceInstance.efficiency,
    ResourceInstance.parameters,
    ResourceInstance.edge_tenant,
    ResourceInstance.edge_id,
    ResourceInstance.device_id,
    ResourceTemplate.category,
    ResourceMapping.allocation_ratio,
    ResourceMapping.priority,
)
"""The columns of a :data:`MemberRow` (what :func:`row_state` unpacks)."""


def _members(*leading: Any) -> Select[Any]:
    return (
        select(*leading, *_MEMBER_COLUMNS)
        .select_from(ResourceMapping)
        .join(ResourceInstance, ResourceInstance.id == ResourceMapping.resource_id)
        .join(ResourceTemplate, ResourceTemplate.id == ResourceInstance.template_id)
    )


_MEMBER_ROWS = (
    _members()
    .where(ResourceMapping.vpp_id == bindparam("vpp_id"))
    .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
)
_STATUS_AND_MEMBER_ROWS = (
    select(
        Vpp.status,
        *(
            # as stored, undecoded: compared with the text read last time
            cast(c, Text)
            if c is ResourceInstance.parameters
            # plain strings (the CHECK constraints hold them to the enum's values)
            else type_coerce(c, String)
            if isinstance(c.type, Enum)
            else c
            for c in _MEMBER_COLUMNS
        ),
    )
    .select_from(
        outerjoin(
            Vpp,
            join(
                ResourceMapping,
                ResourceInstance,
                ResourceInstance.id == ResourceMapping.resource_id,
            ).join(ResourceTemplate, ResourceTemplate.id == ResourceInstance.template_id),
            ResourceMapping.vpp_id == Vpp.id,
        )
    )
    .where(Vpp.id == bindparam("vpp_id"))
    .order_by(ResourceMapping.priority, ResourceMapping.resource_id)
)


class VppHeader(NamedTuple):
    id: str
    market_type: str
    status: str


async def vpp_header(
    session: AsyncSession, vpp_id: str, memo: Memo[Any, Any] | None = None
) -> VppHeader:
    """Id, market type and status of ``vpp_id`` (404 when there is none), kept in ``memo``
    until ``vpps`` is written."""

    async def read(on: AsyncSession) -> VppHeader:
        row = (
            await on.execute(select(Vpp.id, Vpp.market_type, Vpp.status).where(Vpp.id == vpp_id))
        ).first()
        if row is None:
            raise NotFoundError(f"VPP {vpp_id} not found")
        return VppHeader(row[0], row[1] or "", row[2])

    if memo is None:
        return await read(session)
    return await remembered(memo, ("vpp", vpp_id), read, session)


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
    "PreparedMember",
    "VppHeader",
    "get_vpp",
    "live_state",
    "member_rows",
    "member_rows_of",
    "member_state",
    "member_states",
    "prepare_row",
    "ratio_totals",
    "row_state",
    "status_and_member_rows",
    "vpp_header",
    "vpp_members",
]
