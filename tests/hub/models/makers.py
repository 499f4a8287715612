"""Real model files made in the tests: LightGBM text models, ONNX graphs, skops files."""

from __future__ import annotations

import datetime as dt
from typing import Any

import lightgbm
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES3 = ["a", "b", "c"]


def schema(names: list[str], kind: str = "number") -> dict[str, Any]:
    return {"type": "object", "properties": {n: {"type": kind} for n in names}}


def linear_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 3))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 0.5 * x[:, 2] + rng.normal(0, 0.1, n)
    return x, y


def lightgbm_text(
    names: list[str] | None = FEATURES3, rounds: int = 30, offset: float = 0.0
) -> tuple[str, Any]:
    """A small regression booster on 3 features (named, or anonymous ``Column_i``)."""
    x, y = linear_data()
    data = lightgbm.Dataset(x, y + offset, feature_name=names or "auto")
    booster = lightgbm.train(
        {"objective": "regression", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5},
        data,
        num_boost_round=rounds,
    )
    return booster.model_to_string(), booster


def onnx_linear(weights: list[float], bias: float, width: int | None = None) -> bytes:
    """``Y = X @ W + b`` with X rows x ``len(weights)`` floats."""
    n = width if width is not None else len(weights)
    w = numpy_helper.from_array(np.array(weights, dtype=np.float32).reshape(-1, 1), "W")
    b = numpy_helper.from_array(np.array([bias], dtype=np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["XW"]),
            helper.make_node("Add", ["XW", "B"], ["Y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", n])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 1])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def synthetic_prices(
    days: int, seed: int = 1, start: dt.date = dt.date(2026, 1, 1)
) -> np.ndarray[Any, Any]:
    """15-minute prices (yuan/MWh): a daily shape with two peaks, a weekly cycle (cheaper
    weekends), a slow seasonal drift, AR(1) day-level shocks and slot noise."""
    rng = np.random.default_rng(seed)
    slot = np.arange(96)
    hour = slot / 4
    shape = (
        80 * np.exp(-((hour - 10) ** 2) / 6)
        + 120 * np.exp(-((hour - 19) ** 2) / 4)
        - 40 * np.exp(-((hour - 13) ** 2) / 3)
    )
    out = np.empty((days, 96))
    level = 0.0
    for d in range(days):
        weekday = (start + dt.timedelta(days=d)).weekday()
        level = 0.7 * level + rng.normal(0, 25)
        weekend = -60 if weekday >= 5 else 0
        season = 40 * np.sin(2 * np.pi * d / 365)
        out[d] = (
            350
            + season
            + weekend
            + level
            + shape * (1.2 if weekday < 5 else 0.7)
            + rng.normal(0, 15, 96)
        )
    return out.ravel()
