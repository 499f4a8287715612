"""``/api/v1/vpp/resource-instances`` (seed 4.1.2)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, NamedTuple

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import Insert, and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub._context import HubContext
from hub._deps import Caller, Ctx, Page, Session, Size, on_reader
from hub.auth import WRITERS, audit, audit_values, requires
from hub.auth import current as caller_of
from hub.errors import ConflictError, HubError, InvalidInputError, NotFoundError
from hub.store import (
    AuditEntry,
    Base,
    Edge,
    ResourceInstance,
    ResourceTemplate,
    Telemetry,
    edge_key,
    new_id,
    remembered,
    row_dict,
    utcnow,
    values_dict,
)

from ._params import ParameterError, instance_parameters, resolve_parameters
from ._schemas import (
    History,
    HistoryPoint,
    Instance,
    InstanceCreate,
    InstancePage,
    RealtimeData,
    StatusChange,
    TemplateMigration,
)
from ._service import template_schema, template_versions
from ._types import InstanceStatus, ParamSpec

ENERGY_NAMES = (
    "e_wh",
    "wh_available",
    "energy_wh",
    "e_out_wh",
    "e_total_wh",
    "e_import_wh",
)
"""Energy points in order of preference: stored energy for storage, else counters."""


def instance_out(row: ResourceInstance) -> Instance:
    return Instance(
        id=row.id,
        template_id=row.template_id,
        name=row.name,
        device_ip=row.device_ip,
        device_port=row.device_port,
        location_info=dict(row.location_info or {}),
        capacity=row.capacity,
        efficiency=row.efficiency,
        status=row.status,
        last_heartbeat=row.last_heartbeat,
        created_at=row.created_at,
        updated_at=row.updated_at,
        parameters=dict(row.parameters or {}),
        edge_id=row.edge_id,
        device_id=row.device_id,
        status_reason=row.status_reason,
        edge_tenant=row.edge_tenant,
    )


async def edge_tenant(
    session: AsyncSession | AsyncConnection, edge_id: str, given: str | None, default: str
) -> str:
    """The tenant of the edge an instance is bound to: ``given``, else the one tenant
    ``edge_id`` is registered in, else ``default`` (the hub's tenant)."""
    if given is not None:
        return given
    tenants = sorted(set(await session.scalars(select(Edge.tenant).where(Edge.id == edge_id))))
    if len(tenants) > 1:
        raise InvalidInputError(
            f"edge {edge_id} is registered in tenants {', '.join(tenants)}: give edge_tenant",
            field="edge_tenant",
        )
    return tenants[0] if tenants else default


async def get_instance(session: Session, instance_id: FromPath[str]) -> ResourceInstance:
    row = await session.get(ResourceInstance, instance_id)
    if row is None:
        raise NotFoundError(f"resource instance {instance_id} not found")
    return row


class _Binding(NamedTuple):
    edge_tenant: str | None
    edge_id: str | None
    device_id: str | None


async def _binding(session: AsyncSession, ctx: HubContext, instance_id: str) -> _Binding:
    """The device ``instance_id`` is bound to (404 for no instance), kept in ``ctx.reads``
    until ``vpp_resource_instances`` is written."""

    async def read(on: AsyncSession) -> _Binding:
        found = (
            await on.execute(
                select(
                    ResourceInstance.edge_tenant,
                    ResourceInstance.edge_id,
                    ResourceInstance.device_id,
                ).where(ResourceInstance.id == instance_id)
            )
        ).first()
        if found is None:
            raise NotFoundError(f"resource instance {instance_id} not found")
        return _Binding(found[0], found[1], found[2])

    key = ("instance-binding", instance_id)
    return await remembered(ctx.reads, key, read, session, volatile=False)


class _Template(NamedTuple):
    """What a create needs of an ACTIVE template (kept in ``ctx.reads``)."""

    id: str
    schema: dict[str, ParamSpec]


_INSTANCES: Final = Base.metadata.tables[ResourceInstance.__tablename__]
_AUDIT_LOG: Final = Base.metadata.tables[AuditEntry.__tablename__]
_INSERT_INSTANCE: Final = insert(_INSTANCES)
_INSERT_AUDIT: Final = insert(_AUDIT_LOG)


def _insert_both() -> Insert:
    """The instance and its audit entry in one statement (PostgreSQL): a data-modifying
    ``WITH`` inserting the instance (the columns of :data:`_INSERT_INSTANCE`, bound by
    their names), whose returned id is the entry's ``entity_id`` (the other columns of
    :func:`hub.auth.audit_values`, bound as ``audit_<column>``). One statement is one
    transaction in autocommit: either both rows or neither. Typed like the two Core
    inserts it replaces (the same bind processing: JSON, UTC timestamps)."""
    instance = (
        insert(_INSTANCES)
        .values({c.key: bindparam(c.key, type_=c.type) for c in _INSTANCES.c})
        .returning(_INSTANCES.c.id)
        .cte("instance")
    )
    columns = [c for c in _AUDIT_LOG.c if c.key != "id"]
    row = select(
        *(
            instance.c.id if c.key == "entity_id" else bindparam(f"audit_{c.key}", type_=c.type)
            for c in columns
        )
    )
    return insert(_AUDIT_LOG).from_select([c.key for c in columns], row).add_cte(instance)


_INSERT_BOTH: Final = _insert_both()


def _template_key(template_id: str) -> tuple[str, str]:
    return ("active-template", template_id)


async def _active_template(conn: AsyncConnection, ctx: HubContext, template_id: str) -> _Template:
    """The template an instance is created from: 422 for none, 409 unless ACTIVE. Kept in
    ``ctx.reads`` while ACTIVE until ``vpp_resource_templates`` is written in this process;
    a template another replica deactivates (or deletes) is trusted for up to
    ``response_cache_s`` (issue 17's bound), one that turns ACTIVE is seen at once."""

    async def read(on: AsyncConnection | AsyncSession) -> _Template:
        found = (
            await on.execute(
                select(ResourceTemplate.status, ResourceTemplate.parameters).where(
                    ResourceTemplate.id == template_id
                )
            )
        ).first()
        if found is None:
            raise InvalidInputError(f"template {template_id} does not exist", field="template_id")
        if found[0] != "ACTIVE":
            if not isinstance(on, AsyncConnection):  # a background renewal: dropped, and
                raise LookupError(f"template {template_id} is no longer ACTIVE")  # read in line
            raise await _not_active(on, template_id)
        return _Template(template_id, msgspec.convert(found[1] or {}, dict[str, ParamSpec]))

    return await remembered(ctx.reads, _template_key(template_id), read, conn, volatile=False)


async def _not_active(conn: AsyncConnection, template_id: str) -> HubError:
    """The 409 for a template that is not ACTIVE, naming its current version."""
    async with AsyncSession(bind=conn, expire_on_commit=False) as session:
        template = await session.get(ResourceTemplate, template_id)
        if template is None:
            return InvalidInputError(f"template {template_id} does not exist", field="template_id")
        current = (await template_versions(session, template))[-1]
        where = (
            f"its current version is {current.id} (version {current.version})"
            if current is not template and current.status == "ACTIVE"
            else "no version of it is ACTIVE"
        )
        return ConflictError(f"template {template.id} is {template.status}: {where}")


async def _create_conflict(
    conn: AsyncConnection, ctx: HubContext, data: InstanceCreate, tenant: str | None
) -> HubError:
    """Why a create's insert broke a constraint: its template is gone (the foreign key:
    deleted by another replica while this one kept it), else its device is bound."""
    still = await conn.scalar(
        select(ResourceTemplate.id).where(ResourceTemplate.id == data.template_id)
    )
    if still is None:
        ctx.reads.drop(_template_key(data.template_id))
        return InvalidInputError(f"template {data.template_id} does not exist", field="template_id")
    return ConflictError(
        f"device {data.device_id} of edge {data.edge_id} (tenant {tenant}) is already "
        "bound to an instance"
    )


def _ts(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


class ResourceInstanceController(Controller):
    path = "/api/v1/vpp/resource-instances"
    tags = ("resource-instances",)

    @get("/", opt={"cached": True})
    async def list_instances(
        self,
        session: Session,
        template_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        status: FromQuery[InstanceStatus | None] = None,
        edge_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        edge_tenant: Annotated[str | None, QueryParameter(max_length=64)] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="name contains (any case)")
        ] = None,
        page: Page = 1,
        size: Size = 20,
    ) -> InstancePage:
        """Instances filtered by ``template_id``, ``status``, ``edge_id``, ``edge_tenant``
        and a name search ``q``."""
        conditions = []
        if template_id is not None:
            conditions.append(ResourceInstance.template_id == template_id)
        if status is not None:
            conditions.append(ResourceInstance.status == status)
        if edge_id is not None:
            conditions.append(ResourceInstance.edge_id == edge_id)
        if edge_tenant is not None:
            conditions.append(ResourceInstance.edge_tenant == edge_tenant)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(ResourceInstance.name.ilike(pattern, escape="\\"))
        where = and_(True, *conditions)
        total = await session.scalar(select(func.count(ResourceInstance.id)).where(where))
        rows = await session.scalars(
            select(ResourceInstance)
            .where(where)
            .order_by(ResourceInstance.created_at.desc(), ResourceInstance.id)
            .limit(size)
            .offset((page - 1) * size)
        )
        return InstancePage(
            items=[instance_out(r) for r in rows], total=total or 0, page=page, size=size
        )

    @get("/{instance_id:str}", opt={"cached": True})
    async def get_instance(self, session: Session, instance_id: FromPath[str]) -> Instance:
        return instance_out(await get_instance(session, instance_id))

    @post("/", guards=[requires(*WRITERS)])
    async def create_instance(
        self, ctx: Ctx, request: Request[Any, Any, Any], data: JSONBody[InstanceCreate]
    ) -> Instance:
        """Create an instance of an ACTIVE template; ``parameters`` are checked against
        the template's schema (defaults filled in). Without ``parameters`` (the seed's six
        fields) every preset works: ``rated_kw`` comes from ``capacity``, a battery's
        ``rated_kwh`` from ``capacity`` x 2 h (see :func:`hub.catalogue.instance_parameters`)."""
        # The connection and the caller are not dependencies: with three (session, ctx,
        # caller) Litestar resolves them in an anyio task group per request, a tenth of
        # this route's CPU under load (bench/api.py, py-spy). No ORM either: the template
        # is a kept read and the two rows are Core inserts (its unit of work, identity map
        # and commit were two fifths of the route's CPU).
        # On PostgreSQL both rows are one statement in autocommit (1 round trip; BEGIN,
        # two inserts and COMMIT were 4, each costing the hub more CPU than its row); the
        # begin() below then sends nothing (asyncpg starts no transaction in autocommit).
        principal = caller_of(request)
        tenant: str | None = None
        async with ctx.engine.connect() as conn:
            one_statement = conn.dialect.name == "postgresql"
            if one_statement:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                async with conn.begin():
                    template = await _active_template(conn, ctx, data.template_id)
                    if (data.edge_id is None) != (data.device_id is None):
                        raise InvalidInputError(
                            "edge_id and device_id go together", field="device_id"
                        )
                    if data.edge_id is None and data.edge_tenant is not None:
                        raise InvalidInputError("edge_tenant needs edge_id", field="edge_tenant")
                    if data.edge_id is not None:
                        tenant = await edge_tenant(
                            conn, data.edge_id, data.edge_tenant, ctx.settings.tenant
                        )
                    try:
                        params = instance_parameters(
                            template.schema, data.parameters, data.capacity, data.efficiency
                        )
                    except ParameterError as exc:
                        raise InvalidInputError(str(exc), field=exc.field) from exc
                    now = utcnow()
                    values: dict[str, Any] = {
                        "id": new_id(),
                        "template_id": template.id,
                        "name": data.name,
                        "device_ip": data.device_ip,
                        "device_port": data.device_port,
                        "location_info": data.location_info,
                        "capacity": data.capacity,
                        "efficiency": data.efficiency,
                        "status": "OFFLINE",
                        "last_heartbeat": None,
                        "created_at": now,
                        "updated_at": now,
                        "parameters": params,
                        "edge_tenant": tenant,
                        "edge_id": data.edge_id,
                        "device_id": data.device_id,
                        "status_reason": None,
                    }
                    entry = audit_values(
                        principal,
                        "create",
                        "resource_instance",
                        values["id"],
                        None,
                        values_dict(ResourceInstance, values),
                    )
                    if one_statement:
                        both = values | {
                            f"audit_{k}": v for k, v in entry.items() if k != "entity_id"
                        }
                        await conn.execute(_INSERT_BOTH, both)
                    else:
                        await conn.execute(_INSERT_INSTANCE, values)
                        await conn.execute(_INSERT_AUDIT, entry)
            except IntegrityError as exc:
                # rolled back; a template another replica deleted since it was kept fails
                # its foreign key here, and is told apart from a device bound twice
                raise await _create_conflict(conn, ctx, data, tenant) from exc
        return Instance(**values)

    @put("/{instance_id:str}/status", guards=[requires(*WRITERS)])
    async def change_status(
        self,
        session: Session,
        principal: Caller,
        instance_id: FromPath[str],
        data: JSONBody[StatusChange],
    ) -> Instance:
        """Set the status with a reason. MAINTENANCE sticks until changed here; the other
        statuses are also moved by the edge's telemetry and liveness."""
        row = await get_instance(session, instance_id)
        before = row_dict(row)
        row.status = data.status
        row.status_reason = data.reason
        await session.flush()
        audit(session, principal, "status", "resource_instance", row.id, before, row_dict(row))
        await session.commit()
        return instance_out(row)

    @put("/{instance_id:str}/template", guards=[requires(*WRITERS)])
    async def migrate_template(
        self,
        session: Session,
        principal: Caller,
        instance_id: FromPath[str],
        data: JSONBody[TemplateMigration],
    ) -> Instance:
        """Move the instance to another version of its template; its parameters are
        checked against the new version's schema (defaults filled in)."""
        row = await get_instance(session, instance_id)
        current = await session.get(ResourceTemplate, row.template_id)
        target = await session.get(ResourceTemplate, data.template_id)
        if target is None:
            raise InvalidInputError(
                f"template {data.template_id} does not exist", field="template_id"
            )
        lineage = current.lineage_id if current is not None else None
        if (target.lineage_id or target.id) != (lineage or row.template_id):
            raise InvalidInputError(
                "the target is not a version of the instance's template", field="template_id"
            )
        given = data.parameters if data.parameters is not None else dict(row.parameters or {})
        schema = template_schema(target)
        try:
            params = resolve_parameters(
                schema,
                {k: v for k, v in given.items() if data.parameters is not None or k in schema},
            )
        except ParameterError as exc:
            raise InvalidInputError(str(exc), field=exc.field) from exc
        before = row_dict(row)
        row.template_id = target.id
        row.parameters = params
        await session.flush()
        audit(
            session,
            principal,
            "migrate_template",
            "resource_instance",
            row.id,
            before,
            row_dict(row),
        )
        await session.commit()
        return instance_out(row)

    @get("/{instance_id:str}/realtime-data")
    async def realtime_data(self, ctx: Ctx, instance_id: FromPath[str]) -> RealtimeData:
        """Latest values from the live cache (falling back to stored telemetry)."""
        # A session of its own, connected only when a kept read misses (no session
        # dependency: with two async dependencies Litestar starts a task group a request).
        async with ctx.reader_primary()() as session:
            return await self._realtime(session, ctx, instance_id)

    @staticmethod
    async def _realtime(session: AsyncSession, ctx: HubContext, instance_id: str) -> RealtimeData:
        row = await _binding(session, ctx, instance_id)
        values: dict[str, tuple[float, int]] = {}
        live = ctx.cache.device(edge_key(row.edge_tenant, row.edge_id), row.device_id)
        if live is not None:
            values = dict(live.values)
        elif row.edge_tenant is not None and row.edge_id is not None and row.device_id is not None:
            latest = (
                select(Telemetry.name, func.max(Telemetry.ts_ms).label("ts"))
                .where(
                    Telemetry.tenant == row.edge_tenant,
                    Telemetry.edge_id == row.edge_id,
                    Telemetry.device_id == row.device_id,
                )
                .group_by(Telemetry.name)
                .subquery()
            )
            result = await session.execute(
                select(Telemetry.name, Telemetry.value, Telemetry.ts_ms).join(
                    latest,
                    and_(
                        Telemetry.name == latest.c.name,
                        Telemetry.ts_ms == latest.c.ts,
                        Telemetry.tenant == row.edge_tenant,
                        Telemetry.edge_id == row.edge_id,
                        Telemetry.device_id == row.device_id,
                    ),
                )
            )
            values = {n: (v, ts) for n, v, ts in result if v is not None}
        if not values:
            raise NotFoundError(f"no realtime data for resource instance {instance_id} yet")
        energy = next((values[n][0] for n in ENERGY_NAMES if n in values), 0.0)
        return RealtimeData(
            power=values["p_w"][0] / 1000.0 if "p_w" in values else 0.0,
            energy=energy / 1000.0,
            soc=values["soc_pct"][0] if "soc_pct" in values else None,
            temperature=values["temp_c"][0] if "temp_c" in values else None,
            timestamp=_ts(max(ts for _, ts in values.values())),
        )

    @get("/{instance_id:str}/history", opt={"cached": True})
    async def history(
        self,
        ctx: Ctx,
        instance_id: FromPath[str],
        start: FromQuery[dt.datetime],
        end: FromQuery[dt.datetime],
        name: Annotated[str, QueryParameter(min_length=1, max_length=128)] = "p_w",
        step: Annotated[int, QueryParameter(ge=1, le=86_400 * 31, description="bucket, s")] = 60,
    ) -> History:
        """Stored telemetry of one point over ``[start, end)``, averaged per ``step``
        seconds (with min, max and count per bucket). Read on the read replica when one is
        configured (the latest rows may lag by the replication delay)."""
        return await on_reader(ctx, lambda s: self._history(s, instance_id, start, end, name, step))

    @staticmethod
    async def _history(
        session: AsyncSession,
        instance_id: str,
        start: dt.datetime,
        end: dt.datetime,
        name: str,
        step: int,
    ) -> History:
        row = await get_instance(session, instance_id)
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        if end.tzinfo is None:
            end = end.replace(tzinfo=dt.UTC)
        if end <= start:
            raise InvalidInputError("end must be after start", field="end")
        step_ms = step * 1000
        start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        if (end_ms - start_ms) // step_ms > 10_000:
            raise InvalidInputError(
                "too many buckets: raise step or shorten the range", field="step"
            )
        bucket = (Telemetry.ts_ms // step_ms).label("bucket")
        result = await session.execute(
            select(
                bucket,
                func.avg(Telemetry.value),
                func.min(Telemetry.value),
                func.max(Telemetry.value),
                func.count(Telemetry.value),
            )
            .where(
                Telemetry.tenant == (row.edge_tenant or ""),
                Telemetry.edge_id == (row.edge_id or ""),
                Telemetry.device_id == (row.device_id or ""),
                Telemetry.name == name,
                Telemetry.ts_ms >= start_ms,
                Telemetry.ts_ms < end_ms,
                Telemetry.value.is_not(None),
            )
            .group_by(bucket)
            .order_by(bucket)
        )
        points = [
            HistoryPoint(
                timestamp=_ts(int(b) * step_ms),
                value=float(avg),
                min=float(lo),
                max=float(hi),
                count=int(n),
            )
            for b, avg, lo, hi, n in result
        ]
        return History(resource_id=row.id, name=name, step=step, points=points)
