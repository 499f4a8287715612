"""What the live views show: rows read from the database, joined with the live cache.

Two parts, made at different rates:

- :class:`Rows`, what the database holds (plain columns, no ORM objects: the listed
  resources, every listed VPP's members as :func:`hub.vpps.member_rows_of` reads them,
  edges, recent top-level dispatch with its execution status). Read again once a table it
  read is written by this process. Every ``max_age_s`` the small, clock-dependent part
  (edges, recent dispatch, expiry) is read again, and the large part (resources, VPPs,
  members) only when its :func:`fingerprint` (one aggregate query over exactly the
  columns shown, on PostgreSQL) changed: what another process wrote, however it wrote it.
  Without a fingerprint (SQLite) all of it is read again then.
- the snapshot itself (:func:`assemble`, no I/O): those rows with the live cache's
  values, encoded (msgspec) into the bytes that ``GET /api/v1/vpp/console/snapshot``
  answers with and that each ``live`` event of the stream carries. :class:`Pieces`
  keeps each resource's and each VPP's encoded part and encodes it again only when its
  row, the live values of its edges or the freshness of a value it shows changed.

:class:`SnapshotCache` keeps the newest encoded snapshot; one task (:meth:`~SnapshotCache.run`)
makes the next once the rows or the live cache changed since, or it is older than
``max_age_s`` (staleness of live values, ``ts``). Callers are handed the newest one
meanwhile and never wait for it, except for the first one, once this process wrote a
table it shows (a caller sees its own writes), after a failed build, and once it is older
than :data:`STALE_LIMIT` times ``max_age_s`` (nobody asked for a while).
Nothing in it depends on who asks (every authenticated role sees the whole hub, the
hub's one tenant), so one copy serves every caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gzip
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

import msgspec
from sqlalchemy import BigInteger, Text, cast, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.dispatch import execution_status
from hub.errors import NotFoundError
from hub.store import (
    GENERATIONS,
    DeviceLive,
    DispatchInstruction,
    Edge,
    LiveCache,
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    edge_key,
    recording,
)
from hub.store import Vpp as VppRow
from hub.vpps import (
    PreparedMember,
    aggregate,
    live_state,
    member_rows_of,
    prepare_rows,
)

from ._schemas import Alarm, AlarmCode, DispatchLive, EdgeLive, LiveSnapshot, ResourceLive, VppLive

MemberRow = tuple[Any, ...]
"""One row of :func:`hub.vpps.member_rows_of`."""

RECENT_DISPATCH_S = 15 * 60
"""Instructions that ended longer ago than this (hub clock) leave the wall."""
MAX_DISPATCH = 20
MAX_VPPS = 200
MAX_RESOURCES = 5000

_ENCODER: Final = msgspec.json.Encoder()
GZIP_LEVEL: Final = 6
_log = logging.getLogger(__name__)


def _ts(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Executed(NamedTuple):
    """What the wall shows of an instruction's execution status (``execution-status``)."""

    status: str
    target_power: float
    actual_power: float | None
    deviation: float | None
    reason: str


class ResourceRow(NamedTuple):
    """A listed resource's columns, with its template's category and its live cache key."""

    id: str
    name: str
    category: str | None
    status: str
    status_reason: str | None
    device_id: str | None
    capacity: float | None
    location_info: dict[str, Any]
    edge_key: str | None


