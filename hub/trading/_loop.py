"""The automated trading loop: a singleton job of the hub (I/O, :data:`TRADING_JOB`).

Every ``trading_tick_s`` on the hub's clock, while this process leads the job
``trading-loop`` (``hub.jobs``: PostgreSQL advisory lock, in-process lock on SQLite,
with a fencing token checked before a submission is committed), one
:meth:`TradingLoop.step`:

1. resend PENDING submissions (a timeout or a crash left them unconfirmed) under their
   own idempotency key;
2. read each ACTIVE connector's market data (yesterday to tomorrow) into
   ``market_data_points``; a failure counts against the breakers of the VPPs trading there;
3. for each ACTIVE strategy of an ACTIVE VPP whose breaker is closed, in the bidding
   window of a day (``trading_bid_lead_s`` before its gate closure up to it) and with no
   live submission for that day yet: build the :class:`BidRequest` (capacity, storage
   envelope, price forecast known now), ask the strategy, and submit in ``trim`` mode
   (risk limits cut what they must); stale market data trips the breaker instead;
4. read the clearing of SUBMITTED submissions whose gate has closed (records -> CLEARED);
5. dispatch the awards of CLEARED submissions (one market_award plan each);
6. follow the execution of awarded slots that have ended (deviation, P&L, breaker).

A step that fails is logged and counted (``hub_trading_loop_failures_total``) and the
loop goes on; a market that times out or answers garbage only trips breakers.

Restart safety: a submission row is committed before the market is called and every
later step reads its state from the database, so a restarted (or newly elected) loop
resumes where the last one stopped and never bids a day twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import HubError
from hub.jobs import Lease, LeaseLostError, SingletonJob
from hub.markets import ConnectorError, day_start, gate_closure_at, slot_at
from hub.markets._service import fetch_market_data, rules_of
from hub.store import BidSubmissionRow, MarketConnectorRow, TradingStrategy, Vpp

from ._service import (
    LIVE,
    LOOP,
    SubmitRequest,
    breaker_state,
    check_market_data,
    choose_connector,
    collect_clearing,
    dispatch_awards,
    follow_execution,
    note_call,
    now_of,
    price_forecast,
    resend_pending,
    runtime_of,
    submit_bids,
    vpp_capacity,
)
from ._strategy import BidRequest, StrategySpec

if TYPE_CHECKING:
    from hub._context import HubContext

_log = logging.getLogger(__name__)


class StepReport(msgspec.Struct, kw_only=True):
    """What one step did (for logs and tests)."""

    submitted: list[str] = msgspec.field(default_factory=list)
    halted: list[str] = msgspec.field(default_factory=list)
    skipped: list[str] = msgspec.field(default_factory=list)
    cleared: list[str] = msgspec.field(default_factory=list)
    dispatched: list[str] = msgspec.field(default_factory=list)
    followed: int = 0
    errors: list[str] = msgspec.field(default_factory=list)


class TradingLoop:
    """One pass of the loop per :meth:`step` (see the module doc). ``lease``: the
    singleton job's lease; a submission is committed only while it still holds
    (fencing: a leader that lost its lease never sends a bid)."""

    def __init__(self, ctx: HubContext, *, lease: Lease | None = None) -> None:
        self.ctx = ctx
        self.lead_s = ctx.settings.trading_bid_lead_s
        self.lease = lease

    async def _fence(self, session: AsyncSession) -> None:
        if self.lease is not None:
            await self.lease.check(session)

    async def guarded_step(self) -> StepReport:
        try:
            return await self.step()
        except LeaseLostError:
            raise
        except Exception:  # the loop goes on; the failure is logged and counted
            self.ctx.metrics.trading_loop_failures.inc()
            _log.exception("trading loop step failed")
            return StepReport(errors=["step failed"])

    async def step(self) -> StepReport:
        if self.lease is not None and self.lease.lost:
            raise LeaseLostError(self.lease.name)
        report = StepReport()
        await self._resend(report)
        await self._market_data(report)
        await self._bid(report)
        await self._clear(report)
        await self._follow(report)
        return report

    async def _ids(self, *status: str) -> list[str]:
        async with self.ctx.sessions() as session:
            rows = await session.scalars(
                select(BidSubmissionRow.id)
                .where(BidSubmissionRow.status.in_(status))
                .order_by(BidSubmissionRow.created_at, BidSubmissionRow.id)
            )
            return list(rows)

    async def _resend(self, report: StepReport) -> None:
        for sub_id in await self._ids("PENDING"):
            try:
                outcome = await resend_pending(self.ctx, sub_id)
            except HubError as exc:
                report.errors.append(f"resend {sub_id}: {exc.detail}")
                continue
            if outcome is not None:
                report.submitted.append(sub_id)

    async def _market_data(self, report: StepReport) -> None:
        ctx = self.ctx
        if ctx.markets is None:
            return
        now = now_of(ctx)
        async with ctx.sessions() as session:
            ids = list(
                await session.scalars(
                    select(MarketConnectorRow.id).where(MarketConnectorRow.status == "ACTIVE")
                )
            )
        for connector_id in ids:
            async with ctx.sessions() as session:
                row = await session.get(MarketConnectorRow, connector_id)
                assert row is not None
                name, market_type, rules = row.name, row.market_type, rules_of(row)
                today, _ = slot_at(rules, now)
                start = day_start(rules, today - dt.timedelta(days=1))
                end = day_start(rules, today + dt.timedelta(days=2))
                try:
                    await fetch_market_data(session, ctx.markets, row, start, end)
                    await session.commit()
                    continue
                except ConnectorError as exc:
                    await session.rollback()
                    ctx.metrics.trading_connector_errors.labels(name, type(exc).__name__).inc()
                    report.errors.append(f"market data of {name}: {exc}")
            for vpp_id in await self._vpps_on(market_type):
                await note_call(ctx, vpp_id, error=True)

    async def _vpps_on(self, market_type: str) -> list[str]:
        async with self.ctx.sessions() as session:
            vpps = await session.scalars(
                select(TradingStrategy.vpp_id)
                .join(Vpp, Vpp.id == TradingStrategy.vpp_id)
                .where(
                    TradingStrategy.status == "ACTIVE",
                    Vpp.status == "ACTIVE",
                    Vpp.market_type == market_type,
                )
                .distinct()
            )
            return list(vpps)

    async def _bid(self, report: StepReport) -> None:
        ctx = self.ctx
        async with ctx.sessions() as session:
            rows = await session.execute(
                select(TradingStrategy, Vpp)
                .join(Vpp, Vpp.id == TradingStrategy.vpp_id)
                .where(TradingStrategy.status == "ACTIVE", Vpp.status == "ACTIVE")
                .order_by(TradingStrategy.vpp_id, TradingStrategy.created_at)
            )
            work = [
                (
                    StrategySpec(
                        strategy_id=s.id,
                        vpp_id=s.vpp_id,
                        name=s.name,
                        strategy_type=s.strategy_type,
                        config=dict(s.config or {}),
                        model_version=s.model_version,
                    ),
                    v.market_type or "SPOT",
                )
                for s, v in rows
            ]
        seen: set[str] = set()
        for spec, market_type in work:
            if spec.vpp_id in seen:  # one strategy bids for a VPP (the oldest ACTIVE one)
                continue
            seen.add(spec.vpp_id)
            try:
                await self._bid_one(spec, market_type, report)
            except HubError as exc:
                report.errors.append(f"{spec.vpp_id}: {exc.detail}")
                _log.info("trading loop: no bids for VPP %s: %s", spec.vpp_id, exc.detail)

    async def _bid_one(self, spec: StrategySpec, market_type: str, report: StepReport) -> None:
        ctx = self.ctx
        now = now_of(ctx)
        async with ctx.sessions() as session:
            market_id = spec.config.get("market_id")
            row = await choose_connector(
                session, market_type, market_id if isinstance(market_id, str) else None
            )
            rules = rules_of(row)
            today, _ = slot_at(rules, now)
            day = next(
                (
                    d
                    for d in (today + dt.timedelta(days=1), today + dt.timedelta(days=2))
                    if gate_closure_at(rules, d) - dt.timedelta(seconds=self.lead_s)
                    <= now
                    < gate_closure_at(rules, d)
                ),
                None,
            )
            if day is None:
                return
            state = await breaker_state(session, spec.vpp_id)
            tripped = state.state == "TRIPPED"
            live = await session.scalar(
                select(BidSubmissionRow.id).where(
                    BidSubmissionRow.vpp_id == spec.vpp_id,
                    BidSubmissionRow.connector_id == row.id,
                    BidSubmissionRow.trading_date == day,
                    BidSubmissionRow.status.in_(LIVE),
                )
            )
            forecast, newest = await price_forecast(session, row, rules, day)
            capacity = await vpp_capacity(session, ctx, spec.vpp_id)
            await session.commit()
        if tripped:
            report.halted.append(spec.vpp_id)
            return
        if live is not None:
            return
        age = math.inf if newest is None else (now - newest).total_seconds()
        known = [p for p in forecast if p is not None]
        if not known:
            age = math.inf
        if await check_market_data(ctx, spec.vpp_id, age) is not None:
            report.halted.append(spec.vpp_id)
            return
        strategy = runtime_of(ctx).strategy_for(spec)
        if strategy is None:
            report.skipped.append(f"{spec.vpp_id}: no strategy for {spec.name}")
            return
        mean = sum(known) / len(known)
        n = rules.slots_per_day
        request = BidRequest(
            vpp_id=spec.vpp_id,
            strategy_id=spec.strategy_id,
            market_type=row.market_type,  # type: ignore[arg-type]
            trading_date=day,
            rules=rules,
            known_at=now,
            price_forecast_yuan_mwh=[mean if p is None else p for p in forecast],
            available_up_kw=[capacity.up_kw] * n,
            available_down_kw=[capacity.down_kw] * n,
            storage=capacity.storage,
        )
        bids = list(await strategy.bids(request))
        if not bids:
            report.skipped.append(f"{spec.vpp_id}: {strategy.name} made no bids for {day}")
            return
        outcome = await submit_bids(
            ctx,
            SubmitRequest(
                vpp_id=spec.vpp_id,
                market_type=row.market_type,  # type: ignore[arg-type]
                trading_date=day,
                bids=bids,
                strategy_id=spec.strategy_id,
                market_id=row.id,
                origin="auto",
            ),
            who=LOOP,
            fence=self._fence,
        )
        report.submitted.append(outcome.submission_id)

    async def _clear(self, report: StepReport) -> None:
        ctx = self.ctx
        now = now_of(ctx)
        for sub_id in await self._ids("SUBMITTED"):
            async with ctx.sessions() as session:
                sub = await session.get(BidSubmissionRow, sub_id)
                assert sub is not None
                row = await session.get(MarketConnectorRow, sub.connector_id)
                assert row is not None
                closed = now >= gate_closure_at(rules_of(row), sub.trading_date)
            if closed and await collect_clearing(ctx, sub_id):
                report.cleared.append(sub_id)
        for sub_id in await self._ids("CLEARED"):
            if await dispatch_awards(ctx, sub_id):
                report.dispatched.append(sub_id)

    async def _follow(self, report: StepReport) -> None:
        async with self.ctx.sessions() as session:
            ids = list(
                await session.scalars(
                    select(BidSubmissionRow.id)
                    .where(
                        BidSubmissionRow.status == "CLEARED",
                        BidSubmissionRow.award_instructions.is_not(None),
                        BidSubmissionRow.executed_slots < 96,
                    )
                    .order_by(BidSubmissionRow.trading_date, BidSubmissionRow.id)
                )
            )
        for sub_id in ids:
            report.followed += await follow_execution(self.ctx, sub_id)


async def run_trading_step(ctx: HubContext, lease: Lease) -> None:
    """The singleton job's run: one step as the elected leader."""
    report = await TradingLoop(ctx, lease=lease).guarded_step()
    if report.submitted or report.halted or report.cleared or report.errors:
        _log.info(
            "trading loop: submitted %s, halted %s, cleared %s, dispatched %s, followed %d, "
            "errors %s",
            report.submitted,
            report.halted,
            report.cleared,
            report.dispatched,
            report.followed,
            report.errors,
        )


TRADING_JOB = SingletonJob(
    name="trading-loop",
    interval_s=lambda settings: settings.trading_tick_s,
    run=run_trading_step,
    enabled=lambda settings: settings.trading_loop,
)
"""The automated trading loop as a singleton job (``hub.app.JOBS``): one leader among
the hub processes (PostgreSQL advisory lock, in-process lock on SQLite, with fencing)."""
