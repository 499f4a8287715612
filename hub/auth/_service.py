"""Auth use cases: the audit log, users and edge credentials.

Each function takes an open session and leaves committing to the caller, so one request
is one transaction (its audit entry included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import ConflictError
from hub.store import AuditEntry, Edge, User, new_id
from protocol.topics import EdgeTopics, validate_id

from ._security import Principal, Role, hash_password

SYSTEM = Principal(user_id="system", username="system", role="admin")


def audit(
    session: AsyncSession,
    who: Principal,
    action: str,
    entity: str,
    entity_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """One audit entry in the caller's transaction (returned, for a use case that
    completes it later in another transaction)."""
    entry = AuditEntry(**audit_values(who, action, entity, entity_id, before, after))
    session.add(entry)
    return entry


def audit_values(
    who: Principal,
    action: str,
    entity: str,
    entity_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """The columns of the entry :func:`audit` adds, for a Core ``insert(AuditEntry)`` in
    the caller's transaction (the same content without an ORM object to flush)."""
    return {
        **_entry_columns(who, action, entity, entity_id),
        "before": _jsonable(before),
        "after": _jsonable(after),
    }


def audit_row(
    who: Principal, action: str, entity: str, entity_id: str | None, after: dict[str, Any]
) -> dict[str, Any]:
    """The columns of the entry :func:`audit` would add (without ``before``), for a
    statement that inserts it itself: ``ts``, ``actor``, ``role``, ``action``, ``entity``,
    ``entity_id`` and ``after`` as JSON text."""
    return {
        **_entry_columns(who, action, entity, entity_id),
        "after": msgspec.json.encode(after).decode(),
    }


def _entry_columns(
    who: Principal, action: str, entity: str, entity_id: str | None
) -> dict[str, Any]:
    """Who did what to which entity, and when: the columns every audit entry has."""
    return {
        "ts": dt.datetime.now(dt.UTC),
        "actor": who.username,
        "role": who.role,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
    }


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(value))
    return out


# --------------------------------------------------------------------------- users


async def create_user(
    session: AsyncSession, username: str, password: str, role: Role, *, replace: bool = False
) -> User:
    existing = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    if existing is not None:
        if not replace:
            raise ConflictError(f"user {username!r} exists", field="username")
        existing.password_hash = await asyncio.to_thread(hash_password, password)
        existing.role = role
        existing.disabled = False
        return existing
    user = User(
        id=new_id(),
        username=username,
        password_hash=await asyncio.to_thread(hash_password, password),
        role=role,
    )
    session.add(user)
    return user


# --------------------------------------------------------------------------- edges


async def create_edge(
    session: AsyncSession, tenant: str, edge_id: str, name: str = ""
) -> tuple[Edge, str]:
    """Register the edge ``edge_id`` of ``tenant``; returns it and its MQTT password (shown
    once, stored hashed). The same id may be registered in several tenants.

    The MQTT user name is ``edge-<edge id>``, or ``edge-<tenant>.<edge id>`` when another
    tenant's edge holds that one already (user names are unique on the broker)."""
    validate_id(edge_id, "edge id")
    validate_id(tenant, "tenant id")
    if await session.get(Edge, (tenant, edge_id)) is not None:
        raise ConflictError(
            f"edge {edge_id!r} is already registered in tenant {tenant!r}", field="id"
        )
    username = f"edge-{edge_id}"
    if await session.scalar(select(Edge.id).where(Edge.mqtt_username == username)) is not None:
        username = f"edge-{tenant}.{edge_id}"
        if await session.scalar(select(Edge.id).where(Edge.mqtt_username == username)):
            raise ConflictError(f"the MQTT user name {username!r} is taken", field="id")
    password = secrets.token_urlsafe(24)
    edge = Edge(
        id=edge_id,
        tenant=tenant,
        name=name,
        mqtt_username=username,
        mqtt_password_hash=await asyncio.to_thread(hash_password, password),
        online=False,
        schedule_version=0,
    )
    session.add(edge)
    return edge, password


def agent_config_toml(edge: Edge, password: str, mqtt_url: str) -> str:
    """The ``[site]`` and ``[hub]`` sections of the edge agent's TOML for this edge."""
    return (
        "# vpp agent config: add [[devices]] for the site's devices\n"
        "[site]\n"
        f'tenant = "{edge.tenant}"\n'
        f'edge = "{edge.id}"\n'
        "\n[site.limits]\n"
        "import_max_w = 1000000.0\n"
        "export_max_w = 1000000.0\n"
        "\n[hub]\n"
        f'url = "{mqtt_url}"\n'
        f'username = "{edge.mqtt_username}"\n'
        f'password = "{password}"\n'
    )


def acl_lines(edge: Edge) -> str:
    """mosquitto ACL lines confining the edge to its own topics."""
    topics = EdgeTopics(edge.tenant, edge.id)
    return (
        f"user {edge.mqtt_username}\n"
        f"topic write {topics.base}/state\n"
        f"topic write {topics.base}/birth\n"
        f"topic write {topics.base}/+/birth\n"
        f"topic write {topics.data}\n"
        f"topic write {topics.dispatch_status}\n"
        f"topic write {topics.reply}\n"
        f"topic write {topics.reply}/+\n"  # reply_to of one hub replica (hub.commands)
        f"topic read {topics.config}\n"
        f"topic read {topics.dispatch}\n"
        f"topic read {topics.ack}\n"
        f"topic read {topics.cmd_filter}\n"
        "topic read vpp/v1/_hub/state\n"
    )


__all__ = [
    "SYSTEM",
    "acl_lines",
    "agent_config_toml",
    "audit",
    "create_edge",
    "create_user",
]
