"""What the live views show: rows read from the database, joined with the live cache.

Two parts, made at different rates:

- :class:`Rows`, what the database holds (plain columns, no ORM objects: the listed
  resources, every listed VPP's members as :func:`hub.vpps.member_rows_of` reads them,
  edges, recent top-level dispatch with its execution status). Read again once a table it
  read is written by this process, and at least every ``max_age_s`` (what another
  process wrote; the clock-dependent parts: recent dispatch, expiry).
- the snapshot itself (:func:`assemble`, no I/O): those rows with the live cache's
  values, encoded once (msgspec) into the bytes that ``GET /api/v1/vpp/console/snapshot``
  answers with and that each ``live`` event of the stream carries.

:class:`SnapshotCache` keeps the newest encoded snapshot and makes a new one only when
the rows or the live cache's version changed since, or it is older than ``max_age_s``
(staleness of live values, ``ts``). One build runs at a time; the others wait for it. A
snapshot that is only old (nothing it shows changed in this process) is still served to
others while one request makes the next, so no request waits on a refresh by age.
Nothing in it depends on who asks (every authenticated role sees the whole hub, the
hub's one tenant), so one copy serves every caller.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.dispatch import execution_status
from hub.errors import NotFoundError
from hub.store import (
    GENERATIONS,
    DispatchInstruction,
    Edge,
    LiveCache,
    ResourceInstance,
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
    prepare_row,
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

    def unwritten(self) -> bool:
        """No table these rows came from was written by this process since."""
        return GENERATIONS.of(self.tables) == self.stamp


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
    before = previous.member_rows if previous is not None else {}
    for vpp_id, vpp_rows in rows.items():
        old_rows = before.get(vpp_id)
        old = previous.members.get(vpp_id) if previous is not None and old_rows else None
        if old is not None and old_rows is not None and len(old_rows) == len(vpp_rows):
            out[vpp_id] = [
                o if r == was else prepare_row(r)
                for r, was, o in zip(vpp_rows, old_rows, old, strict=True)
            ]
        else:
            out[vpp_id] = [prepare_row(r) for r in vpp_rows]
    return out


async def read_rows(session: AsyncSession, ctx: HubContext, previous: Rows | None = None) -> Rows:
    """Every row a snapshot shows, as plain columns (a handful of queries, no writes);
    members whose rows equal ``previous``'s keep their prepared state."""
    at = GENERATIONS.now()
    read_at = time.monotonic()
    with recording() as tables:
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
            executed = Executed(
                st.status, st.target_power, st.actual_power, st.deviation, st.reason
            )
            dispatch.append((row, executed))
    names = tuple(sorted(tables))
    return Rows(
        tables=names,
        stamp=GENERATIONS.of(names, at),
        read_at=read_at,
        resources=resources,
        vpps=vpps,
        member_rows=member_rows,
        members=members,
        edges=edges,
        dispatch=dispatch,
    )


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


class SnapshotCache:
    """The newest encoded snapshot of one app, shared by the snapshot route and the live
    feed (see the module docstring for when a new one is made). ``max_age_s`` 0: a new one
    for every caller that did not wait for one already being made. ``read``: what reads
    the rows (:func:`read_rows`)."""

    def __init__(
        self,
        ctx: HubContext,
        max_age_s: float,
        read: Callable[[AsyncSession, HubContext, Rows | None], Awaitable[Rows]] = read_rows,
    ) -> None:
        self._ctx = ctx
        self.max_age_s = max_age_s
        self._read = read
        self._kept: Built | None = None
        self._building: asyncio.Event | None = None
        self.builds = 0
        """Snapshots made (each one's ``seq``)."""
        self.row_reads = 0
        """Times the rows were read from the database."""
        self._gzipped: tuple[int, bytes] | None = None
        self._gzipping = asyncio.Lock()

    def _current(self, built: Built) -> bool:
        return built.live_version == self._ctx.cache.version and built.rows.unwritten()

    async def get(self) -> Built:
        """A snapshot no older than this call: made after it started, or showing what the
        database (as written by this process) and the live cache hold now and younger
        than ``max_age_s`` (or being made again by another caller)."""
        started_before = self.builds
        for _ in range(3):
            kept = self._kept
            if kept is not None:
                if kept.seq > started_before:
                    return kept
                if self.max_age_s > 0 and self._current(kept):
                    if self._building is not None:
                        return kept  # only old: the one being made replaces it
                    if time.monotonic() - kept.built_at < self.max_age_s:
                        return kept
            building = self._building
            if building is None:
                return await self._build()
            await building.wait()  # then look again (it may have failed, or be too old)
        return await self._build()

    async def gzipped(self, built: Built) -> bytes:
        """``built.body`` gzipped, once per snapshot (in a worker thread: zlib releases the
        GIL), for the callers that accept it (a browser: 2 MB of JSON for 10,000
        instances is about 100 kB)."""
        async with self._gzipping:
            kept = self._gzipped
            if kept is not None and kept[0] == built.seq:
                return kept[1]
            body = await asyncio.to_thread(gzip.compress, built.body, GZIP_LEVEL, mtime=0)
            if kept is None or kept[0] < built.seq:
                self._gzipped = (built.seq, body)
            return body

    async def _build(self) -> Built:
        ctx = self._ctx
        self.builds += 1
        seq = self.builds
        done = self._building = asyncio.Event()
        try:
            live_version = ctx.cache.version  # before reading: a change since shows
            kept = self._kept
            rows = kept.rows if kept is not None else None
            if (
                rows is None
                or self.max_age_s <= 0
                or not rows.unwritten()
                or time.monotonic() - rows.read_at >= self.max_age_s
            ):
                async with ctx.reader_primary()() as session:
                    rows = await self._read(session, ctx, rows)
                self.row_reads += 1
            now_ms = ctx.clock.now_ms()
            fresh = now_ms - int(ctx.settings.stale_after_s * 1000)
            body = _ENCODER.encode(await assemble(rows, ctx.cache, now_ms, fresh, seq))
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
            return built
        finally:
            if self._building is done:
                self._building = None
            done.set()
