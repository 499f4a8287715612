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
) -> None:
    """One audit entry in the caller's transaction."""
    session.add(
        AuditEntry(
            ts=dt.datetime.now(dt.UTC),
            actor=who.username,
            role=who.role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


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
    """Register an edge; returns it and its MQTT password (shown once, stored hashed)."""
    validate_id(edge_id, "edge id")
    validate_id(tenant, "tenant id")
    if await session.get(Edge, edge_id) is not None:
        raise ConflictError(f"edge {edge_id!r} is already registered", field="id")
    password = secrets.token_urlsafe(24)
    edge = Edge(
        id=edge_id,
        tenant=tenant,
        name=name,
        mqtt_username=f"edge-{edge_id}",
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
