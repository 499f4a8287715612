"""AI models: the registry (seed 4.2.2), safe model files, built-in day-ahead forecasters
with intervals, champion/challenger experiments.

Pure logic (no I/O, importable by the backtest): the schema checks (:func:`parse_schema`,
:func:`rows_of`), the forecasters' features (:func:`day_features`, :func:`dataset`,
:func:`seasonal_naive`), metrics and split-conformal intervals (:func:`forecast_metrics`,
:func:`conformal_quantile`), the Diebold-Mariano test and the traffic split
(:func:`arm_for`). Model files, LightGBM training, the service and the controllers load
lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._features import (
    FEATURES,
    HISTORY_DAYS,
    SLOTS,
    as_days,
    dataset,
    day_features,
    feature_schema,
    output_schema,
    seasonal_naive,
)
from ._metrics import (
    DEFAULT_LEVEL,
    DmResult,
    ForecastMetrics,
    conformal_quantile,
    diebold_mariano,
    forecast_metrics,
    mae,
    pinball,
    rmse,
)
from ._schema import Feature, SchemaError, parse_schema, rows_of
from ._split import Arm, SplitBy, arm_for

if TYPE_CHECKING:
    from ._controller import AiExperimentController, AiModelController
    from ._experiments import Serving, forecast, promote, record_outcome, serving_model
    from ._formats import (
        TRUSTED_TYPES,
        ModelFileError,
        ModelLoadError,
        Predictor,
        SchemaMismatchError,
        UnsafeFormatError,
        load,
        sniff,
    )
    from ._runtime import ModelRuntime, models_lifespan
    from ._service import change_status, predict, register, run_model
    from ._train import Trained, WalkForward, train

_LAZY = {
    "AiExperimentController": "._controller",
    "AiModelController": "._controller",
    "forecast": "._experiments",
    "promote": "._experiments",
    "record_outcome": "._experiments",
    "Serving": "._experiments",
    "serving_model": "._experiments",
    "TRUSTED_TYPES": "._formats",
    "ModelFileError": "._formats",
    "ModelLoadError": "._formats",
    "Predictor": "._formats",
    "SchemaMismatchError": "._formats",
    "UnsafeFormatError": "._formats",
    "load": "._formats",
    "sniff": "._formats",
    "ModelRuntime": "._runtime",
    "models_lifespan": "._runtime",
    "change_status": "._service",
    "predict": "._service",
    "register": "._service",
    "run_model": "._service",
    "Trained": "._train",
    "WalkForward": "._train",
    "train": "._train",
}

__all__ = [
    "DEFAULT_LEVEL",
    "FEATURES",
    "HISTORY_DAYS",
    "SLOTS",
    "TRUSTED_TYPES",
    "AiExperimentController",
    "AiModelController",
    "Arm",
    "DmResult",
    "Feature",
    "ForecastMetrics",
    "ModelFileError",
    "ModelLoadError",
    "ModelRuntime",
    "Predictor",
    "SchemaError",
    "SchemaMismatchError",
    "Serving",
    "SplitBy",
    "Trained",
    "UnsafeFormatError",
    "WalkForward",
    "arm_for",
    "as_days",
    "change_status",
    "conformal_quantile",
    "dataset",
    "day_features",
    "diebold_mariano",
    "feature_schema",
    "forecast",
    "forecast_metrics",
    "load",
    "mae",
    "models_lifespan",
    "output_schema",
    "parse_schema",
    "pinball",
    "predict",
    "promote",
    "record_outcome",
    "register",
    "rmse",
    "rows_of",
    "run_model",
    "seasonal_naive",
    "serving_model",
    "sniff",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
