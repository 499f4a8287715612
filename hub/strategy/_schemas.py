"""Request and response bodies of ``/api/v1/vpp/strategies`` (seed 4.2.1).

``config`` is taken as a JSON object and checked by :func:`~hub.strategy.validate_config`
(every problem with its path); the REST layer only bounds its size. Money in yuan, prices
in the strategy engine's yuan/MWh, dates ``YYYY-MM-DD`` (market days, inclusive).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta

from hub._dto import In, JsonObject, Name, Out, Uuid

from ._validate import StrategyType

StrategyStatus = Literal["DRAFT", "TESTING", "ACTIVE", "SUSPENDED"]
BacktestStatus = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
Source = Annotated[str, Meta(min_length=1, max_length=500)]


class StrategyCreate(In, kw_only=True):
    name: Name
    vpp_id: Uuid
    strategy_type: StrategyType
    config: JsonObject


class StrategyUpdate(In, kw_only=True):
    name: Name | None = None
    config: JsonObject | None = None
    status: StrategyStatus | None = None
    reason: Annotated[str, Meta(max_length=500)] | None = None
    """Why the status changes (kept in the audit log); optional."""


class StrategyOut(Out, kw_only=True):
    id: str
    name: str
    vpp_id: str
    strategy_type: str | None
    config: dict[str, Any] | None
    model_version: str | None
    status: str
    performance_metrics: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime


class StrategyPage(Out, kw_only=True):
    items: list[StrategyOut]
    total: int
    page: int
    size: int


class BacktestCreate(In, kw_only=True):
    start_date: dt.date
    end_date: dt.date
    """Inclusive."""
    market_data_source: Source = "synthetic"
    """``synthetic`` (the reference synthetic price year; ``synthetic:<seed>``),
    ``market:<id>`` (stored market data), or ``csv:<file>`` (a CSV file inside the
    configured ``backtest_data_dir``)."""


class BacktestAccepted(Out, kw_only=True):
    task_id: str
    status: BacktestStatus


class BacktestProgress(Out, kw_only=True):
    percent: float
    slots_done: int
    slots_total: int
    slot_reached: dt.datetime | None
    """Start of the last delivery slot simulated (None before the first)."""


class BacktestOut(Out, kw_only=True):
    task_id: str
    status: BacktestStatus
    progress: BacktestProgress
    results: dict[str, Any] | None = None
    error: str | None = None
    strategy_id: str
    start_date: dt.date
    end_date: dt.date
    market_data_source: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
