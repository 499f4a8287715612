"""Catalogue use cases: preset templates and template versions. Each takes an open session and
leaves committing to the caller (one request, one transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store import ResourceTemplate, new_id

from ._presets import PRESETS
from ._types import ParamSpec


async def ensure_presets(session: AsyncSession) -> int:
    """Load the preset templates once (when no template of that ``type`` exists yet)."""
    have = set((await session.execute(select(ResourceTemplate.type))).scalars())
    added = 0
    for preset in PRESETS:
        if preset.type in have:
            continue
        tid = new_id()
        session.add(
            ResourceTemplate(
                id=tid,
                lineage_id=tid,
                name=preset.name,
                type=preset.type,
                category=preset.category,
                parameters=msgspec.to_builtins(preset.parameters),
                control_interface=preset.control_interface,
                version="1.0",
                status="ACTIVE",
                created_by="system",
            )
        )
        added += 1
    return added


def template_schema(row: ResourceTemplate) -> dict[str, ParamSpec]:
    return msgspec.convert(row.parameters or {}, dict[str, ParamSpec])


def next_version(version: str) -> str:
    head = version.split(".", 1)[0]
    return f"{int(head) + 1}.0" if head.isdigit() else f"{version}.1"


def _version_key(row: ResourceTemplate) -> tuple[int, dt.datetime, str]:
    head = row.version.split(".", 1)[0]
    created = row.created_at or dt.datetime.min
    return (int(head) if head.isdigit() else -1, created.replace(tzinfo=None), row.id)


async def template_versions(
    session: AsyncSession, row: ResourceTemplate, *, lock: bool = False
) -> list[ResourceTemplate]:
    """Every version of ``row``'s template (its lineage), oldest first: the last is the
    current one. ``lock`` locks them (``FOR UPDATE`` on PostgreSQL) and reads them again
    once locked, so two writers of one template see each other's new version."""
    lineage = row.lineage_id or row.id
    query = select(ResourceTemplate).where(
        or_(ResourceTemplate.lineage_id == lineage, ResourceTemplate.id == lineage)
    )
    if lock:
        await session.execute(query.with_for_update())
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return sorted({r.id: r for r in [row, *rows]}.values(), key=_version_key)


async def current_versions(
    session: AsyncSession, rows: Sequence[ResourceTemplate]
) -> dict[str, str]:
    """The current (newest) version's id of each lineage among ``rows``, by lineage id."""
    lineages = {r.lineage_id or r.id for r in rows}
    if not lineages:
        return {}
    found = await session.scalars(
        select(ResourceTemplate).where(
            or_(ResourceTemplate.lineage_id.in_(lineages), ResourceTemplate.id.in_(lineages))
        )
    )
    newest: dict[str, ResourceTemplate] = {}
    for r in [*rows, *found]:
        lineage = r.lineage_id or r.id
        if lineage not in newest or _version_key(r) > _version_key(newest[lineage]):
            newest[lineage] = r
    return {lineage: r.id for lineage, r in newest.items()}


__all__ = [
    "current_versions",
    "ensure_presets",
    "next_version",
    "template_schema",
    "template_versions",
]
