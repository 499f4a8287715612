"""``/api/v1/vpp/reports`` (seed 4.4): operation, strategy performance, revenue analysis.

JSON by default; CSV (UTF-8 with BOM, one row per report row) with ``Accept: text/csv`` or
``format=csv``. Every role may read reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromQuery, QueryParameter

from hub._deps import Ctx, on_reader
from hub.errors import InvalidInputError

from ._csv import MEDIA_TYPE, to_csv
from ._service import operation_report, revenue_report, strategy_report

Id = Annotated[str, QueryParameter(min_length=1, max_length=36)]
Text = Annotated[str, QueryParameter(min_length=1, max_length=40)]
Format = Annotated[str | None, QueryParameter(max_length=8, description="json (default) or csv")]


def _wants_csv(request: Request[Any, Any, Any], fmt: str | None) -> bool:
    if fmt is not None:
        if fmt not in ("json", "csv"):
            raise InvalidInputError(f"format {fmt!r} is not json or csv", field="format")
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def _respond(request: Request[Any, Any, Any], fmt: str | None, report: Any) -> Response[Any]:
    if not _wants_csv(request, fmt):
        return Response(report)
    rows = []
    for row in report.rows:
        flat = msgspec.to_builtins(row)
        rows.append({k: v for k, v in flat.items() if not isinstance(v, dict | list)})
    columns = list(msgspec.structs.fields(type(report.rows[0])) if report.rows else [])
    names = [f.name for f in columns] or None
    name = f"{type(report).__name__}.csv"
    return Response(
        to_csv(rows, names),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class ReportController(Controller):
    path = "/api/v1/vpp/reports"
    tags = ("reports",)

    @get("/operation", opt={"cached": True})
    async def operation(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        vpp_id: Id,
        start_date: FromQuery[dt.date],
        end_date: FromQuery[dt.date],
        report_type: Text = "summary",
        format: Format = None,
    ) -> Response[Any]:
        """Availability, energy delivered, dispatch count, execution success rate (share of
        finished instructions delivered within 5 %; target >= 95 %), deviations, alarms,
        revenue and carbon of a VPP over ``start_date..end_date`` (local days, inclusive).
        ``report_type``: summary, daily or dispatch (the rows)."""
        report = await on_reader(
            ctx, lambda s: operation_report(ctx, s, vpp_id, start_date, end_date, report_type)
        )
        return _respond(request, format, report)

    @get("/strategy-performance", opt={"cached": True})
    async def strategy_performance(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        strategy_id: Id,
        period: Text = "month",
        format: Format = None,
    ) -> Response[Any]:
        """Revenue, hit rate, capture ratio (null with a reason without a stored backtest)
        and risk metrics of a strategy. ``period``: day, week, month, quarter, year
        (trailing), YYYY-MM or YYYY-MM-DD/YYYY-MM-DD."""
        report = await on_reader(ctx, lambda s: strategy_report(ctx, s, strategy_id, period))
        return _respond(request, format, report)

    @get("/revenue-analysis", opt={"cached": True})
    async def revenue_analysis(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        vpp_id: Id,
        dimension: Text = "time",
        period: Text = "month",
        method: Annotated[str, QueryParameter(max_length=16)] = "shapley",
        format: Format = None,
    ) -> Response[Any]:
        """Revenue of a VPP by ``dimension``: time (per day and market), strategy,
        resource (the members' allocations by ``method``: shapley, energy, capacity) or
        carbon (per day: emissions avoided, shifted, curtailed, kg CO2)."""
        report = await on_reader(
            ctx, lambda s: revenue_report(ctx, s, vpp_id, dimension, period, method)
        )
        return _respond(request, format, report)
