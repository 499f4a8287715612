"""Training tasks: ``POST /ai-models/train`` stores a PENDING task and queues it; the
worker of :class:`ModelRuntime` runs it (RUNNING, progress per walk-forward fold, DONE with
the two registered models, or FAILED with the reason).

History comes from the hub's own data: ``price`` from stored market prices (or a
``series`` given in the request), ``load`` and ``pv`` from telemetry (mean kW per 15
minutes of one device's metric). The forecaster and its seasonal-naive baseline are both
registered through the registry's one path (:func:`hub.models.register`): the forecaster as
a LightGBM text model file stored by hash, the baseline as a ``seasonal_naive`` entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.auth import Principal
from hub.errors import ConflictError, InvalidInputError, NotFoundError
from hub.store import (
    AiTrainingTask,
    MarketConnectorRow,
    MarketDataPoint,
    Telemetry,
    new_id,
    utcnow,
)

from ._features import SLOTS, feature_schema, output_schema
from ._runtime import ModelRuntime, worker_id
from ._schemas import TaskOut, TrainIn
from ._service import register
from ._train import WalkForward

_log = logging.getLogger(__name__)
SLOT_MS: Final = 15 * 60 * 1000
TARGETS: Final = {"price": "price", "load": "load_kw", "pv": "pv_kw"}
MODEL_TYPES: Final = {"price": "price_forecast", "load": "load_forecast", "pv": "pv_forecast"}


def task_out(row: AiTrainingTask) -> TaskOut:
    return TaskOut(
        id=row.id,
        kind=row.kind,
        state=row.state,
        progress=row.progress,
        message=row.message,
        model_id=row.model_id,
        baseline_id=row.baseline_id,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def get_task(session: AsyncSession, task_id: str) -> AiTrainingTask:
    row = await session.get(AiTrainingTask, task_id)
    if row is None:
        raise NotFoundError(f"training task {task_id} not found")
    return row


def _check(data: TrainIn) -> None:
    if data.reference_seed is not None:
        if data.kind != "price":
            raise InvalidInputError("the reference year has prices only", field="reference_seed")
        return
    if data.series is not None:
        if data.start is None:
            raise InvalidInputError("a series needs its first day", field="start")
        return
    if data.kind in {"load", "pv"} and (data.edge_id is None or data.device_id is None):
        raise InvalidInputError(
            f"{data.kind} history needs edge_id and device_id (or a series)", field="edge_id"
        )
    if data.kind == "price" and data.market is None:
        raise InvalidInputError(
            "price history needs a market (connector id or name), a series or reference_seed",
            field="market",
        )
    if data.start is None or data.end is None:
        raise InvalidInputError("stored history needs start and end", field="start")
    if data.end < data.start:
        raise InvalidInputError("end is before start", field="end")


async def start_training(
    ctx: HubContext, runtime: ModelRuntime, who: Principal, data: TrainIn
) -> AiTrainingTask:
    _check(data)
    if data.kind == "price" and data.market is not None and data.series is None:
        async with ctx.sessions() as session:  # an unknown market is a 422 now, not a FAILED task
            found = await session.scalar(
                select(MarketConnectorRow.id).where(
                    (MarketConnectorRow.id == data.market)
                    | (MarketConnectorRow.name == data.market)
                )
            )
        if found is None:
            raise InvalidInputError(f"unknown market connector {data.market!r}", field="market")
    if runtime.queue.full():
        raise ConflictError("the training queue is full; try again later")
    request: dict[str, Any] = {
        k: v for k, v in _plain(data).items() if k != "series" and v is not None
    }
    request["worker"] = worker_id(ctx.settings)
    row = AiTrainingTask(
        id=new_id(), kind=data.kind, state="PENDING", request=request, created_by=who.username
    )
    async with ctx.sessions() as session:
        session.add(row)
        await session.commit()
    runtime.queue.put_nowait(lambda: run_training(ctx, runtime, who, row.id, data))
    return row


def _plain(data: TrainIn) -> dict[str, Any]:
    import msgspec

    out: dict[str, Any] = msgspec.to_builtins(data)
    return out


async def _update(ctx: HubContext, task_id: str, **values: Any) -> None:
    async with ctx.sessions() as session:
        row = await session.get(AiTrainingTask, task_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            await session.commit()


async def telemetry_series(
    session: AsyncSession,
    tenant: str,
    edge_id: str,
    device_id: str,
    metric: str,
    start: dt.date,
    end: dt.date,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Mean kW per 15 minutes (W / 1000) of one metric; slots with no point are NaN."""
    t0 = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp() * 1000)
    n_slots = ((end - start).days + 1) * SLOTS
    t1 = t0 + n_slots * SLOT_MS
    rows = await session.execute(
        select(Telemetry.ts_ms, Telemetry.value).where(
            Telemetry.tenant == tenant,
            Telemetry.edge_id == edge_id,
            Telemetry.device_id == device_id,
            Telemetry.name == metric,
            Telemetry.ts_ms >= t0,
            Telemetry.ts_ms < t1,
        )
    )
    sums = np.zeros(n_slots)
    counts = np.zeros(n_slots)
    for ts_ms, value in rows:
        if value is not None:
            slot = (ts_ms - t0) // SLOT_MS
            sums[slot] += value / 1000.0
            counts[slot] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


