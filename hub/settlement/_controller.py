"""``/api/v1/vpp/settlement``: run a day's settlement (trader, admin) and read statements
(any role). The statement a run returns is read on the primary (its own write); the
statement routes read on the read replica when one is configured (``ctx.reader()``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub._deps import Caller, Ctx, on_reader
from hub.auth import Role, requires
from hub.errors import InvalidInputError
from hub.markets import TradingRules

from ._schemas import RunOut, SettleRun, StatementOut, StatementPage
from ._service import list_statements, read_statement, settle_day

SETTLERS: tuple[Role, ...] = ("trader", "admin")


class SettlementController(Controller):
    path = "/api/v1/vpp/settlement"
    tags = ("settlement",)

    @post("/run", guards=[requires(*SETTLERS)], status_code=200)
    async def run(self, ctx: Ctx, principal: Caller, data: JSONBody[SettleRun]) -> RunOut:
        """Settle a VPP's day in one market (idempotent: the same inputs change nothing).
        The day's cleared trading records go to SETTLED with their revenue."""
        rules = None
        if data.rules is not None:
            try:
                rules = msgspec.convert(data.rules, TradingRules, strict=False)
            except msgspec.ValidationError as exc:
                raise InvalidInputError(f"rules: {exc}", field="rules") from exc
        slots = rules.slots_per_day if rules else TradingRules().slots_per_day
        for name, values in (
            ("realtime_prices", data.realtime_prices),
            ("mileage_mw", data.mileage_mw),
        ):
            for slot in values or {}:
                if not 0 <= slot < slots:
                    raise InvalidInputError(f"slot {slot} is outside the day", field=name)
        outcome = await settle_day(
            ctx,
            data.vpp_id,
            data.market_type,
            data.trading_date,
            actor=principal,
            rules=rules,
            realtime=data.realtime_prices,
            mileage=data.mileage_mw,
        )
        async with ctx.sessions() as session:
            statement = await read_statement(session, outcome.statement_id)
        return RunOut(
            changed=outcome.changed, records_settled=outcome.records_settled, statement=statement
        )

    @get("/statements", opt={"cached": True})
    async def statements(
        self,
        ctx: Ctx,
        vpp_id: Annotated[str | None, QueryParameter(max_length=36)] = None,
        market_type: Annotated[str | None, QueryParameter(max_length=32)] = None,
        start_date: FromQuery[dt.date | None] = None,
        end_date: FromQuery[dt.date | None] = None,
    ) -> StatementPage:
        """Stored statements (totals), oldest day first."""
        if start_date and end_date and end_date < start_date:
            raise InvalidInputError("end_date is before start_date", field="end_date")
        items = await on_reader(
            ctx,
            lambda s: list_statements(
                s, vpp_id=vpp_id, market_type=market_type, start=start_date, end=end_date
            ),
        )
        return StatementPage(items=items, total=len(items))

    @get("/statements/{statement_id:str}", opt={"cached": True})
    async def statement(self, ctx: Ctx, statement_id: FromPath[str]) -> StatementOut:
        """A statement with its per-slot lines and its allocations by every method."""
        return await on_reader(ctx, lambda s: read_statement(s, statement_id))