@dataclass(frozen=True, slots=True)
class Rows:
    """What a snapshot shows from the database, with what it was read from: the tables
    (``tables``) at their generations before the read (``stamp``), at ``read_at``
    (``time.monotonic()``)."""

    tables: tuple[str, ...]
    stamp: tuple[int, ...]
    read_at: float
    resources: Sequence[ResourceRow]
    vpps: Sequence[Any]
    member_rows: Mapping[str, list[MemberRow]]
    """vpp id -> :data:`hub.vpps.MemberRow` of each member (priority, then id)"""
    members: Mapping[str, list[PreparedMember]]
    """vpp id -> each member's state from its rows (the same order)"""
    edges: Sequence[Any]
    dispatch: Sequence[tuple[Any, Executed]]
    fingerprint: str | None = None
    """:func:`fingerprint` of the large part, taken before it was read (None: unknown)"""
    callers_stamp: tuple[int, ...] = ()
    """``stamp`` of the writes made for callers (:meth:`Generations.callers_of`)"""

    def unwritten(self) -> bool:
        """No table these rows came from was written by this process since."""
        return GENERATIONS.of(self.tables) == self.stamp

    def unwritten_by_callers(self) -> bool:
        """No table these rows came from was written since by this process for a caller
        (outside :func:`hub.store.background_writes`: the ingest's and the singleton
        jobs' writes do not count)."""
        return GENERATIONS.callers_of(self.tables) == self.callers_stamp


_RESOURCE_COLUMNS = (
    ResourceInstance.id,
    ResourceInstance.name,
    ResourceInstance.template_id,
    ResourceInstance.status,
    ResourceInstance.status_reason,
    ResourceInstance.edge_tenant,
    ResourceInstance.edge_id,
    ResourceInstance.device_id,
    ResourceInstance.capacity,
    ResourceInstance.location_info,
)


def _prepared(
    rows: Mapping[str, list[MemberRow]], previous: Rows | None
) -> dict[str, list[PreparedMember]]:
    """Each member's :class:`PreparedMember`, reusing ``previous``'s for a row that did not
    change (comparing rows is much cheaper than parsing their parameters again)."""
    out: dict[str, list[PreparedMember]] = {}
    for vpp_id, vpp_rows in rows.items():
        old_rows = previous.member_rows.get(vpp_id) if previous is not None else None
        old = previous.members.get(vpp_id) if previous is not None else None
        held = None if old_rows is None or old is None else (old_rows, old)
        out[vpp_id] = prepare_rows(vpp_rows, held)
    return out


_HEARTBEAT_COLUMNS: Final = frozenset({"last_heartbeat", "updated_at"})
"""What the ingest's heartbeat sets on an instance (``hub.store``'s volatile columns):
nothing a snapshot shows."""


def _digest(table: Any) -> Any:
    """``count:sum`` over ``table`` (PostgreSQL) of the row versions' transaction ids
    (``xmin``: every insert and update makes a new one; a count and a sum no change
    leaves as they were), or for the instances, which the heartbeat updates, of a hash of
    each row's columns but the heartbeat's."""
    each: Any
    if table is ResourceInstance:
        columns = [c for c in table.__table__.columns if c.name not in _HEARTBEAT_COLUMNS]
        each = func.hashtextextended(cast(tuple_(*columns), Text), 0)
    else:
        each = cast(cast(literal_column("xmin"), Text), BigInteger)
    return (
        select(func.concat(func.count(), ":", func.coalesce(func.sum(each), 0)))
        .select_from(table)
        .scalar_subquery()
    )


_FINGERPRINT: Final = select(
    func.concat_ws(
        "/", *(_digest(t) for t in (ResourceTemplate, ResourceInstance, VppRow, ResourceMapping))
    )
)


