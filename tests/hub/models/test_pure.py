"""Pure parts of hub.models: input checks, conformal quantiles, Diebold-Mariano, the split."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hub.models import (
    Feature,
    SchemaError,
    arm_for,
    conformal_quantile,
    diebold_mariano,
    forecast_metrics,
    parse_schema,
    pinball,
    rows_of,
)

FEATURES = [
    Feature(name="x", kind="number"),
    Feature(name="n", kind="integer"),
    Feature(name="on", kind="boolean"),
]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"x": [1.0, True], "n": [1, 2], "on": [True, False]}, "input_data.x[1]"),
        ({"x": [1.0, 2.0], "n": [1, 2.5], "on": [True, False]}, "input_data.n[1]"),
        ({"x": [1.0, 2.0], "n": [1, 2], "on": [True, 1]}, "input_data.on[1]"),
        ({"x": [1.0, "2"], "n": [1, 2], "on": [True, False]}, "input_data.x[1]"),
        ({"x": [[1.0]], "n": [1], "on": [True]}, "input_data.x[0]"),
        ({"x": [], "n": [], "on": []}, "input_data.x"),
        ({"x": [1.0], "n": [1], "on": [True], "y": [1.0]}, "input_data.y"),
        ({"x": [1.0], "on": [True]}, "input_data.n"),
    ],
)
def test_an_input_that_does_not_fit_names_the_feature(data: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        rows_of(FEATURES, data)
    assert caught.value.field == field


def test_inputs_become_rows_in_schema_order() -> None:
    rows = rows_of(FEATURES, {"on": [True, False], "n": [3, 4], "x": [0.5, 1.5]})
    np.testing.assert_array_equal(rows, [[0.5, 3, 1], [1.5, 4, 0]])
    assert rows_of(FEATURES, {"x": 1, "n": 2, "on": False}).shape == (1, 3)


def test_schemas_need_typed_properties() -> None:
    assert [
        f.kind
        for f in parse_schema(
            {"properties": {"a": {"type": "array", "items": {"type": "integer"}}}}, "s"
        )
    ] == ["integer"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "array"}, "s"),
        ({"properties": {"a": {"type": "array"}}}, "s.properties.a"),
        ({"properties": {"a": 1}}, "s.properties.a"),
        ({"properties": {"a": {"type": "number"}}, "required": ["b"]}, "s.required"),
    ]
    for schema, field in cases:
        with pytest.raises(SchemaError) as caught:
            parse_schema(schema, "s")
        assert caught.value.field == field


def test_split_conformal_intervals_cover_at_their_level_on_exchangeable_data() -> None:
    rng = np.random.default_rng(0)
    calibration, test = rng.standard_t(4, 2000), rng.standard_t(4, 20000)
    q = conformal_quantile(calibration, 0.9)
    metrics = forecast_metrics(test, np.zeros_like(test), q, 0.9)
    assert abs(metrics.coverage - 0.9) < 0.02
    assert metrics.pinball == pytest.approx(
        (pinball(test, np.full_like(test, -q), 0.05) + pinball(test, np.full_like(test, q), 0.95))
        / 2
    )


def test_diebold_mariano_finds_a_better_forecast_and_not_an_equal_one() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(0, 1, 60)
    good = np.abs(truth - (truth + rng.normal(0, 0.5, 60)))
    bad = np.abs(truth - (truth + rng.normal(0, 1.5, 60)))
    assert diebold_mariano(bad, good).p_value < 0.01
    assert diebold_mariano(good, bad).p_value > 0.99
    same = rng.normal(1, 0.2, 60)
    assert diebold_mariano(same, same).p_value == 0.5
    assert math.isclose(diebold_mariano(np.ones(1), np.zeros(1)).p_value, 1.0)


def test_the_split_sends_about_the_share_to_the_challenger_and_is_stable() -> None:
    units = [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    arms = [arm_for("exp-1", u, 0.3) for u in units]
    assert abs(arms.count("challenger") / len(arms) - 0.3) < 0.06
    assert arms == [arm_for("exp-1", u, 0.3) for u in units]
    assert arms != [arm_for("exp-2", u, 0.3) for u in units]
