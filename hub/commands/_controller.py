"""``POST .../commands``: one command to one device, answered with what the agent did."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.params import FromPath, JSONBody, QueryParameter

from hub._deps import Caller, Ctx
from hub.auth import WRITERS, requires

from ._schemas import CommandIn, CommandOut
from ._service import device_target, instance_target, send_command

_ANSWERS = """

Answers: 200 with the agent's reply when it did it; 422 (``rejected``, ``unsupported``:
the command does not fit the device, ``errors`` naming the argument) or 409
(``unknown_device``, ``expired``, ``error``) when it refused, with its ``code`` and
``message``; 504 when no reply came within ``timeout_s`` (the command has expired at the
edge: an agent that gets it later does not execute it); 503 when the hub has no MQTT
broker. Operators and admins only; every command sent is in the audit log (entity
``command``, its ``cid``) with its outcome."""


class CommandController(Controller):
    path = "/api/v1"
    tags = ("commands",)

    @post(
        "/vpp/resource-instances/{instance_id:str}/commands",
        guards=[requires(*WRITERS)],
        status_code=200,
        summary="Send a command to a resource instance's device",
        description="The instance's edge and device get the command." + _ANSWERS,
    )
    async def to_instance(
        self, ctx: Ctx, principal: Caller, instance_id: FromPath[str], data: JSONBody[CommandIn]
    ) -> CommandOut:
        """Send a command to the device of a resource instance (its edge and device)."""
        target = await instance_target(ctx, instance_id)
        return await send_command(ctx, principal, target, data)

    @post(
        "/edges/{edge_id:str}/devices/{device_id:str}/commands",
        guards=[requires(*WRITERS)],
        status_code=200,
        summary="Send a command to one device of an edge",
        description="By the ids in the edge's config (also a device that is not in the "
        "catalogue)." + _ANSWERS,
    )
    async def to_device(
        self,
        ctx: Ctx,
        principal: Caller,
        edge_id: FromPath[str],
        device_id: FromPath[str],
        data: JSONBody[CommandIn],
        tenant: Annotated[
            str | None,
            QueryParameter(
                max_length=64, description="the edge's tenant (needed when several share its id)"
            ),
        ] = None,
    ) -> CommandOut:
        """Send a command to one device of an edge, by the ids in the edge's config (also
        a device that is not in the catalogue)."""
        target = await device_target(ctx, edge_id, device_id, tenant)
        return await send_command(ctx, principal, target, data)