async def fingerprint(session: AsyncSession) -> str | None:
    """What changes whenever a row of a table that the large part of :class:`Rows` is
    read from changes, whoever wrote it (another replica, ``psql``), and not with the
    heartbeat: per table a row count and a sum (:func:`_digest`), computed by PostgreSQL
    (one statement, one short row back; ~20 ms of its CPU for 10,000 instances). None on
    a database without it (SQLite: the rows are read again instead)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    value: str = (await session.execute(_FINGERPRINT)).scalar_one()
    return value


async def read_rows(session: AsyncSession, ctx: HubContext, previous: Rows | None = None) -> Rows:
    """Every row a snapshot shows, as plain columns (a handful of queries, no writes);
    members whose rows equal ``previous``'s keep their prepared state."""
    at, callers_at = GENERATIONS.now(), GENERATIONS.callers_now()
    read_at = time.monotonic()
    with recording() as tables:
        digest = await fingerprint(session)
        categories: dict[str, str | None] = {  # noqa: C416 (a Result has keys(): not dict())
            tid: category
            for tid, category in await session.execute(
                select(ResourceTemplate.id, ResourceTemplate.category)
            )
        }
        resources = [
            ResourceRow(
                rid,
                name,
                categories.get(tmpl),
                status,
                reason,
                device,
                None if capacity is None else float(capacity),
                dict(location or {}),
                edge_key(tenant, edge),
            )
            for rid, name, tmpl, status, reason, tenant, edge, device, capacity, location in (
                await session.execute(
                    select(*_RESOURCE_COLUMNS)
                    .order_by(ResourceInstance.name, ResourceInstance.id)
                    .limit(MAX_RESOURCES)
                )
            )
        ]
        vpps = list(
            await session.execute(
                select(VppRow.id, VppRow.name, VppRow.status, VppRow.market_type)
                .order_by(VppRow.name, VppRow.id)
                .limit(MAX_VPPS)
            )
        )
        member_rows = await member_rows_of(session, [v.id for v in vpps])
        members = _prepared(member_rows, previous)
        edges, dispatch = await _read_recent(session, ctx)
    names = tuple(sorted(tables))
    return Rows(
        tables=names,
        stamp=GENERATIONS.of(names, at),
        callers_stamp=GENERATIONS.callers_of(names, callers_at),
        read_at=read_at,
        resources=resources,
        vpps=vpps,
        member_rows=member_rows,
        members=members,
        edges=edges,
        dispatch=dispatch,
        fingerprint=digest,
    )


async def read_recent(session: AsyncSession, ctx: HubContext, rows: Rows) -> Rows | None:
    """``rows`` with their small part read again (edges, recent dispatch and its execution
    status: what depends on the clock), when the :func:`fingerprint` of their large part
    is still the one they were read at; None when it changed or is unknown, or this
    process wrote one of their tables for a caller since (read them all again:
    :func:`read_rows`). Its background writes (:func:`hub.store.background_writes`)
    count as another process's: the fingerprint tells."""
    at, callers_at = GENERATIONS.now(), GENERATIONS.callers_now()
    read_at = time.monotonic()
    if GENERATIONS.callers_of(rows.tables, callers_at) != rows.callers_stamp:
        return None  # this process wrote one of their tables for a caller
    with recording() as tables:
        digest = await fingerprint(session)
        if digest is None or digest != rows.fingerprint:
            return None
        edges, dispatch = await _read_recent(session, ctx)
    names = tuple(sorted(tables.union(rows.tables)))
    return dataclasses.replace(
        rows,
        tables=names,
        stamp=GENERATIONS.of(names, at),
        callers_stamp=GENERATIONS.callers_of(names, callers_at),
        read_at=read_at,
        edges=edges,
        dispatch=dispatch,
    )


async def _read_recent(
    session: AsyncSession, ctx: HubContext
) -> tuple[list[Any], list[tuple[Any, Executed]]]:
    """The edges, and the recent top-level dispatch with its execution status."""
    edges = list(
        await session.execute(
            select(Edge.tenant, Edge.id, Edge.name, Edge.online, Edge.last_seen).order_by(
                Edge.tenant, Edge.id
            )
        )
    )
    since = _ts(ctx.clock.now_ms() - RECENT_DISPATCH_S * 1000)
    instructions = list(
        await session.execute(
            select(
                DispatchInstruction.id,
                DispatchInstruction.vpp_id,
                DispatchInstruction.resource_id,
                DispatchInstruction.requested_power,
                DispatchInstruction.start_time,
                DispatchInstruction.end_time,
                DispatchInstruction.created_by,
            )
            .where(
                DispatchInstruction.parent_id.is_(None),
                DispatchInstruction.end_time >= since,
            )
            .order_by(DispatchInstruction.created_at.desc(), DispatchInstruction.id)
            .limit(MAX_DISPATCH)
        )
    )
    dispatch: list[tuple[Any, Executed]] = []
    for row in instructions:
        try:
            st = await execution_status(session, ctx, row.id)
        except NotFoundError:  # deleted between the two reads
            continue
        executed = Executed(st.status, st.target_power, st.actual_power, st.deviation, st.reason)
        dispatch.append((row, executed))
    return edges, dispatch


