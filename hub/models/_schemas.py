"""Request and response bodies of ``/api/v1/vpp/ai-models`` (seed 4.2.2) and of the
champion/challenger experiments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta

from hub._dto import In, JsonObject, Name, Out, Uuid

ModelStatus = Literal["DRAFT", "ACTIVE", "RETIRED"]
ModelType = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
Version = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.+-]+$")]
Level = Annotated[float, Meta(gt=0.5, lt=1.0)]
Schema = Annotated[dict[str, Any], Meta(max_length=20)]


class Calibration(In, kw_only=True):
    """Held-out rows to calibrate the split-conformal intervals on at registration."""

    input_data: JsonObject
    targets: Annotated[dict[str, list[float]], Meta(max_length=50)]
    """Actual values per output, one per row of ``input_data``."""
    level: Level = 0.9


class ModelRegister(In, kw_only=True):
    name: Name
    model_type: ModelType
    version: Version
    model_file_path: Annotated[str, Meta(min_length=1, max_length=500)]
    """A file inside the hub's model directory (relative to it)."""
    input_schema: Schema
    output_schema: Schema
    calibration: Calibration | None = None


class ModelStatusUpdate(In, kw_only=True):
    status: ModelStatus
    reason: Annotated[str, Meta(max_length=500)] = ""


class ModelSummary(Out, kw_only=True):
    id: str
    name: str
    version: str
    format: str
    status: str
    metrics: dict[str, Any] | None


class ModelOut(Out, kw_only=True):
    id: str
    name: str
    model_type: str
    version: str
    format: str
    model_file_path: str | None
    file_sha256: str | None
    file_size: int | None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    status: str
    calibration: dict[str, Any] | None
    metrics: dict[str, Any] | None
    baseline_id: str | None
    baseline: ModelSummary | None = None
    """The seasonal-naive baseline trained beside a built-in model (with its metrics)."""
    training_task_id: str | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ModelPage(Out, kw_only=True):
    items: list[ModelOut]
    total: int
    page: int
    size: int


class PredictIn(In, kw_only=True):
    input_data: JsonObject


class Interval(Out, kw_only=True):
    lower: list[float]
    upper: list[float]


class PredictOut(Out, kw_only=True):
    predictions: dict[str, list[float]]
    confidence: float | None
    """The nominal coverage of ``intervals`` (None: the model has no calibration)."""
    confidence_method: str
    intervals: dict[str, Interval] | None
    model_version: str
    model_id: str


TrainKind = Literal["price", "load", "pv"]


class TrainIn(In, kw_only=True):
    """Train a built-in day-ahead forecaster from the hub's history.

    ``price``: day-ahead prices (yuan/MWh, 15-minute): the prices of ``market`` stored by
    ``hub.markets`` (``market_data_points``), the ``series`` given, or the reference
    synthetic year (``reference_seed``). ``load`` / ``pv``: the mean power (kW) per 15
    minutes of the telemetry metric ``metric`` of ``edge_id``/``device_id`` (of the tenant
    ``edge_tenant``, default ``VPP_HUB_TENANT``).
    """

    kind: TrainKind
    name: Name | None = None
    version: Version | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    """Last day (inclusive) of the history used."""
    edge_id: Annotated[str, Meta(max_length=64)] | None = None
    device_id: Annotated[str, Meta(max_length=64)] | None = None
    edge_tenant: Annotated[str, Meta(max_length=64)] | None = None
    metric: Annotated[str, Meta(max_length=128)] = "p_w"
    market: Annotated[str, Meta(max_length=100)] | None = None
    """``price``: the market connector (id or name) whose stored prices to train on."""
    market_type: Annotated[str, Meta(max_length=32)] = "SPOT"
    series: Annotated[list[float | None], Meta(max_length=96 * 800)] | None = None
    """A 15-minute series to train on instead of stored history (starts on ``start``)."""
    reference_seed: Annotated[int, Meta(ge=0)] | None = None
    """``price`` only: train on ``hub.markets.reference_year(seed)`` (day-ahead prices; a
    window of it with ``start``/``end``), the shared synthetic year of the demo."""
    folds: Annotated[int, Meta(ge=2, le=12)] = 4
    rounds: Annotated[int, Meta(ge=10, le=5000)] = 150
    level: Level = 0.9


class TaskOut(Out, kw_only=True):
    id: str
    kind: str
    state: str
    progress: float
    message: str
    model_id: str | None
    baseline_id: str | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


SplitBy = Literal["day", "vpp"]


class ExperimentIn(In, kw_only=True):
    slot: Annotated[str, Meta(min_length=1, max_length=100)]
    """The forecast slot (``price.day_ahead``) or strategy (``strategy:<id>``) it serves."""
    champion_id: Uuid
    challenger_id: Uuid
    split_by: SplitBy = "day"
    challenger_share: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.5
    auto_promote: bool = False
    alpha: Annotated[float, Meta(gt=0.0, lt=0.5)] = 0.05
    min_decisions: Annotated[int, Meta(ge=2, le=10_000)] = 20


class ForecastIn(In, kw_only=True):
    input_data: JsonObject
    day: dt.date | None = None
    vpp_id: Uuid | None = None


class ForecastOut(Out, kw_only=True):
    decision_id: str
    arm: str
    model_id: str
    model_version: str
    predictions: dict[str, list[float]]
    confidence: float | None
    intervals: dict[str, Interval] | None


class OutcomeIn(In, kw_only=True):
    actual: Annotated[list[float], Meta(min_length=1, max_length=100_000)]
    revenue: float | None = None
    capture_ratio: float | None = None


class PromoteIn(In, kw_only=True):
    winner_id: Uuid
    reason: Annotated[str, Meta(max_length=500)] = ""


class ArmMetrics(Out, kw_only=True):
    model_id: str
    decisions: int
    resolved: int
    mae: float | None
    """Mean absolute error of this arm's forecasts on the decisions it served."""
    shadow_mae: float | None
    """Its mean absolute error on every resolved decision (served or in shadow)."""
    revenue: float | None
    capture_ratio: float | None


class TestOut(Out, kw_only=True):
    method: str
    n: int
    statistic: float
    p_value: float
    significant: bool


class ExperimentOut(Out, kw_only=True):
    id: str
    slot: str
    champion_id: str
    challenger_id: str
    split_by: str
    challenger_share: float
    auto_promote: bool
    alpha: float
    min_decisions: int
    state: str
    winner_id: str | None
    created_by: str | None
    created_at: dt.datetime
    concluded_at: dt.datetime | None
    arms: dict[str, ArmMetrics] = {}
    test: TestOut | None = None
