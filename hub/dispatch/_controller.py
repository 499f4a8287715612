"""``/api/v1/vpp/trading`` dispatch half of seed 4.3.2: a thin caller of the plan service."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from hub._deps import Caller, Ctx
from hub.auth import DISPATCHERS, requires
from hub.errors import InvalidInputError

from ._execution import execution_status
from ._plan import DispatchPlan, PlanOutcome, PlanTarget
from ._schemas import (
    DispatchAccepted,
    ExecuteDispatch,
    ExecutionStatus,
    InstructionOut,
    MemberInstruction,
)
from ._service import submit_plan


def plan_of(data: ExecuteDispatch, username: str) -> DispatchPlan:
    """The REST body as a manual plan."""
    return DispatchPlan(
        vpp_id=data.vpp_id,
        targets=[
            PlanTarget(
                target_kw=i.target_power,
                duration_s=i.duration,
                start=i.start_time,
                resource_id=i.resource_id,
            )
            for i in data.dispatch_instructions
        ],
        source="manual",
        created_by=username,
        max_offline_s=data.max_offline_s,
    )


def accepted(outcome: PlanOutcome) -> DispatchAccepted:
    return DispatchAccepted(
        vpp_id=outcome.vpp_id,
        instructions=[
            InstructionOut(
                instruction_id=t.instruction_id,
                resource_id=t.resource_id,
                target_power=t.target_kw,
                feasible_power=t.feasible_kw,
                infeasible_power=t.infeasible_kw,
                start_time=t.start,
                end_time=t.end,
                members=[
                    MemberInstruction(
                        instruction_id=m.instruction_id,
                        resource_id=m.resource_id,
                        target_power=m.target_kw,
                        edge_tenant=m.edge_tenant,
                        edge_id=m.edge_id,
                        device_id=m.device_id,
                    )
                    for m in t.members
                ],
            )
            for t in outcome.targets
        ],
        published_edges=[edge for _, edge in outcome.changed_edges],
    )


def _rest_field(field: str | None) -> str | None:
    """A plan's field path in the REST body's names."""
    if field is None:
        return None
    return field.replace("targets[", "dispatch_instructions[", 1).replace(".start", ".start_time")


class DispatchController(Controller):
    path = "/api/v1/vpp/trading"
    tags = ("trading",)

    @post("/execute-dispatch", guards=[requires(*DISPATCHERS)])
    async def execute(
        self, ctx: Ctx, principal: Caller, data: JSONBody[ExecuteDispatch]
    ) -> DispatchAccepted:
        """Store dispatch instructions; VPP-level targets (no ``resource_id``) are split
        over the members by priority and allocation ratio within each member's available
        band (kW); the schedule of each edge whose schedule changed is republished
        (retained, through the outbox). Targets of several VPPs on one device add up; a
        sum outside the device's band is refused (409)."""
        try:
            outcome = await submit_plan(ctx, plan_of(data, principal.username), actor=principal)
        except InvalidInputError as exc:
            exc.field = _rest_field(exc.field)
            exc.detail = exc.detail.replace("start must", "start_time must")
            raise
        return accepted(outcome)

    @get("/execution-status/{instruction_id:str}")
    async def status(self, ctx: Ctx, instruction_id: FromPath[str]) -> ExecutionStatus:
        """Status, actual power (kW) and deviation from target (kW) of an instruction."""
        # A session of its own, connected only when the kept read misses (no session
        # dependency: with two async dependencies Litestar starts a task group a request).
        async with ctx.reader_primary()() as session:
            return await execution_status(session, ctx, instruction_id)