_ALARMING: Final = frozenset({"ERROR", "OFFLINE"})


def _resource_alarm(inst: ResourceRow) -> Alarm | None:
    if inst.status == "ERROR":
        return _alarm(inst, "resource_error", "error")
    if inst.status == "OFFLINE":
        return _alarm(inst, "resource_offline", "warning")
    return None


def _alarm(inst: ResourceRow, code: AlarmCode, severity: Literal["warning", "error"]) -> Alarm:
    return Alarm(
        code=code,
        severity=severity,
        subject_id=inst.id,
        subject_name=inst.name,
        detail=inst.status_reason or "",
    )


YIELD_EVERY: Final = 500
"""Rows assembled between two yields to the event loop (a build of 10,000 members does not
hold up the requests served meanwhile)."""


def _resource(inst: ResourceRow, cache: LiveCache, fresh_after_ms: int) -> ResourceLive:
    live = cache.device(inst.edge_key, inst.device_id)
    p_kw = soc = ts = None
    if live is not None:
        value = live.values.get("p_w")
        if value is not None and value[1] >= fresh_after_ms:
            p_kw = round(value[0] / 1000.0, 3)
        value = live.values.get("soc_pct")
        if value is not None and value[1] >= fresh_after_ms:
            soc = round(value[0], 2)
        if live.last_ms:
            ts = _ts(live.last_ms)
    return ResourceLive(
        id=inst.id,
        name=inst.name,
        category=inst.category,
        status=inst.status,
        device_id=inst.device_id,
        capacity=inst.capacity,
        p_kw=p_kw,
        soc=soc,
        ts=ts,
        location_info=inst.location_info,
    )


def _edges(rows: Rows, cache: LiveCache, alarms: list[Alarm]) -> list[EdgeLive]:
    edges: list[EdgeLive] = []
    for edge in rows.edges:
        held = cache.edge(edge_key(edge.tenant, edge.id))
        online = held.online if held is not None else bool(edge.online)
        edges.append(
            EdgeLive(
                id=edge.id,
                tenant=edge.tenant,
                name=edge.name,
                online=online,
                last_seen=edge.last_seen,
            )
        )
        if not online:
            alarms.append(
                Alarm(
                    code="edge_offline",
                    severity="error",
                    subject_id=edge.id,
                    subject_name=f"{edge.tenant}/{edge.id}",  # two tenants' park-a apart
                )
            )
    return edges


def _dispatch(rows: Rows, names: dict[str, str], alarms: list[Alarm]) -> list[DispatchLive]:
    dispatch: list[DispatchLive] = []
    vpp_names = {v.id: v.name for v in rows.vpps}
    for row, status in rows.dispatch:
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
            rejected = status.status == "rejected"
            alarms.append(
                Alarm(
                    code="dispatch_rejected" if rejected else "dispatch_clamped",
                    severity="error" if rejected else "warning",
                    subject_id=row.id,
                    subject_name=subject or vpp_names.get(row.vpp_id, row.vpp_id),
                    detail=status.reason,
                )
            )
    return dispatch


async def assemble(
    rows: Rows, cache: LiveCache, now_ms: int, fresh_after_ms: int, seq: int
) -> LiveSnapshot:
    """The snapshot of ``rows`` with the live values of ``cache`` newer than
    ``fresh_after_ms`` (no I/O; it yields to the event loop every :data:`YIELD_EVERY`
    rows)."""
    resources: list[ResourceLive] = []
    alarms: list[Alarm] = []
    names: dict[str, str] = {}
    for n, inst in enumerate(rows.resources, 1):
        if n % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        names[inst.id] = inst.name
        resources.append(_resource(inst, cache, fresh_after_ms))
        alarm = _resource_alarm(inst)
        if alarm is not None:
            alarms.append(alarm)

    vpps: list[VppLive] = []
    done = 0
    for vpp in rows.vpps:
        members = rows.members.get(vpp.id, [])
        done += len(members)
        if done >= YIELD_EVERY:
            done = 0
            await asyncio.sleep(0)
        vpps.append(
            VppLive(
                id=vpp.id,
                name=vpp.name,
                status=vpp.status,
                market_type=vpp.market_type,
                params=aggregate([live_state(m, cache, fresh_after_ms) for m in members]),
            )
        )
    return LiveSnapshot(
        seq=seq,
        ts=_ts(now_ms),
        resources=resources,
        vpps=vpps,
        edges=_edges(rows, cache, alarms),
        dispatch=_dispatch(rows, names, alarms),
        alarms=alarms,
    )


