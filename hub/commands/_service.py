"""Send one command to one device and report what the agent answered.

One use case, :func:`send_command`: check the arguments (422 naming the bad one), find the
edge and device (404), write the audit entry (committed before anything is sent, so a
command never leaves without its record), send through the relay and wait, then complete
the audit entry with the outcome. No database connection is held while waiting.

Outcomes and their answers: the agent did it (200, its reply); it refused (422 for
``rejected``/``unsupported``, naming the argument its message names; 409 for
``unknown_device``/``expired``/``error``), with its ``code`` and ``message``; no reply in
time (504: the command has expired at the edge, so an agent that gets it later refuses
it); no broker (503).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, assert_never

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Principal, audit
from hub.errors import (
    ConflictError,
    GatewayTimeoutError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from hub.store import AuditEntry, Edge, ResourceInstance
from protocol import Command, Reply
from protocol.topics import TopicError, validate_device_id

from ._schemas import CommandIn, CommandOut
from ._types import ArgsError, CommandOutcome, NoReply, Replied, Unavailable, rest_field, wire_args

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)

REFUSED_AS_INVALID = frozenset({"rejected", "unsupported"})
"""Agent codes answered 422 (the request does not fit the device); the others are 409."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a command goes."""

    tenant: str
    edge: str
    device: str
    instance_id: str | None = None


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


async def _tenant(session: AsyncSession, edge_id: str, given: str | None) -> str | None:
    """The tenant of the edge ``edge_id``: ``given`` if that edge is known in it, else the
    one tenant the id is known in (422 when several are); None for an unknown edge."""
    if given is not None:
        return given if await session.get(Edge, (given, edge_id)) is not None else None
    tenants = sorted(set(await session.scalars(select(Edge.tenant).where(Edge.id == edge_id))))
    if len(tenants) > 1:
        raise InvalidInputError(
            f"edge {edge_id} is known in tenants {', '.join(tenants)}: give tenant",
            field="tenant",
        )
    return tenants[0] if tenants else None


async def instance_target(ctx: HubContext, instance_id: str) -> Target:
    """The edge and device of a resource instance (404 unknown, 409 not bound to one)."""
    async with ctx.sessions() as session:
        row = await session.get(ResourceInstance, instance_id)
        if row is None:
            raise NotFoundError(f"resource instance {instance_id} not found")
        if not row.edge_id or not row.device_id:
            raise ConflictError(
                f"resource instance {instance_id} is not bound to an edge device",
                field="edge_id",
            )
    tenant = row.edge_tenant or ctx.settings.tenant
    return Target(tenant, row.edge_id, row.device_id, instance_id)


async def device_target(
    ctx: HubContext, edge_id: str, device_id: str, tenant: str | None = None
) -> Target:
    """One device of a known edge of ``tenant`` (by default the one tenant the edge id is
    known in; 404 for an edge the hub has never seen)."""
    try:
        validate_device_id(device_id)
    except TopicError as exc:
        raise InvalidInputError(str(exc), field="device_id") from None
    async with ctx.sessions() as session:
        found = await _tenant(session, edge_id, tenant)
    if found is None:
        raise NotFoundError(f"edge {edge_id} not found")
    return Target(found, edge_id, device_id)


async def send_command(
    ctx: HubContext, principal: Principal, target: Target, data: CommandIn
) -> CommandOut:
    try:
        args = wire_args(data.action, data.args, ctx.clock.now_ms())
    except ArgsError as exc:
        raise InvalidInputError(f"{exc.field}: {exc.message}", field=exc.field) from None
    relay = ctx.commands
    if relay is None:
        raise UnavailableError("the hub has no MQTT broker configured: it cannot send commands")
    cid = uuid.uuid4().hex
    record: dict[str, Any] = {
        "edge_id": target.edge,
        "device_id": target.device,
        "instance_id": target.instance_id,
        "action": data.action,
        "args": data.args,
        "timeout_s": data.timeout_s,
        "outcome": "sending",
    }
    async with ctx.sessions() as session:
        entry = audit(session, principal, f"command.{data.action}", "command", cid, None, record)
        await session.commit()
        entry_id = entry.id
    outcome = await relay.send(
        target.tenant, target.edge, target.device, data.action, args, data.timeout_s, cid=cid
    )
    match outcome:
        case Replied(command=command, reply=reply):
            result = {"outcome": "replied", **_reply_record(command, reply)}
        case NoReply(command=command):
            result = {"outcome": "timeout", "expires_at": _utc(command.expires_ts_ms).isoformat()}
        case Unavailable(reason=reason):
            result = {"outcome": "unavailable", "reason": reason}
        case _:
            assert_never(outcome)
    await _complete_audit(ctx, entry_id, {**record, **result})
    return _answer(target, data, outcome)


def _reply_record(command: Command, reply: Reply) -> dict[str, Any]:
    return {
        "expires_at": _utc(command.expires_ts_ms).isoformat(),
        "ok": reply.ok,
        "code": reply.code,
        "message": reply.message,
        "result": dict(reply.result),
    }


async def _complete_audit(ctx: HubContext, entry_id: int, after: dict[str, Any]) -> None:
    """The outcome into the entry written before sending. A failure here is logged, not
    raised: the command has happened, and the caller must learn what the device did."""
    try:
        async with ctx.sessions() as session:
            entry = await session.get(AuditEntry, entry_id)
            if entry is not None:
                entry.after = after
                await session.commit()
    except SQLAlchemyError as exc:
        _log.warning("command audit entry %s keeps outcome 'sending': %s", entry_id, exc)


def _answer(target: Target, data: CommandIn, outcome: CommandOutcome) -> CommandOut:
    where = f"edge {target.edge} device {target.device}"
    match outcome:
        case Replied(command=command, reply=reply) if reply.ok:
            return CommandOut(
                cid=command.cid,
                action=data.action,
                edge_id=target.edge,
                device_id=target.device,
                ok=True,
                code=reply.code,
                message=reply.message,
                result=dict(reply.result),
                sent_at=_utc(command.ts_ms),
                expires_at=_utc(command.expires_ts_ms),
                replied_at=_utc(reply.ts_ms),
            )
        case Replied(command=command, reply=reply):
            extra = {"cid": command.cid, "code": reply.code, "message": reply.message,
                     "result": dict(reply.result)}  # fmt: skip
            detail = f"{where} refused {data.action}: {reply.code}: {reply.message}"
            if reply.code in REFUSED_AS_INVALID:
                raise InvalidInputError(detail, field=rest_field(reply.message), extra=extra)
            raise ConflictError(detail, extra=extra)
        case NoReply(command=command):
            expires = _utc(command.expires_ts_ms)
            raise GatewayTimeoutError(
                f"no reply from {where} within {data.timeout_s:g} s; the command expired "
                f"at {expires.isoformat()} and an agent that receives it later does not "
                "execute it",
                extra={"cid": command.cid, "expires_at": expires.isoformat()},
            )
        case Unavailable(reason=reason):
            raise UnavailableError(f"command not sent to {where}: {reason}")
        case _:
            assert_never(outcome)


__all__ = ["Target", "device_target", "instance_target", "send_command"]
