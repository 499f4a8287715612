"""``/api/v1/vpp/resource-templates`` (seed 4.1.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, select

from hub._deps import Caller, Page, Session, Size
from hub.auth import WRITERS, audit, requires
from hub.errors import ConflictError, NotFoundError
from hub.store import ResourceInstance, ResourceTemplate, new_id, row_dict

from ._params import ParameterError, template_parameters
from ._schemas import Template, TemplateCreate, TemplatePage, TemplateUpdate
from ._service import current_versions, next_version, template_schema, template_versions
from ._types import Category


def template_out(row: ResourceTemplate, current_id: str | None = None) -> Template:
    return Template(
        id=row.id,
        name=row.name,
        type=row.type,
        category=row.category,  # type: ignore[arg-type]
        parameters=template_schema(row),
        control_interface=dict(row.control_interface or {}),
        version=row.version,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        lineage_id=row.lineage_id,
        current_id=current_id or row.id,
    )


def parameter_schema(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A body's ``parameters`` (plain values or schema entries) as the stored schema;
    a 400 naming the key when they are neither."""
    try:
        return msgspec.to_builtins(template_parameters(raw))  # type: ignore[no-any-return]
    except ParameterError as exc:
        raise ValidationException(
            str(exc), extra=[{"key": exc.field, "message": str(exc), "source": "body"}]
        ) from exc


CURRENT = ResponseHeader(
    name="Content-Location",
    description="The current version's URL: a new version has its own id.",
    documentation_only=True,
)


def _located(row: ResourceTemplate) -> Response[Template]:
    return Response(
        template_out(row),
        headers={"Content-Location": f"{ResourceTemplateController.path}/{row.id}"},
    )


async def _get(session: Session, template_id: FromPath[str]) -> ResourceTemplate:
    row = await session.get(ResourceTemplate, template_id)
    if row is None:
        raise NotFoundError(f"resource template {template_id} not found")
    return row


class ResourceTemplateController(Controller):
    path = "/api/v1/vpp/resource-templates"
    tags = ("resource-templates",)

    @get("/", opt={"cached": True})
    async def list_templates(
        self,
        session: Session,
        type_: Annotated[str | None, QueryParameter(name="type", max_length=50)] = None,
        category: FromQuery[Category | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        page: Page = 1,
        size: Size = 20,
    ) -> TemplatePage:
        """Templates, newest first, filtered by ``type``, ``category`` and ``status``."""
        query = select(ResourceTemplate)
        if type_ is not None:
            query = query.where(ResourceTemplate.type == type_)
        if category is not None:
            query = query.where(ResourceTemplate.category == category)
        if status is not None:
            query = query.where(ResourceTemplate.status == status)
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.scalars(
            query.order_by(ResourceTemplate.created_at.desc(), ResourceTemplate.id)
            .limit(size)
            .offset((page - 1) * size)
        )
        items = list(rows)
        current = await current_versions(session, items)
        return TemplatePage(
            items=[template_out(r, current[r.lineage_id or r.id]) for r in items],
            total=total or 0,
            page=page,
            size=size,
        )

    @get("/{template_id:str}", opt={"cached": True})
    async def get_template(self, session: Session, template_id: FromPath[str]) -> Template:
        """One version; ``current_id`` names the template's current version."""
        row = await _get(session, template_id)
        return template_out(row, (await template_versions(session, row))[-1].id)

    @post("/", guards=[requires(*WRITERS)])
    async def create_template(
        self, session: Session, principal: Caller, data: JSONBody[TemplateCreate]
    ) -> Template:
        tid = new_id()
        row = ResourceTemplate(
            id=tid,
            lineage_id=tid,
            name=data.name,
            type=data.type,
            category=data.category,
            parameters=parameter_schema(data.parameters),
            control_interface=data.control_interface,
            version="1.0",
            status="ACTIVE",
            created_by=principal.user_id,
        )
        session.add(row)
        await session.flush()
        audit(session, principal, "create", "resource_template", tid, None, row_dict(row))
        await session.commit()
        return template_out(row)

    @put("/{template_id:str}", guards=[requires(*WRITERS)], response_headers=[CURRENT])
    async def update_template(
        self,
        session: Session,
        principal: Caller,
        template_id: FromPath[str],
        data: JSONBody[TemplateUpdate],
    ) -> Response[Template]:
        """Acts on the template's **current version** (its newest), whichever of its
        versions' ids is given, so the id a client holds keeps working. Name and status
        change in place. New ``parameters`` or ``control_interface`` create a new version
        (a new id in the same lineage, numbered one above the newest); instances keep the
        version they were created with, and every other version turns INACTIVE. The
        response is the current version; ``Content-Location`` names its URL."""
        versions = await template_versions(session, await _get(session, template_id), lock=True)
        row = versions[-1]
        before = row_dict(row)
        new_params = parameter_schema(data.parameters) if data.parameters is not None else None
        changes_spec = (new_params is not None and new_params != (row.parameters or {})) or (
            data.control_interface is not None
            and data.control_interface != (row.control_interface or {})
        )
        if changes_spec:
            nid = new_id()
            newer = ResourceTemplate(
                id=nid,
                lineage_id=row.lineage_id or row.id,
                name=data.name if data.name is not None else row.name,
                type=row.type,
                category=row.category,
                parameters=new_params if new_params is not None else row.parameters,
                control_interface=(
                    data.control_interface
                    if data.control_interface is not None
                    else row.control_interface
                ),
                version=next_version(row.version),
                status=data.status or "ACTIVE",
                created_by=principal.user_id,
            )
            for version in versions:
                version.status = "INACTIVE"
            session.add(newer)
            await session.flush()
            audit(
                session, principal, "new_version", "resource_template", nid, before, row_dict(newer)
            )
            await session.commit()
            return _located(newer)
        if data.name is not None:
            row.name = data.name
        if data.status is not None:
            row.status = data.status
        await session.flush()
        audit(session, principal, "update", "resource_template", row.id, before, row_dict(row))
        await session.commit()
        return _located(row)

    @delete("/{template_id:str}", guards=[requires(*WRITERS)])
    async def delete_template(
        self, session: Session, principal: Caller, template_id: FromPath[str]
    ) -> None:
        """Refused with 409 while instances use this template."""
        row = await _get(session, template_id)
        used = await session.scalar(
            select(func.count()).where(ResourceInstance.template_id == template_id)
        )
        if used:
            raise ConflictError(f"resource template {template_id} is used by {used} instance(s)")
        before = row_dict(row)
        await session.delete(row)
        audit(session, principal, "delete", "resource_template", template_id, before, None)
        await session.commit()