class _Body(msgspec.Struct, kw_only=True):
    """:class:`LiveSnapshot` with its resources and VPPs encoded already (the same
    fields in the same order: the same bytes)."""

    seq: int
    ts: dt.datetime
    resources: list[msgspec.Raw]
    vpps: list[msgspec.Raw]
    edges: list[EdgeLive]
    dispatch: list[DispatchLive]
    alarms: list[Alarm]


_NEVER: Final = sys.maxsize


def _fresh_until(live: DeviceLive | None, fresh_after_ms: int) -> int:
    """The oldest time of a value of ``live`` newer than ``fresh_after_ms``: what is shown
    of it stays the same while the freshness bound is at most this (a value older than the
    bound comes back only with a new one, which changes the cache's version)."""
    if live is None:
        return _NEVER
    return min((ts for _, ts in live.values.values() if ts >= fresh_after_ms), default=_NEVER)


class _Piece(NamedTuple):
    """One resource's or VPP's encoded part and what it was made from."""

    source: Any
    """its row (a resource), or its row and its members (a VPP)"""
    edges: tuple[str | None, ...]
    """the live cache's keys of the edges of its devices"""
    version: int
    """:meth:`LiveCache.changed` of ``edges`` then"""
    fresh_until: int
    """:func:`_fresh_until` of its devices then"""
    raw: msgspec.Raw


class Pieces:
    """The encoded part of each resource and VPP of the last snapshot, encoded again only
    when its rows, the live values of its edges (:meth:`LiveCache.changed`) or the
    freshness of a value it shows changed."""

    def __init__(self) -> None:
        self._resources: dict[str, _Piece] = {}
        self._vpps: dict[str, _Piece] = {}
        self._fresh_after_ms = -_NEVER
        self.encoded = 0
        """Resources and VPPs encoded (the others were reused)."""

    def _start(self, fresh_after_ms: int) -> None:
        """A freshness bound that went back (the clock was set back) makes every piece
        again."""
        if fresh_after_ms < self._fresh_after_ms:
            self._resources.clear()
            self._vpps.clear()
        self._fresh_after_ms = fresh_after_ms

    async def resources(
        self, rows: Sequence[ResourceRow], cache: LiveCache, fresh_after_ms: int
    ) -> list[msgspec.Raw]:
        """Each resource's part, in the order of ``rows`` (it yields to the event loop
        every :data:`YIELD_EVERY` encoded)."""
        self._start(fresh_after_ms)
        versions: dict[str | None, int] = {None: 0}
        kept = self._resources
        pieces: dict[str, _Piece] = {}
        encoded = 0
        for inst in rows:
            key = inst.edge_key
            version = versions.get(key)
            if version is None:
                version = versions[key] = cache.changed((key,))
            piece = kept.get(inst.id)
            if (
                piece is None
                or piece.version != version
                or fresh_after_ms > piece.fresh_until
                or (piece.source is not inst and piece.source != inst)
            ):
                live = cache.device(key, inst.device_id)
                raw = msgspec.Raw(_ENCODER.encode(_resource(inst, cache, fresh_after_ms)))
                piece = _Piece(inst, (key,), version, _fresh_until(live, fresh_after_ms), raw)
                encoded += 1
                if encoded % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            pieces[inst.id] = piece
        self._resources = pieces
        self.encoded += encoded
        return [p.raw for p in pieces.values()]

    async def vpps(
        self,
        rows: Sequence[Any],
        members_of: Mapping[str, list[PreparedMember]],
        cache: LiveCache,
        fresh_after_ms: int,
    ) -> list[msgspec.Raw]:
        """Each VPP's part with its aggregated parameters, in the order of ``rows`` (it
        yields to the event loop every :data:`YIELD_EVERY` members aggregated)."""
        self._start(fresh_after_ms)
        kept = self._vpps
        pieces: dict[str, _Piece] = {}
        aggregated = 0
        for vpp in rows:
            members = members_of.get(vpp.id, [])
            piece = kept.get(vpp.id)
            same = piece is not None and piece.source[1] is members
            edges = piece.edges if piece is not None and same else _edges_of(members)
            version = cache.changed(edges)
            if (
                piece is None
                or piece.version != version
                or fresh_after_ms > piece.fresh_until
                or piece.source[0] != vpp
                or not (same or piece.source[1] == members)
            ):
                live = VppLive(
                    id=vpp.id,
                    name=vpp.name,
                    status=vpp.status,
                    market_type=vpp.market_type,
                    params=aggregate([live_state(m, cache, fresh_after_ms) for m in members]),
                )
                until = min(
                    (_fresh_until(cache.device(m.edge, m.device), fresh_after_ms) for m in members),
                    default=_NEVER,
                )
                raw = msgspec.Raw(_ENCODER.encode(live))
                piece = _Piece((vpp, members), edges, version, until, raw)
                self.encoded += 1
                aggregated += len(members)
                if aggregated >= YIELD_EVERY:
                    aggregated = 0
                    await asyncio.sleep(0)
            pieces[vpp.id] = piece
        self._vpps = pieces
        return [p.raw for p in pieces.values()]


