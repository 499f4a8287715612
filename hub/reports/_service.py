"""Reports (I/O): read the stored operation, trading and settlement data of a period and
hand it to the pure arithmetic (:mod:`._metrics`, :mod:`._carbon`).

Days are calendar days in the market's time zone (Asia/Shanghai by default): an
instruction belongs to the day its start falls on. Every read is bounded by the period.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import InvalidInputError, NotFoundError
from hub.markets import TradingRules
from hub.settlement import integrate_kwh
from hub.store import (
    DispatchExecution,
    DispatchInstruction,
    IngestGap,
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    SettlementAllocation,
    SettlementLine,
    SettlementStatement,
    StrategyBacktest,
    Telemetry,
    TradingRecord,
    TradingStrategy,
    Vpp,
)

from ._carbon import CarbonFigures, add, carbon, curtailed
from ._metrics import SUCCESS_TARGET, PeriodError, period_days, risk_metrics, within_tolerance
from ._schemas import (
    Alarms,
    CarbonOut,
    Deviations,
    OperationReport,
    OperationRow,
    RevenueReport,
    RevenueRow,
    StrategyReport,
    StrategyRow,
)

if TYPE_CHECKING:
    from hub._context import HubContext

TZ = ZoneInfo(TradingRules().timezone)
REPORT_TYPES = ("summary", "daily", "dispatch")
DIMENSIONS = ("time", "strategy", "resource", "carbon")
ALLOCATION_METHODS = ("shapley", "energy", "capacity")
_CENT = Decimal("0.01")


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    a = dt.datetime.combine(start, dt.time(0), tzinfo=TZ).astimezone(dt.UTC)
    b = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=TZ).astimezone(dt.UTC)
    return a, b


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(TZ).date()


def today(ctx: HubContext) -> dt.date:
    return dt.datetime.fromtimestamp(ctx.clock.now_ms() / 1000, dt.UTC).astimezone(TZ).date()


def parse_period(period: str, ctx: HubContext) -> tuple[dt.date, dt.date]:
    try:
        return period_days(period, today(ctx))
    except PeriodError as exc:
        raise InvalidInputError(str(exc), field="period") from exc


async def visible_vpp(session: AsyncSession, vpp_id: str) -> Vpp:
    """The VPP the caller may see (every authenticated role sees every VPP today; an
    unknown one is 404 naming ``vpp_id``). The one place a per-VPP scope would go."""
    vpp = await session.get(Vpp, vpp_id)
    if vpp is None:
        raise NotFoundError(f"VPP {vpp_id} not found", field="vpp_id")
    return vpp


def _yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(_CENT)


def _carbon_out(ctx: HubContext, figures: CarbonFigures) -> CarbonOut:
    factors = ctx.settings.emission_factors
    return CarbonOut(
        avoided_kg=round(figures.avoided_kg, 3),
        shifted_kg=round(figures.shifted_kg, 3),
        curtailed_kg=round(figures.curtailed_kg, 3),
        total_kg=round(figures.total_kg, 3),
        metered_kwh=round(figures.metered_kwh, 3),
        unmetered_hours=figures.unmetered_hours,
        factor_kg_per_kwh=factors.annual(ctx.settings.carbon_province),
        source=factors.source,
    )


# --------------------------------------------------------------------------- carbon


async def carbon_by_day(
    ctx: HubContext, session: AsyncSession, vpp: Vpp, start: dt.date, end: dt.date
) -> dict[dt.date, CarbonFigures]:
    """Per day: the members' metered energy (telemetry ``p_w``, hourly) and the DR lines,
    by the hub's configured factors and province (``Settings.emission_factors``,
    ``carbon_province``). Two statements however many members: the members' categories,
    and their points in one query (by member, then time)."""
    a, b = _bounds(start, end)
    factors = ctx.settings.emission_factors
    province = ctx.settings.carbon_province
    members = await session.execute(
        select(ResourceInstance.id, ResourceTemplate.category)
        .join(ResourceMapping, ResourceMapping.resource_id == ResourceInstance.id)
        .join(ResourceTemplate, ResourceTemplate.id == ResourceInstance.template_id)
        .where(ResourceMapping.vpp_id == vpp.id)
    )
    category_of: dict[str, str | None] = dict(members.all())
    a_ms, b_ms = int(a.timestamp() * 1000), int(b.timestamp() * 1000)
    rows = await session.execute(
        select(ResourceInstance.id, Telemetry.ts_ms, Telemetry.value)
        .select_from(ResourceMapping)
        .join(ResourceInstance, ResourceInstance.id == ResourceMapping.resource_id)
        .join(
            Telemetry,
            (Telemetry.tenant == ResourceInstance.edge_tenant)
            & (Telemetry.edge_id == ResourceInstance.edge_id)
            & (Telemetry.device_id == ResourceInstance.device_id),
        )
        .where(
            ResourceMapping.vpp_id == vpp.id,
            ResourceInstance.edge_id != "",
            ResourceInstance.device_id != "",
            Telemetry.name == "p_w",
            Telemetry.ts_ms >= a_ms - 120_000,
            Telemetry.ts_ms < b_ms,
            Telemetry.value.is_not(None),
        )
        .order_by(ResourceInstance.id, Telemetry.ts_ms)
    )
    points_of: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for rid, ts, value in rows:
        if value is not None:
            points_of[rid].append((ts, value))
    out: dict[dt.date, CarbonFigures] = defaultdict(CarbonFigures)
    hours = _hours(a, b)
    starts = [h for h, _, _ in hours]
    for rid, points in points_of.items():
        for day, series in _hourly_kwh(points, hours, starts).items():
            out[day] = add(out[day], carbon(series, category_of.get(rid), factors, province))
    dr = await session.execute(
        select(SettlementStatement.trading_date, SettlementLine.slot, SettlementLine.delivered_kwh)
        .join(SettlementLine, SettlementLine.statement_id == SettlementStatement.id)
        .where(
            SettlementStatement.vpp_id == vpp.id,
            SettlementStatement.market_type == "DEMAND_RESPONSE",
            SettlementStatement.trading_date >= start,
            SettlementStatement.trading_date <= end,
            SettlementLine.delivered_kwh.is_not(None),
        )
    )
    for day, slot, kwh in dr:
        hour, curtailed_kwh = slot // 4, max(float(kwh or 0.0), 0.0)
        out[day] = add(out[day], curtailed([(hour, curtailed_kwh)], factors, province))
    return dict(out)


_HOUR_MS = 3_600_000
_LEAD_MS = 120_000
"""A point this long before an hour still counts for it (the meter's reporting lag)."""


def _hours(a: dt.datetime, b: dt.datetime) -> list[tuple[int, dt.date, int]]:
    """Every hour starting in ``[a, b)``: (start ms, local day, local hour)."""
    out = []
    h = a
    while h < b:
        local = h.astimezone(TZ)
        out.append((int(h.timestamp() * 1000), local.date(), local.hour))
        h += dt.timedelta(hours=1)
    return out


def _hourly_kwh(
    points: list[tuple[int, float]], hours: list[tuple[int, dt.date, int]], starts: list[int]
) -> dict[dt.date, list[tuple[int, float | None]]]:
    """Per local day, (local hour, kWh or None) of the hours the points reach (from an hour
    before the first point to ``_LEAD_MS`` after the last), each integrated over the points
    that bear on it (the last one at or before its start and those inside): what
    :func:`integrate_kwh` gives over all of them, without walking all of them an hour."""
    ts = [t for t, _ in points]
    out: dict[dt.date, list[tuple[int, float | None]]] = defaultdict(list)
    first = bisect_left(starts, ts[0] - _HOUR_MS)
    last = bisect_right(starts, ts[-1] + _LEAD_MS)
    for h_ms, day, hour in hours[first:last]:
        lo = max(bisect_right(ts, h_ms) - 1, 0)
        hi = bisect_left(ts, h_ms + _HOUR_MS)
        out[day].append((hour, integrate_kwh(points[lo:hi], h_ms, h_ms + _HOUR_MS)))
    return out


# --------------------------------------------------------------------------- operation


async def _gaps_and_revenue(
    session: AsyncSession, vpp_id: str, start: dt.date, end: dt.date
) -> tuple[int, int]:
    """Ingest gaps detected in the period (hub-wide) and the VPP's settled cents."""
    a, b = _bounds(start, end)
    gaps = await session.scalar(
        select(func.count())
        .select_from(IngestGap)
        .where(IngestGap.detected_at >= a, IngestGap.detected_at < b)
    )
    revenue = await session.scalar(
        select(func.coalesce(func.sum(SettlementStatement.total_cents), 0)).where(
            SettlementStatement.vpp_id == vpp_id,
            SettlementStatement.trading_date >= start,
            SettlementStatement.trading_date <= end,
        )
    )
    return int(gaps or 0), int(revenue or 0)


def _check_span(report_type: str, start: dt.date, end: dt.date) -> None:
    if report_type not in REPORT_TYPES:
        raise InvalidInputError(
            f"report_type {report_type!r} is not one of {', '.join(REPORT_TYPES)}",
            field="report_type",
        )
    if end < start:
        raise InvalidInputError("end_date is before start_date", field="end_date")
    if (end - start).days > 366:
        raise InvalidInputError("a report spans at most 367 days", field="end_date")


async def operation_report(
    ctx: HubContext,
    session: AsyncSession,
    vpp_id: str,
    start: dt.date,
    end: dt.date,
    report_type: str,
) -> OperationReport:
    _check_span(report_type, start, end)
    vpp = await visible_vpp(session, vpp_id)
    a, b = _bounds(start, end)
    now = dt.datetime.fromtimestamp(ctx.clock.now_ms() / 1000, dt.UTC)
    rows = await session.execute(
        select(
            DispatchInstruction.id,
            DispatchInstruction.parent_id,
            DispatchInstruction.start_time,
            DispatchInstruction.end_time,
            DispatchInstruction.target_power,
            DispatchExecution.instruction_id,
            DispatchExecution.status,
            DispatchExecution.energy_wh,
            DispatchExecution.reason,
        )  # columns, not ORM objects: a dispatch has a row per member
        .outerjoin(DispatchExecution, DispatchExecution.instruction_id == DispatchInstruction.id)
        .where(
            DispatchInstruction.vpp_id == vpp_id,
            DispatchInstruction.start_time >= a,
            DispatchInstruction.start_time < b,
        )
        .order_by(DispatchInstruction.start_time, DispatchInstruction.id)
    )
    groups: dict[str, dict[str, Any]] = {}
    dispatches: dict[str, int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    counts = {"failed": 0, "rejected": 0, "clamped": 0, "unreported": 0}
    abs_dev: list[float] = []
    beyond = 0
    row: Any  # outer-joined: the execution's columns are None without one
    for row in rows:
        iid, parent_id, start_time, end_time, target_power, executed, stored, energy_wh, reason = (
            row
        )
        day = _local_day(start_time).isoformat()
        if parent_id is None:
            dispatches["summary" if report_type == "summary" else day] += 1
            continue
        key = {"summary": "summary", "daily": day}.get(report_type, iid)
        g = groups.setdefault(
            key, {"n": 0, "target": 0.0, "delivered": 0.0, "ok": 0, "taken": 0, "done": 0}
        )
        hours = (end_time - start_time).total_seconds() / 3600
        target = target_power * hours
        status = stored if executed is not None else "unreported"
        energy = energy_wh / 1000 if executed is not None and energy_wh is not None else None
        g["n"] += 1
        g["target"] += target
        g["delivered"] += energy or 0.0
        ended = end_time <= now
        if status in counts and (status != "unreported" or ended):
            counts[status] += 1
        if executed is not None and reason:
            reasons[reason[:120]] += 1
        if status not in ("rejected", "failed", "unreported"):
            g["taken"] += 1
        if ended:
            g["done"] += 1
            if within_tolerance(target, energy):
                g["ok"] += 1
            else:
                beyond += 1
            if energy is not None:
                abs_dev.append(abs(energy - target))
    # a row of the dispatch report is one member instruction (of one dispatch)
    dispatch_of = dict.fromkeys(groups, 1) if report_type == "dispatch" else dispatches
    out_rows = [
        OperationRow(
            key=key,
            dispatch_count=dispatch_of.get(key, 0),
            instructions=g["n"],
            energy_target_kwh=round(g["target"], 3),
            energy_delivered_kwh=round(g["delivered"], 3),
            within_tolerance=g["ok"],
            execution_success_rate=g["ok"] / g["done"] if g["done"] else None,
            availability=g["taken"] / g["n"] if g["n"] else None,
        )
        for key, g in sorted(groups.items())
    ]
    n = sum(g["n"] for g in groups.values())
    done = sum(g["done"] for g in groups.values())
    ok = sum(g["ok"] for g in groups.values())
    rate = ok / done if done else None
    gaps, revenue = await _gaps_and_revenue(session, vpp_id, start, end)
    figures = CarbonFigures()
    for f in (await carbon_by_day(ctx, session, vpp, start, end)).values():
        figures = add(figures, f)
    return OperationReport(
        vpp_id=vpp_id,
        start_date=start,
        end_date=end,
        report_type=report_type,
        availability=sum(g["taken"] for g in groups.values()) / n if n else None,
        energy_delivered_kwh=round(sum(g["delivered"] for g in groups.values()), 3),
        dispatch_count=sum(dispatches.values()),
        execution_success_rate=rate,
        success_target=SUCCESS_TARGET,
        meets_target=None if rate is None else rate >= SUCCESS_TARGET,
        deviations=Deviations(
            total_abs_kwh=round(sum(abs_dev), 3),
            max_abs_kwh=round(max(abs_dev, default=0.0), 3),
            beyond_tolerance=beyond,
        ),
        alarms=Alarms(**counts, ingest_gaps=gaps, reasons=dict(reasons)),
        revenue_yuan=_yuan(revenue),
        carbon=_carbon_out(ctx, figures),
        rows=out_rows,
    )


# --------------------------------------------------------------------------- strategy


async def strategy_report(
    ctx: HubContext, session: AsyncSession, strategy_id: str, period: str
) -> StrategyReport:
    start, end = parse_period(period, ctx)
    strategy = await session.get(TradingStrategy, strategy_id)
    if strategy is None:
        raise NotFoundError(f"strategy {strategy_id} not found", field="strategy_id")
    records = list(
        await session.scalars(
            select(TradingRecord).where(
                TradingRecord.strategy_id == strategy_id,
                TradingRecord.trading_date >= start,
                TradingRecord.trading_date <= end,
                TradingRecord.status != "CANCELLED",
            )
        )
    )
    by_day: dict[dt.date, dict[str, Any]] = {}
    for r in records:
        if r.trading_date is None:
            continue
        g = by_day.setdefault(
            r.trading_date, {"revenue": Decimal(0), "n": 0, "cleared": 0, "kwh": 0.0}
        )
        g["n"] += 1
        if r.cleared_quantity:
            g["cleared"] += 1
            g["kwh"] += r.cleared_quantity
        if r.status == "SETTLED" and r.revenue is not None:
            g["revenue"] += Decimal(str(r.revenue))
    rows = [
        StrategyRow(
            key=day.isoformat(),
            revenue_yuan=g["revenue"].quantize(_CENT),
            records=g["n"],
            cleared=g["cleared"],
            cleared_kwh=round(g["kwh"], 3),
        )
        for day, g in sorted(by_day.items())
    ]
    n = sum(r.records for r in rows)
    total = sum((r.revenue_yuan for r in rows), Decimal("0.00"))
    capture, reason = await _capture_ratio(session, strategy_id, start, end, total)
    return StrategyReport(
        strategy_id=strategy_id,
        vpp_id=strategy.vpp_id,
        period=period,
        start_date=start,
        end_date=end,
        revenue_yuan=total,
        records=n,
        hit_rate=sum(r.cleared for r in rows) / n if n else None,
        capture_ratio=capture,
        capture_ratio_reason=reason,
        risk=risk_metrics([float(r.revenue_yuan) for r in rows]),
        rows=rows,
    )


async def _capture_ratio(
    session: AsyncSession, strategy_id: str, start: dt.date, end: dt.date, realised: Decimal
) -> tuple[float | None, str]:
    """Against perfect foresight, from the strategy's latest completed backtest that
    overlaps the period (hub.strategy's ``performance_comparison``): over exactly the
    period's days, the realised revenue / perfect foresight's net revenue; otherwise the
    backtest's own (simulated) capture ratio. None without such a backtest."""
    backtest = (
        await session.scalars(
            select(StrategyBacktest)
            .where(
                StrategyBacktest.strategy_id == strategy_id,
                StrategyBacktest.status == "COMPLETED",
                StrategyBacktest.start_date <= end,
                StrategyBacktest.end_date >= start,
            )
            .order_by(StrategyBacktest.finished_at.desc(), StrategyBacktest.created_at.desc())
            .limit(1)
        )
    ).first()
    comparison = ((backtest.results or {}) if backtest else {}).get("performance_comparison")
    if backtest is None or not comparison:
        return None, (
            "no completed backtest with a perfect-foresight comparison overlaps the period"
        )
    window = f"backtest {backtest.id} over {backtest.start_date}..{backtest.end_date}"
    foresight = (comparison.get("perfect_foresight") or {}).get("net_revenue")
    if (backtest.start_date, backtest.end_date) == (start, end) and foresight:
        return float(realised) / float(foresight), (
            f"realised revenue / perfect foresight's net revenue of {window}"
        )
    ratio = comparison.get("capture_ratio")
    if not isinstance(ratio, int | float):
        return None, f"{window} has no capture ratio (perfect foresight earned nothing)"
    return float(ratio), f"simulated: the capture ratio of {window} (its window is not the period)"


# --------------------------------------------------------------------------- revenue


async def revenue_report(
    ctx: HubContext,
    session: AsyncSession,
    vpp_id: str,
    dimension: str,
    period: str,
    method: str = "shapley",
) -> RevenueReport:
    if dimension not in DIMENSIONS:
        raise InvalidInputError(
            f"dimension {dimension!r} is not one of {', '.join(DIMENSIONS)}", field="dimension"
        )
    if method not in ALLOCATION_METHODS:
        raise InvalidInputError(
            f"method {method!r} is not one of {', '.join(ALLOCATION_METHODS)}", field="method"
        )
    start, end = parse_period(period, ctx)
    vpp = await visible_vpp(session, vpp_id)
    statements = list(
        await session.scalars(
            select(SettlementStatement)
            .where(
                SettlementStatement.vpp_id == vpp_id,
                SettlementStatement.trading_date >= start,
                SettlementStatement.trading_date <= end,
            )
            .order_by(SettlementStatement.trading_date, SettlementStatement.market_type)
        )
    )
    total = _yuan(sum(s.total_cents for s in statements))
    rows: list[RevenueRow] = []
    carbon_out: CarbonOut | None = None
    if dimension == "time":
        rows = [
            RevenueRow(
                key=s.trading_date.isoformat(),
                label=f"{s.trading_date.isoformat()} {s.market_type}",
                market_type=s.market_type,
                revenue_yuan=_yuan(s.total_cents),
                energy_yuan=_yuan(s.energy_cents),
                deviation_yuan=_yuan(s.deviation_cents),
                penalty_yuan=_yuan(s.penalty_cents),
                ancillary_yuan=_yuan(s.availability_cents + s.mileage_cents),
                dr_yuan=_yuan(s.dr_cents),
                delivered_kwh=s.delivered_kwh,
            )
            for s in statements
        ]
    elif dimension == "strategy":
        rows = await _by_strategy(session, vpp_id, start, end)
        total = sum((r.revenue_yuan for r in rows), Decimal("0.00"))
    elif dimension == "resource":
        rows = await _by_resource(session, [s.id for s in statements], method, total)
    else:
        by_day = await carbon_by_day(ctx, session, vpp, start, end)
        revenue_by_day: dict[dt.date, int] = defaultdict(int)
        for s in statements:
            revenue_by_day[s.trading_date] += s.total_cents
        figures = CarbonFigures()
        for day in sorted(set(by_day) | set(revenue_by_day)):
            f = by_day.get(day, CarbonFigures())
            figures = add(figures, f)
            rows.append(
                RevenueRow(
                    key=day.isoformat(),
                    label=day.isoformat(),
                    revenue_yuan=_yuan(revenue_by_day.get(day, 0)),
                    avoided_kg=round(f.avoided_kg, 3),
                    shifted_kg=round(f.shifted_kg, 3),
                    curtailed_kg=round(f.curtailed_kg, 3),
                    total_kg=round(f.total_kg, 3),
                    delivered_kwh=round(f.metered_kwh, 3),
                )
            )
        carbon_out = _carbon_out(ctx, figures)
    return RevenueReport(
        vpp_id=vpp_id,
        dimension=dimension,
        period=period,
        start_date=start,
        end_date=end,
        total_yuan=total,
        method=method if dimension == "resource" else None,
        carbon=carbon_out,
        rows=rows,
    )


async def _by_strategy(
    session: AsyncSession, vpp_id: str, start: dt.date, end: dt.date
) -> list[RevenueRow]:
    records = await session.execute(
        select(TradingRecord.strategy_id, TradingStrategy.name, TradingRecord.revenue)
        .outerjoin(TradingStrategy, TradingStrategy.id == TradingRecord.strategy_id)
        .where(
            TradingRecord.vpp_id == vpp_id,
            TradingRecord.status == "SETTLED",
            TradingRecord.trading_date >= start,
            TradingRecord.trading_date <= end,
        )
    )
    sums: dict[str, Decimal] = defaultdict(Decimal)
    names: dict[str, str] = {}
    for strategy_id, name, revenue in records:
        key = strategy_id or "unassigned"
        sums[key] += Decimal(str(revenue or 0))
        names[key] = name or ("no strategy" if strategy_id is None else strategy_id)
    grand = sum(sums.values(), Decimal(0))
    return [
        RevenueRow(
            key=key,
            label=names[key],
            revenue_yuan=value.quantize(_CENT),
            share=float(value / grand) if grand else None,
        )
        for key, value in sorted(sums.items())
    ]


async def _by_resource(
    session: AsyncSession, statement_ids: Sequence[str], method: str, total: Decimal
) -> list[RevenueRow]:
    if not statement_ids:
        return []
    rows = await session.execute(
        select(
            SettlementAllocation.resource_id,
            ResourceInstance.name,
            func.sum(SettlementAllocation.amount_cents),
            func.sum(SettlementAllocation.penalty_cents),
            func.sum(SettlementAllocation.delivered_kwh),
        )
        .outerjoin(ResourceInstance, ResourceInstance.id == SettlementAllocation.resource_id)
        .where(
            SettlementAllocation.statement_id.in_(statement_ids),
            SettlementAllocation.method == method,
        )
        .group_by(SettlementAllocation.resource_id, ResourceInstance.name)
        .order_by(SettlementAllocation.resource_id)
    )
    return [
        RevenueRow(
            key=resource_id,
            label=name or resource_id,
            revenue_yuan=_yuan(int(amount)),
            penalty_yuan=_yuan(int(penalty)),
            delivered_kwh=round(float(kwh), 3),
            share=float(_yuan(int(amount)) / total) if total else None,
        )
        for resource_id, name, amount, penalty, kwh in rows
    ]
