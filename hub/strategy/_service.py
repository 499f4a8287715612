"""The strategies use cases (seed 4.2.1): each owns its transaction and its audit entries.

* create / update / list, the config checked by :func:`validate_config` on every save
  (a 422 with one entry per problem and its path);
* the lifecycle (:mod:`._lifecycle`): every status change is checked there and audited
  (``action="transition"``, before/after status and the reason);
* :func:`suspend_strategy`: what the trading loop's circuit breaker calls;
* :func:`active_strategies`: the ACTIVE strategies the trading loop bids with;
* backtests: :func:`submit_backtest` (checks the range against the data, the queue bound),
  :func:`get_backtest`, :func:`cancel_backtest`; the workers are in ``_worker``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._context import HubContext
from hub.auth import SYSTEM, Principal, audit
from hub.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from hub.store import StrategyBacktest, TradingStrategy, Vpp, new_id, row_dict, utcnow
from hub.trading._service import load_limits
from hub.vpps import vpp_members

from ._backtest import Fleet, missing_days
from ._data import SourceError, series_for
from ._lifecycle import Status, editable, transition_problem
from ._schemas import (
    BacktestCreate,
    BacktestOut,
    BacktestProgress,
    StrategyCreate,
    StrategyOut,
    StrategyPage,
    StrategyUpdate,
)
from ._validate import ConfigError, StrategyType, validate_config

ENTITY = "strategy"


def config_digest(strategy_type: str | None, config: dict[str, Any] | None) -> str:
    """What a backtest tested: the type and the config, key order ignored."""
    payload = msgspec.json.encode([strategy_type, config], order="sorted")
    return hashlib.sha256(payload).hexdigest()


def strategy_out(row: TradingStrategy) -> StrategyOut:
    return StrategyOut(
        id=row.id,
        name=row.name,
        vpp_id=row.vpp_id,
        strategy_type=row.strategy_type,
        config=row.config,
        model_version=row.model_version,
        status=row.status,
        performance_metrics=row.performance_metrics,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def checked_config(raw: dict[str, Any], strategy_type: StrategyType) -> dict[str, Any]:
    """The config as stored (the client's JSON) once :func:`validate_config` accepts it;
    otherwise a 422 listing each problem with its path inside ``config``."""
    try:
        validate_config(raw, strategy_type)
    except ConfigError as exc:
        errors = [
            {
                "field": f"config.{p.path}" if p.path else "config",
                "path": p.path,
                "message": p.message,
            }
            for p in exc.problems
        ]
        count = len(errors)
        raise InvalidInputError(
            f"config has {count} problem{'s' if count != 1 else ''}: {exc}", errors=errors
        ) from exc
    return raw


def _model_version(config: dict[str, Any]) -> str | None:
    model = config.get("model_config")
    if isinstance(model, dict) and isinstance(model.get("model_version"), str):
        return str(model["model_version"])[:50]
    return None


async def get_strategy(session: AsyncSession, strategy_id: str) -> TradingStrategy:
    row = await session.get(TradingStrategy, strategy_id)
    if row is None:
        raise NotFoundError(f"strategy {strategy_id} not found")
    return row


async def list_strategies(
    session: AsyncSession,
    *,
    vpp_id: str | None,
    strategy_type: str | None,
    status: str | None,
    page: int,
    size: int,
) -> StrategyPage:
    query = select(TradingStrategy)
    if vpp_id is not None:
        query = query.where(TradingStrategy.vpp_id == vpp_id)
    if strategy_type is not None:
        query = query.where(TradingStrategy.strategy_type == strategy_type)
    if status is not None:
        query = query.where(TradingStrategy.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(TradingStrategy.created_at.desc(), TradingStrategy.id)
        .limit(size)
        .offset((page - 1) * size)
    )
    return StrategyPage(
        items=[strategy_out(r) for r in rows], total=total or 0, page=page, size=size
    )


async def create_strategy(
    session: AsyncSession, who: Principal, data: StrategyCreate
) -> TradingStrategy:
    config = checked_config(data.config, data.strategy_type)
    if await session.get(Vpp, data.vpp_id) is None:
        raise InvalidInputError(f"unknown VPP {data.vpp_id}", field="vpp_id")
    row = TradingStrategy(
        id=new_id(),
        name=data.name,
        vpp_id=data.vpp_id,
        strategy_type=data.strategy_type,
        config=config,
        model_version=_model_version(config),
        status="DRAFT",
    )
    session.add(row)
    await session.flush()
    audit(session, who, "create", ENTITY, row.id, None, row_dict(row))
    await session.commit()
    return row


async def has_finished_backtest(session: AsyncSession, row: TradingStrategy) -> bool:
    """A COMPLETED backtest of the strategy's current type and config exists."""
    found = await session.scalar(
        select(StrategyBacktest.id)
        .where(
            StrategyBacktest.strategy_id == row.id,
            StrategyBacktest.status == "COMPLETED",
            StrategyBacktest.config_digest == config_digest(row.strategy_type, row.config),
        )
        .limit(1)
    )
    return found is not None


async def _transition(
    session: AsyncSession,
    who: Principal,
    row: TradingStrategy,
    target: Status,
    reason: str | None,
) -> None:
    current: Status = row.status  # type: ignore[assignment]
    if current == target:
        return
    backtested = target == "ACTIVE" and await has_finished_backtest(session, row)
    problem = transition_problem(current, target, role=who.role, backtested=backtested)
    if problem is not None:
        raise ConflictError(problem)
    if target == "ACTIVE":
        # One ACTIVE strategy per VPP; the VPP row serialises two activations (PostgreSQL).
        await session.execute(select(Vpp.id).where(Vpp.id == row.vpp_id).with_for_update())
        other = await session.scalar(
            select(TradingStrategy.id).where(
                TradingStrategy.vpp_id == row.vpp_id,
                TradingStrategy.status == "ACTIVE",
                TradingStrategy.id != row.id,
            )
        )
        if other is not None:
            raise ConflictError(
                f"VPP {row.vpp_id} already has an ACTIVE strategy ({other}); suspend it first"
            )
    row.status = target
    audit(
        session,
        who,
        "transition",
        ENTITY,
        row.id,
        {"status": current},
        {"status": target, "reason": reason},
    )


async def update_strategy(
    session: AsyncSession, who: Principal, strategy_id: str, data: StrategyUpdate
) -> TradingStrategy:
    """Name and config first, then the status (so an activation is judged on the config
    it will run). Refused as a whole when any part is."""
    row = await get_strategy(session, strategy_id)
    before = row_dict(row)
    if data.config is not None and data.config != row.config:
        if not editable(row.status):
            raise ConflictError(
                f"strategy {row.id} is ACTIVE: suspend it before changing its config"
            )
        strategy_type: StrategyType = row.strategy_type or "RULE_BASED"  # type: ignore[assignment]
        row.config = checked_config(data.config, strategy_type)
        row.model_version = _model_version(row.config)
    if data.name is not None:
        row.name = data.name
    changed = row_dict(row) != before
    if changed:
        audit(session, who, "update", ENTITY, row.id, before, row_dict(row))
    if data.status is not None:
        await _transition(session, who, row, data.status, data.reason)
    await session.flush()
    await session.commit()
    return row


async def suspend_strategy(
    ctx: HubContext, strategy_id: str, reason: str, *, actor: Principal = SYSTEM
) -> bool:
    """Suspend an ACTIVE strategy (the trading loop's circuit breaker). True when it was
    ACTIVE and is now SUSPENDED; False when it was not ACTIVE (nothing changes, so a
    second trip is harmless). Audited with ``reason``. Raises NotFoundError."""
    async with ctx.sessions() as session:
        row = await session.get(TradingStrategy, strategy_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"strategy {strategy_id} not found")
        if row.status != "ACTIVE":
            return False
        await _transition(session, actor, row, "SUSPENDED", reason)
        await session.commit()
        return True


async def active_strategies(
    session: AsyncSession, vpp_id: str | None = None
) -> list[TradingStrategy]:
    """The ACTIVE strategies (at most one per VPP), oldest first."""
    query = select(TradingStrategy).where(TradingStrategy.status == "ACTIVE")
    if vpp_id is not None:
        query = query.where(TradingStrategy.vpp_id == vpp_id)
    return list(await session.scalars(query.order_by(TradingStrategy.created_at)))


# --------------------------------------------------------------------------- backtests

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


def _num(params: dict[str, Any], key: str, default: float) -> float:
    value = params.get(key)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


async def vpp_fleet(session: AsyncSession, vpp_id: str) -> Fleet:
    """The VPP's batteries (STORAGE members, scaled by their allocation ratio) as one
    :class:`Fleet`, starting each day of the backtest's first at the middle of its band."""
    batteries: list[Fleet] = []
    for mapping, instance, template in await vpp_members(session, vpp_id):
        if template.category != "STORAGE":
            continue
        params: dict[str, Any] = dict(instance.parameters or {})
        share = float(mapping.allocation_ratio)
        rated = _num(params, "rated_kw", float(instance.capacity or 0.0))
        soc_min = _num(params, "soc_min_pct", 10.0)
        soc_max = _num(params, "soc_max_pct", 90.0)
        batteries.append(
            Fleet(
                energy_kwh=share * _num(params, "rated_kwh", 0.0),
                max_charge_kw=share * _num(params, "max_charge_kw", rated),
                max_discharge_kw=share * _num(params, "max_discharge_kw", rated),
                soc_start_pct=(soc_min + soc_max) / 2,
                soc_min_pct=soc_min,
                soc_max_pct=soc_max,
                charge_efficiency=min(max(_num(params, "charge_efficiency", 0.95), 0.01), 1.0),
                discharge_efficiency=min(
                    max(_num(params, "discharge_efficiency", 0.95), 0.01), 1.0
                ),
                resources=1,
            )
        )
    return Fleet.aggregate(batteries)


def backtest_out(row: StrategyBacktest) -> BacktestOut:
    slot_ms = row.slot_reached_ms
    return BacktestOut(
        task_id=row.id,
        status=row.status,  # type: ignore[arg-type]
        progress=BacktestProgress(
            percent=row.progress_pct,
            slots_done=row.slots_done,
            slots_total=row.slots_total,
            slot_reached=None
            if slot_ms is None
            else dt.datetime.fromtimestamp(slot_ms / 1000, dt.UTC),
        ),
        results=row.results,
        error=row.error,
        strategy_id=row.strategy_id,
        start_date=row.start_date,
        end_date=row.end_date,
        market_data_source=row.market_data_source,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


async def get_backtest(session: AsyncSession, strategy_id: str, task_id: str) -> StrategyBacktest:
    row = await session.get(StrategyBacktest, task_id)
    if row is None or row.strategy_id != strategy_id:
        raise NotFoundError(f"backtest {task_id} of strategy {strategy_id} not found")
    return row


async def submit_backtest(
    session: AsyncSession, ctx: HubContext, who: Principal, strategy_id: str, data: BacktestCreate
) -> StrategyBacktest:
    """Queue a backtest of the strategy's current config over ``start_date..end_date``
    (inclusive). 422 for a range the source has no data for (naming it), 503 when the
    queue is full."""
    settings = ctx.settings
    strategy = await get_strategy(session, strategy_id)
    strategy_type: StrategyType = strategy.strategy_type or "RULE_BASED"  # type: ignore[assignment]
    config = checked_config(dict(strategy.config or {}), strategy_type)
    if data.end_date < data.start_date:
        raise InvalidInputError(
            f"end_date {data.end_date} is before start_date {data.start_date}", field="end_date"
        )
    days = (data.end_date - data.start_date).days + 1
    if days > settings.backtest_max_days:
        raise InvalidInputError(
            f"{days} days is more than the {settings.backtest_max_days} a backtest may cover",
            field="end_date",
        )
    try:
        series = await series_for(data.market_data_source, settings.backtest_data_dir, session)
    except SourceError as exc:
        raise InvalidInputError(str(exc), field="market_data_source") from exc
    gap = missing_days(series, data.start_date, data.end_date)
    if gap is not None:
        held = f"{series.start}..{series.end - dt.timedelta(days=1)}"
        raise InvalidInputError(
            f"no market data for {gap[0]}..{gap[1]} in {data.market_data_source} (it holds {held})",
            field="end_date" if gap[0] > data.start_date else "start_date",
        )
    waiting = await session.scalar(
        select(func.count())
        .select_from(StrategyBacktest)
        .where(StrategyBacktest.status.in_(("PENDING", "RUNNING")))
    )
    if (waiting or 0) >= settings.backtest_workers + settings.backtest_queue:
        raise UnavailableError(
            f"the backtest queue is full ({waiting} queued or running); try again later"
        )
    fleet = await vpp_fleet(session, strategy.vpp_id)
    row = StrategyBacktest(
        id=new_id(),
        strategy_id=strategy.id,
        status="PENDING",
        start_date=data.start_date,
        end_date=data.end_date,
        market_data_source=data.market_data_source,
        strategy_type=strategy_type,
        config=config,
        config_digest=config_digest(strategy.strategy_type, strategy.config),
        fleet=msgspec.to_builtins(fleet)
        | {"risk_limits": msgspec.to_builtins(await load_limits(session, strategy.vpp_id))},
        slots_total=days * series.rules.slots_per_day,
        requested_by=who.username,
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        who,
        "backtest",
        ENTITY,
        strategy.id,
        None,
        {
            "task_id": row.id,
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
            "market_data_source": data.market_data_source,
        },
    )
    await session.commit()
    if ctx.backtests is not None:
        ctx.backtests.wake()
    return row


async def cancel_backtest(
    session: AsyncSession, who: Principal, strategy_id: str, task_id: str
) -> StrategyBacktest:
    """A PENDING task is CANCELLED at once; a RUNNING one is asked to stop (its worker
    stops before the next day and marks it CANCELLED). 409 when it has already ended."""
    row = await get_backtest(session, strategy_id, task_id)
    if row.status in TERMINAL:
        raise ConflictError(f"backtest {task_id} has already ended ({row.status})")
    before = {"status": row.status}
    if row.status == "PENDING":
        row.status = "CANCELLED"
        row.finished_at = utcnow()
        row.error = f"cancelled by {who.username} before it started"
    row.cancel_requested = True
    audit(session, who, "cancel_backtest", ENTITY, strategy_id, before, {"task_id": task_id})
    await session.commit()
    return row