def _edges_of(members: list[PreparedMember]) -> tuple[str | None, ...]:
    return tuple({m.edge for m in members})


async def encode_snapshot(
    rows: Rows, cache: LiveCache, now_ms: int, fresh_after_ms: int, seq: int, pieces: Pieces
) -> bytes:
    """The encoded :func:`assemble` of the same arguments (the same bytes), made from the
    ``pieces`` of the last one where they still hold (no I/O; it yields to the event loop
    while it encodes)."""
    resources = await pieces.resources(rows.resources, cache, fresh_after_ms)
    vpps = await pieces.vpps(rows.vpps, rows.members, cache, fresh_after_ms)
    alarms: list[Alarm] = []
    names: dict[str, str] = {}
    for inst in rows.resources:
        names[inst.id] = inst.name
        if inst.status in _ALARMING:
            alarm = _resource_alarm(inst)
            if alarm is not None:
                alarms.append(alarm)
    return _ENCODER.encode(
        _Body(
            seq=seq,
            ts=_ts(now_ms),
            resources=resources,
            vpps=vpps,
            edges=_edges(rows, cache, alarms),
            dispatch=_dispatch(rows, names, alarms),
            alarms=alarms,
        )
    )


async def build_snapshot(session: AsyncSession, ctx: HubContext, seq: int) -> LiveSnapshot:
    """A snapshot made now from ``session`` (uncached: :class:`SnapshotCache` keeps them)."""
    rows = await read_rows(session, ctx)
    now_ms = ctx.clock.now_ms()
    fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
    return await assemble(rows, ctx.cache, now_ms, fresh, seq)


