"""The backtest workers (I/O): one bounded pool per hub process, tasks from the database.

The queue *is* the ``strategy_backtests`` table: the API inserts PENDING rows (refusing
past ``workers + backtest_queue`` queued or running, over every replica) and wakes the
pool; each of ``Settings.backtest_workers`` workers claims the oldest PENDING task with a
conditional UPDATE (so two replicas never run one task), runs the pure loop
(:func:`run_backtest`) in a worker thread, and every ``PROGRESS_S`` writes its progress and
heartbeat (its lease) and reads ``cancel_requested``.

Restarts. A task running when its hub stops is **resumed**: on a clean shutdown the worker
stops the loop before its next day and puts the task back to PENDING (the next start, or
another replica, takes it up); after a crash its lease (``backtest_lease_s`` without a
heartbeat) runs out and any worker claims it. Either way it runs again from its first day:
the loop is deterministic, so the result is the one an uninterrupted run gives. A task
claimed ``MAX_ATTEMPTS`` times without finishing is marked FAILED with that reason (it may
be what brings the hub down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from types import TracebackType
from typing import Any

import msgspec
from sqlalchemy import or_, select, update

from hub._context import HubContext
from hub.auth import SYSTEM, audit
from hub.store import StrategyBacktest, TradingStrategy, utcnow
from hub.trading import RiskLimits

from ._backtest import Backtest, BacktestCancelled, Fleet, Outcome, Progress, run_backtest
from ._data import SourceError, series_for

_log = logging.getLogger(__name__)

PROGRESS_S = 0.5
MAX_ATTEMPTS = 3


class BacktestPool:
    """Async context manager owning the backtest workers of this process."""

    def __init__(self, ctx: HubContext, *, poll_s: float = 5.0) -> None:
        self._ctx = ctx
        self._workers = ctx.settings.backtest_workers
        self._lease_ms = int(ctx.settings.backtest_lease_s * 1000)
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._group: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def wake(self) -> None:
        """A task was queued: idle workers look now instead of at their next poll."""
        self._wake.set()

    async def __aenter__(self) -> BacktestPool:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        self._tasks = [
            self._group.create_task(self._work(n), name=f"backtest-worker-{n}")
            for n in range(self._workers)
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await group.__aexit__(None, None, None)

    # ------------------------------------------------------------------ the loop

    async def _work(self, n: int) -> None:
        while True:
            try:
                task_id = await self._claim()
            except Exception:  # a database hiccup: log it, try again at the next poll
                _log.exception("backtest worker %s could not claim a task", n)
                task_id = None
            if task_id is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s):
                        await self._wake.wait()
                continue
            await self._execute(task_id)

    async def _claim(self) -> str | None:
        now = self._ctx.clock.now_ms()
        stale = now - self._lease_ms
        async with self._ctx.sessions() as session:
            candidates = list(
                await session.scalars(
                    select(StrategyBacktest.id)
                    .where(
                        or_(
                            StrategyBacktest.status == "PENDING",
                            (StrategyBacktest.status == "RUNNING")
                            & (StrategyBacktest.heartbeat_ms < stale),
                        )
                    )
                    .order_by(StrategyBacktest.created_at, StrategyBacktest.id)
                    .limit(4)
                )
            )
            for task_id in candidates:
                claimed = await session.execute(
                    update(StrategyBacktest)
                    .where(
                        StrategyBacktest.id == task_id,
                        or_(
                            StrategyBacktest.status == "PENDING",
                            (StrategyBacktest.status == "RUNNING")
                            & (StrategyBacktest.heartbeat_ms < stale),
                        ),
                    )
                    .values(
                        status="RUNNING",
                        worker=self.worker_id,
                        heartbeat_ms=now,
                        attempts=StrategyBacktest.attempts + 1,
                        started_at=utcnow(),
                        progress_pct=0.0,
                        slots_done=0,
                        slot_reached_ms=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                await session.commit()
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return task_id
        return None

    def _mine(self, task_id: str) -> Any:
        return (StrategyBacktest.id == task_id) & (StrategyBacktest.worker == self.worker_id)

    async def _set(self, task_id: str, **values: object) -> bool:
        """Update the task if this worker still holds it; False if it does not."""
        async with self._ctx.sessions() as session:
            result = await session.execute(
                update(StrategyBacktest)
                .where(self._mine(task_id))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _execute(self, task_id: str) -> None:
        async with self._ctx.sessions() as session:
            row = await session.get(StrategyBacktest, task_id)
            if row is None:
                return
            if row.attempts > MAX_ATTEMPTS:
                await self._finish(
                    task_id,
                    "FAILED",
                    error=f"gave up after {MAX_ATTEMPTS} attempts: the hub stopped while it ran",
                )
                return
            strategy = await session.get(TradingStrategy, row.strategy_id)
            spec = Backtest(
                strategy_type=row.strategy_type,  # type: ignore[arg-type]
                config=row.config,
                fleet=msgspec.convert(row.fleet, Fleet),
                start=row.start_date,
                end=row.end_date,
                vpp_id=strategy.vpp_id if strategy is not None else "backtest",
                risk_limits=msgspec.convert(row.fleet.get("risk_limits") or {}, RiskLimits),
            )
            source = row.market_data_source
        try:
            async with self._ctx.sessions() as session:
                series = await series_for(source, self._ctx.settings.backtest_data_dir, session)
        except SourceError as exc:
            await self._finish(task_id, "FAILED", error=f"market data: {exc}")
            return
        stop = threading.Event()
        latest: list[Progress] = []

        def progress(p: Progress) -> None:
            latest[:] = [p]

        job = asyncio.ensure_future(
            asyncio.to_thread(
                run_backtest, spec, series, progress=progress, should_stop=stop.is_set
            )
        )
        try:
            while not job.done():
                await asyncio.wait({job}, timeout=PROGRESS_S)
                if not await self._report(task_id, latest):
                    stop.set()  # the lease went to another worker: let it run the task
                    await asyncio.wait({job})
                    _retrieve(job)
                    return
                if await self._cancel_requested(task_id):
                    stop.set()
            outcome: Outcome = job.result()
        except BacktestCancelled:
            await self._report(task_id, latest)
            await self._finish(task_id, "CANCELLED", error="cancelled while it ran")
            return
        except asyncio.CancelledError:
            # The hub is stopping: stop the loop at its next day, hand the task back.
            stop.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait({job})
            _retrieve(job)
            await asyncio.shield(
                self._set(task_id, status="PENDING", worker=None, heartbeat_ms=None)
            )
            raise
        except Exception as exc:
            _log.warning("backtest %s failed: %s", task_id, exc)
            await self._finish(task_id, "FAILED", error=f"{type(exc).__name__}: {exc}"[:1000])
            return
        await self._report(task_id, latest)
        await self._finish(task_id, "COMPLETED", results=outcome.results)

    async def _report(self, task_id: str, latest: list[Progress]) -> bool:
        values: dict[str, object] = {"heartbeat_ms": self._ctx.clock.now_ms()}
        if latest:
            p = latest[0]
            values |= {
                "progress_pct": p.percent,
                "slots_done": p.slots_done,
                "slots_total": p.slots_total,
                "slot_reached_ms": p.slot_reached_ms,
            }
        return await self._set(task_id, **values)

    async def _cancel_requested(self, task_id: str) -> bool:
        async with self._ctx.sessions() as session:
            flag = await session.scalar(
                select(StrategyBacktest.cancel_requested).where(StrategyBacktest.id == task_id)
            )
            return bool(flag)

    async def _finish(
        self,
        task_id: str,
        status: str,
        *,
        error: str | None = None,
        results: dict[str, Any] | None = None,
    ) -> None:
        async with self._ctx.sessions() as session:
            row = await session.get(StrategyBacktest, task_id, with_for_update=True)
            if row is None or row.worker != self.worker_id:
                return
            row.status = status
            row.error = error
            row.finished_at = utcnow()
            row.heartbeat_ms = None
            if results is not None:
                row.results = results
                row.progress_pct = 100.0
                row.slots_done = row.slots_total
                strategy = await session.get(TradingStrategy, row.strategy_id)
                if strategy is not None:
                    before = {"performance_metrics": strategy.performance_metrics}
                    strategy.performance_metrics = _metrics(task_id, row, results)
                    audit(
                        session,
                        SYSTEM,
                        "backtest_completed",
                        "strategy",
                        strategy.id,
                        before,
                        {"performance_metrics": strategy.performance_metrics},
                    )
            await session.commit()


def _retrieve(job: asyncio.Future[Outcome]) -> None:
    """Take the outcome of a run that was stopped (nobody wants it; asyncio must not
    report it as never retrieved)."""
    if job.done() and not job.cancelled():
        job.exception()


def _metrics(task_id: str, row: StrategyBacktest, results: dict[str, Any]) -> dict[str, Any]:
    """The strategy's ``performance_metrics``: the headline of its latest backtest."""
    comparison = results.get("performance_comparison", {})
    risk = results.get("risk_metrics", {})
    return {
        "backtest_task_id": task_id,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "market_data_source": row.market_data_source,
        "total_revenue": results.get("total_revenue"),
        "net_revenue": results.get("net_revenue"),
        "success_rate": results.get("success_rate"),
        "capture_ratio": comparison.get("capture_ratio"),
        "max_drawdown_yuan": risk.get("max_drawdown_yuan"),
        "cvar_95_daily_yuan": risk.get("cvar_95_daily_yuan"),
    }
