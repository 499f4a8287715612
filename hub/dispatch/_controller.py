"""``/api/v1/vpp/trading`` dispatch half of seed 4.3.2."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from hub._deps import Caller, Ctx, Session
from hub.auth import DISPATCHERS, requires

from ._schemas import DispatchAccepted, ExecuteDispatch, ExecutionStatus
from ._service import execute_dispatch, execution_status


class DispatchController(Controller):
    path = "/api/v1/vpp/trading"
    tags = ("trading",)

    @post("/execute-dispatch", guards=[requires(*DISPATCHERS)])
    async def execute(
        self, session: Session, ctx: Ctx, principal: Caller, data: JSONBody[ExecuteDispatch]
    ) -> DispatchAccepted:
        """Store dispatch instructions; VPP-level targets (no ``resource_id``) are split
        over the members by priority and allocation ratio within each member's available
        band (kW); the schedule of each affected edge is republished (retained)."""
        result, edges = await execute_dispatch(session, ctx, principal, data)
        await session.commit()
        if ctx.publisher is not None:
            for edge in sorted(edges):
                ctx.publisher.schedule_changed(edge)
        return result

    @get("/execution-status/{instruction_id:str}")
    async def status(
        self, session: Session, ctx: Ctx, instruction_id: FromPath[str]
    ) -> ExecutionStatus:
        """Status, actual power (kW) and deviation from target (kW) of an instruction."""
        return await execution_status(session, ctx, instruction_id)