def sse_frame(event: str, data: bytes, event_id: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + data + b"\n\n"


@dataclass(frozen=True, slots=True)
class Built:
    """One encoded snapshot: ``body`` (JSON) and ``frame`` (the same as a ``live`` event),
    made from ``rows`` and the live cache at ``live_version``."""

    seq: int
    rows: Rows
    live_version: int
    built_at: float
    body: bytes
    frame: bytes


STALE_LIMIT: Final = 3.0
"""A snapshot older than this many ``max_age_s`` is not handed out while the next one is
made (nobody asked for it for that long): the caller waits for the next."""

WaitReason = Literal["first", "own_write", "failed", "too_old", "current", "uncached"]
"""Why a caller of :meth:`SnapshotCache.get` waited for a build: there was none yet, this
process wrote a table it shows since, the last build failed, it was older than
:data:`STALE_LIMIT` ``max_age_s``, the caller asked for a current one (the live stream),
``max_age_s`` is 0."""

Read = Callable[[AsyncSession, HubContext, Rows | None], Awaitable[Rows]]


class SnapshotCache:
    """The newest encoded snapshot of one app, shared by the snapshot route and the live
    feed (see the module docstring for when a new one is made). :meth:`run` makes them,
    one at a time. ``max_age_s`` 0: a new one for every caller that did not wait for one
    already being made. ``read``: what reads the rows (:func:`read_rows`)."""

    def __init__(self, ctx: HubContext, max_age_s: float, read: Read = read_rows) -> None:
        self._ctx = ctx
        self.max_age_s = max_age_s
        self._read = read
        self._kept: Built | None = None
        self._wanted = asyncio.Event()
        self._stopped = False
        self._current: asyncio.Future[Built] | None = None
        """What the build being made now resolves (None: none is)."""
        self._started_at: dict[str, int] = {}
        """The table generations of callers' writes (:meth:`Generations.callers_now`) when
        the build being made (or the last one) started."""
        self._next: asyncio.Future[Built] | None = None
        """What the next build to start resolves (None: nobody waits for one)."""
        self._failed = False
        self.pieces = Pieces()
        self.builds = 0
        """Snapshots made (each one's ``seq``)."""
        self.row_reads = 0
        """Times all the rows were read from the database."""
        self.recent_reads = 0
        """Times only their small part was (:func:`read_recent`)."""
        self.failures = 0
        self._gzip_wanted = False
        self._gzipped: tuple[int, bytes] | None = None
        self._gzipping = asyncio.Lock()
        self._waits = ctx.metrics.snapshot_waits
        self._build_seconds = ctx.metrics.snapshot_build_seconds

    async def get(self, *, stale_ok: bool = True) -> Built:
        """The newest snapshot. It may be one that is being made again (the rows or the
        live cache changed since, or it is older than ``max_age_s``) while it is younger
        than :data:`STALE_LIMIT` ``max_age_s``; otherwise (``stale_ok`` False, none yet, a
        table it shows written by this process since, the last build failed) the caller
        waits for a new one."""
        if self._stopped:
            raise RuntimeError("SnapshotCache.run() has ended")
        kept = self._kept
        if kept is None or self._failed or self.max_age_s <= 0:
            reason: WaitReason = (
                "first" if kept is None else "failed" if self._failed else "uncached"
            )
            return await self._wait(reason, new=False)
        if not kept.rows.unwritten_by_callers():
            # one that started after this process's write (the one being made, unless a
            # table of it was written again since it started)
            tables = kept.rows.tables
            started = GENERATIONS.callers_of(tables, self._started_at)
            return await self._wait("own_write", new=started != GENERATIONS.callers_of(tables))
        age = time.monotonic() - kept.built_at
        if (
            kept.live_version == self._ctx.cache.version
            and age < self.max_age_s
            and kept.rows.unwritten()  # else a background write: as another replica's
        ):
            return kept
        if not stale_ok or age >= STALE_LIMIT * self.max_age_s:
            return await self._wait("current" if not stale_ok else "too_old", new=False)
        if self._current is None:
            self._wanted.set()
        return kept

    async def _wait(self, reason: WaitReason, *, new: bool) -> Built:
        """The build being made now (``new`` False) or the next one to start (counted in
        ``hub_snapshot_waits_total`` by ``reason``)."""
        self._waits.labels(reason).inc()
        building = self._current if not new else None
        if building is None:
            if self._next is None:
                self._next = asyncio.get_running_loop().create_future()
                self._next.add_done_callback(_retrieve)
            building = self._next
            self._wanted.set()
        return await asyncio.shield(building)

    async def run(self) -> None:
        """Until cancelled: make a snapshot whenever one is asked for, one at a time. A
        failing build is logged once and "recovered" once; its waiters get its error."""
        self._stopped = False
        try:
            while True:
                await self._wanted.wait()
                self._wanted.clear()
                done = self._next
                if done is None:
                    done = asyncio.get_running_loop().create_future()
                    done.add_done_callback(_retrieve)
                self._current, self._next = done, None
                self._started_at = GENERATIONS.callers_now()
                try:
                    built = await self._build()
                except Exception as exc:
                    if self.failures == 0:
                        _log.exception("console snapshot: a build failed")
                    self.failures += 1
                    self._failed = True
                    done.set_exception(exc)
                except BaseException:  # cancelled: so are its waiters
                    done.cancel()
                    raise
                else:
                    if self.failures:
                        _log.info("console snapshot recovered after %s failure(s)", self.failures)
                        self.failures = 0
                    self._failed = False
                    done.set_result(built)
                finally:
                    self._current = None
        finally:
            self._stopped = True
            for waiting in (self._current, self._next):
                if waiting is not None and not waiting.done():
                    waiting.cancel()
            self._current = self._next = None

    async def gzipped(self, built: Built) -> bytes:
        """``built.body`` gzipped, once per snapshot (in a worker thread: zlib releases the
        GIL), for the callers that accept it (a browser: 2 MB of JSON for 10,000
        instances is about 100 kB). Once one asked, each build gzips its body before it
        is handed out."""
        self._gzip_wanted = True
        kept = self._gzipped
        if kept is not None and kept[0] == built.seq:
            return kept[1]
        return await self._gzip(built.seq, built.body)

    async def _gzip(self, seq: int, body: bytes) -> bytes:
        async with self._gzipping:
            kept = self._gzipped
            if kept is not None and kept[0] == seq:
                return kept[1]
            zipped = await asyncio.to_thread(gzip.compress, body, GZIP_LEVEL, mtime=0)
            if kept is None or kept[0] < seq:
                self._gzipped = (seq, zipped)
            return zipped

    async def _rows(self) -> tuple[Rows, Literal["none", "recent", "all"]]:
        """The rows of the next snapshot, with what was read: the last ones; their small
        part read again once they are ``max_age_s`` old or a background write of this
        process touched one of their tables (:func:`read_recent`); all of them when they
        changed."""
        ctx = self._ctx
        kept = self._kept
        rows = kept.rows if kept is not None else None
        keep = rows is not None and self.max_age_s > 0 and rows.unwritten_by_callers()
        if (
            keep
            and rows is not None
            and rows.unwritten()
            and time.monotonic() - rows.read_at < self.max_age_s
        ):
            return rows, "none"
        async with ctx.reader_primary()() as session:
            if keep and rows is not None:
                recent = await read_recent(session, ctx, rows)
                if recent is not None:
                    self.recent_reads += 1
                    return recent, "recent"
            rows = await self._read(session, ctx, rows)
        self.row_reads += 1
        return rows, "all"

    async def _build(self) -> Built:
        ctx = self._ctx
        started = time.perf_counter()
        self.builds += 1
        seq = self.builds
        live_version = ctx.cache.version  # before reading: a change since shows
        rows, read = await self._rows()
        now_ms = ctx.clock.now_ms()
        fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
        body = await encode_snapshot(rows, ctx.cache, now_ms, fresh, seq, self.pieces)
        if self._gzip_wanted:
            await self._gzip(seq, body)  # before it is handed out: no caller waits for it
        built = Built(
            seq=seq,
            rows=rows,
            live_version=live_version,
            built_at=time.monotonic(),
            body=body,
            frame=sse_frame("live", body, seq),
        )
        if self._kept is None or built.seq > self._kept.seq:
            self._kept = built
        self._build_seconds.labels(read).observe(time.perf_counter() - started)
        return built


def _retrieve(future: asyncio.Future[Built]) -> None:
    """Mark a build's error as seen (its waiters may all have gone)."""
    if not future.cancelled():
        future.exception()
