"""``/api/v1/vpp/strategies`` (seed 4.2.1): strategies, their lifecycle and backtests.

Backtests: ``POST {id}/backtest`` queues a task (202 with ``task_id``), ``GET
{id}/backtest-results/{task_id}`` reads its status, progress and results (while it runs
too), ``POST {id}/backtest-results/{task_id}/cancel`` cancels it.

Viewers (every role) read; traders and admins write. The use cases are in ``_service``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub._deps import Caller, Ctx, Page, Session, Size
from hub.auth import requires

from ._lifecycle import TRADERS
from ._schemas import (
    BacktestAccepted,
    BacktestCreate,
    BacktestOut,
    StrategyCreate,
    StrategyOut,
    StrategyPage,
    StrategyStatus,
    StrategyUpdate,
)
from ._service import (
    backtest_out,
    cancel_backtest,
    create_strategy,
    get_backtest,
    get_strategy,
    list_strategies,
    strategy_out,
    submit_backtest,
    update_strategy,
)
from ._validate import StrategyType

VppId = Annotated[str | None, QueryParameter(max_length=36)]


class StrategyController(Controller):
    path = "/api/v1/vpp/strategies"
    tags = ("strategies",)

    @get("/", opt={"cached": True})
    async def list_strategies(
        self,
        session: Session,
        vpp_id: VppId = None,
        strategy_type: FromQuery[StrategyType | None] = None,
        status: FromQuery[StrategyStatus | None] = None,
        page: Page = 1,
        size: Size = 20,
    ) -> StrategyPage:
        """Strategies filtered by ``vpp_id``, ``strategy_type`` and ``status``, newest first."""
        return await list_strategies(
            session,
            vpp_id=vpp_id,
            strategy_type=strategy_type,
            status=status,
            page=page,
            size=size,
        )

    @get("/{strategy_id:str}", opt={"cached": True})
    async def get_strategy(self, session: Session, strategy_id: FromPath[str]) -> StrategyOut:
        return strategy_out(await get_strategy(session, strategy_id))

    @post("/", guards=[requires(*TRADERS)])
    async def create_strategy(
        self, session: Session, principal: Caller, data: JSONBody[StrategyCreate]
    ) -> StrategyOut:
        """Create a DRAFT strategy; ``config`` is validated (422 with each problem's path)."""
        return strategy_out(await create_strategy(session, principal, data))

    @put("/{strategy_id:str}", guards=[requires(*TRADERS)])
    async def update_strategy(
        self,
        session: Session,
        principal: Caller,
        strategy_id: FromPath[str],
        data: JSONBody[StrategyUpdate],
    ) -> StrategyOut:
        """Change the name, the config (not while ACTIVE) and the status (the lifecycle:
        only a strategy with a COMPLETED backtest of its current config becomes ACTIVE)."""
        return strategy_out(await update_strategy(session, principal, strategy_id, data))

    @post("/{strategy_id:str}/backtest", guards=[requires(*TRADERS)], status_code=202)
    async def start_backtest(
        self,
        session: Session,
        ctx: Ctx,
        principal: Caller,
        strategy_id: FromPath[str],
        data: JSONBody[BacktestCreate],
    ) -> BacktestAccepted:
        """Queue a backtest of the strategy's current config (an asynchronous task): 422 for
        a range the source has no data for, 503 (Retry-After) when the queue is full."""
        row = await submit_backtest(session, ctx, principal, strategy_id, data)
        return BacktestAccepted(task_id=row.id, status="PENDING")

    @get("/{strategy_id:str}/backtest-results/{task_id:str}", opt={"cached": True})
    async def backtest_results(
        self, session: Session, strategy_id: FromPath[str], task_id: FromPath[str]
    ) -> BacktestOut:
        """Status, progress (percent and the slot reached) and, once COMPLETED, results."""
        return backtest_out(await get_backtest(session, strategy_id, task_id))

    @post(
        "/{strategy_id:str}/backtest-results/{task_id:str}/cancel",
        guards=[requires(*TRADERS)],
        status_code=202,
    )
    async def cancel_backtest(
        self,
        session: Session,
        principal: Caller,
        strategy_id: FromPath[str],
        task_id: FromPath[str],
    ) -> BacktestOut:
        """Cancel a task: a PENDING one at once, a RUNNING one before its next day (202:
        read the results route for CANCELLED). 409 once it has ended."""
        row = await cancel_backtest(session, principal, strategy_id, task_id)
        return backtest_out(row)