async def market_series(
    session: AsyncSession, market: str, market_type: str, start: dt.date, end: dt.date
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Stored 15-minute prices (yuan/MWh) of one market connector (its id or name), slot 0
    of each day at local midnight of the market's timezone; slots with no point are NaN."""
    row = await session.scalar(
        select(MarketConnectorRow).where(
            (MarketConnectorRow.id == market) | (MarketConnectorRow.name == market)
        )
    )
    if row is None:
        raise InvalidInputError(f"unknown market connector {market!r}", field="market")
    rules = row.trading_rules or {}
    slot_minutes = int(rules.get("slot_minutes", 15))
    if slot_minutes != 15:
        raise InvalidInputError(
            f"the day-ahead forecasters need 15-minute slots, {market} has {slot_minutes}",
            field="market",
        )
    zone = ZoneInfo(str(rules.get("timezone", "Asia/Shanghai")))
    t0 = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    n_slots = ((end - start).days + 1) * SLOTS
    points = await session.execute(
        select(MarketDataPoint.slot_start, MarketDataPoint.price_yuan_mwh).where(
            MarketDataPoint.connector_id == row.id,
            MarketDataPoint.market_type == market_type,
            MarketDataPoint.slot_start >= t0,
            MarketDataPoint.slot_start < t0 + dt.timedelta(minutes=15 * n_slots),
        )
    )
    values = np.full(n_slots, np.nan)
    for slot_start, price in points:
        index = int((slot_start - t0).total_seconds() // 900)
        if 0 <= index < n_slots:
            values[index] = price
    return values


async def history(
    ctx: HubContext, data: TrainIn
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], dt.date]:
    if data.reference_seed is not None:
        from hub.markets import reference_year

        year = reference_year(data.reference_seed)
        first = max(data.start or year.start, year.start)
        last = min(data.end or year.end, year.end - dt.timedelta(days=1))
        days = year.day_ahead_yuan_mwh[(first - year.start).days : (last - year.start).days + 1]
        return np.asarray(days, dtype=np.float64).ravel(), first
    if data.series is not None and data.start is not None:
        return np.array(
            [np.nan if v is None else v for v in data.series], dtype=np.float64
        ), data.start
    assert data.start is not None
    assert data.end is not None
    async with ctx.sessions() as session:
        if data.kind == "price":
            assert data.market is not None
            values = await market_series(
                session, data.market, data.market_type, data.start, data.end
            )
            return values, data.start
        assert data.edge_id is not None
        assert data.device_id is not None
        values = await telemetry_series(
            session,
            data.edge_tenant or ctx.settings.tenant,
            data.edge_id,
            data.device_id,
            data.metric,
            data.start,
            data.end,
        )
        return values, data.start


async def run_training(
    ctx: HubContext, runtime: ModelRuntime, who: Principal, task_id: str, data: TrainIn
) -> None:
    target = TARGETS[data.kind]
    try:
        await _update(ctx, task_id, state="RUNNING", message="loading history")
        values, start = await history(ctx, data)
        run = await asyncio.to_thread(
            WalkForward, values, start, folds=data.folds, rounds=data.rounds, level=data.level
        )
        for k in range(run.folds):
            await asyncio.to_thread(run.fit_fold, k)
            await _update(
                ctx, task_id, progress=(k + 1) / run.steps, message=f"fold {k + 1}/{run.folds}"
            )
        trained = await asyncio.to_thread(run.finish, target)
        version = data.version or utcnow().strftime("%Y%m%d.%H%M%S") + "-" + task_id[:8]
        name = data.name or f"builtin-{data.kind}-day-ahead"
        async with ctx.sessions() as session:  # both or neither: one transaction
            baseline = await register(
                session,
                runtime,
                who,
                name=f"{name}-seasonal-naive",
                model_type=MODEL_TYPES[data.kind],
                version=version,
                input_schema=feature_schema(),
                output_schema=output_schema(target),
                max_bytes=ctx.settings.model_max_bytes,
                fmt_override="seasonal_naive",
                calibration_record=trained.baseline_calibration,
                metrics=trained.baseline_metrics,
                training_task_id=task_id,
                commit=False,
            )
            model = await register(
                session,
                runtime,
                who,
                name=name,
                model_type=MODEL_TYPES[data.kind],
                version=version,
                input_schema=feature_schema(),
                output_schema=output_schema(target),
                max_bytes=ctx.settings.model_max_bytes,
                data=trained.model_text.encode("utf-8"),
                calibration_record=trained.calibration,
                metrics=trained.metrics,
                baseline_id=baseline.id,
                training_task_id=task_id,
            )
        await _update(
            ctx,
            task_id,
            state="DONE",
            progress=1.0,
            message=(
                f"MAE {trained.metrics['mae']:.3f} vs seasonal naive "
                f"{trained.baseline_metrics['mae']:.3f}; coverage "
                f"{trained.metrics['coverage']:.3f} at {data.level:g}"
            ),
            model_id=model.id,
            baseline_id=baseline.id,
        )
    except asyncio.CancelledError:
        await asyncio.shield(_update(ctx, task_id, state="FAILED", message="the hub stopped"))
        raise
    except Exception as exc:  # recorded on the task: the client polls for it
        detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
        _log.info("training task %s failed: %s", task_id, detail)
        await _update(ctx, task_id, state="FAILED", message=str(detail)[:500])


__all__ = [
    "get_task",
    "market_series",
    "run_training",
    "start_training",
    "task_out",
    "telemetry_series",
]
