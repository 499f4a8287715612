"""A model's declared inputs and outputs (seed 4.2.2 ``input_schema`` / ``output_schema``).

Both are JSON-Schema objects: ``{"type": "object", "properties": {name: {"type": ...}}}``.
Every property of ``input_schema`` is a feature the model needs, in the order of
``properties`` (the column order of a tensor input). A feature is ``number``, ``integer``
or ``boolean``, or an ``array`` of those; in ``input_data`` each feature is one value (one
row) or a list of values (one per row, every feature the same length: 96 for a day of
15-minute slots). Every property of ``output_schema`` is one output, one value per row.

Pure: no I/O, importable by the backtest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt

ScalarKind = Literal["number", "integer", "boolean"]
_KINDS: Final = ("number", "integer", "boolean")
MAX_FEATURES: Final = 2000
MAX_ROWS: Final = 100_000


class SchemaError(ValueError):
    """A schema or an input that does not fit it; ``field`` names where (a REST path)."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class Feature(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: ScalarKind


def _kind(spec: object, where: str) -> ScalarKind:
    if not isinstance(spec, Mapping):
        raise SchemaError("each property must be an object with a type", field=where)
    kind = spec.get("type")
    if kind == "array":
        items = spec.get("items")
        if not isinstance(items, Mapping) or items.get("type") not in _KINDS:
            raise SchemaError(
                "an array property needs items of type number, integer or boolean", field=where
            )
        kind = items["type"]
    if kind not in _KINDS:
        raise SchemaError(
            f"type must be number, integer, boolean or an array of them, not {kind!r}",
            field=where,
        )
    out: ScalarKind = kind
    return out


def parse_schema(schema: Mapping[str, Any], field: str) -> list[Feature]:
    """The properties of a schema, in order.

    >>> [f.name for f in parse_schema({"properties": {"a": {"type": "number"}}}, "s")]
    ['a']
    """
    if schema.get("type", "object") != "object":
        raise SchemaError("must be a JSON Schema of type object", field=field)
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props:
        raise SchemaError("needs at least one entry in properties", field=f"{field}.properties")
    if len(props) > MAX_FEATURES:
        raise SchemaError(f"at most {MAX_FEATURES} properties", field=f"{field}.properties")
    features = [
        Feature(name=str(name), kind=_kind(spec, f"{field}.properties.{name}"))
        for name, spec in props.items()
    ]
    required = schema.get("required")
    if required is not None:
        if not isinstance(required, Sequence) or isinstance(required, str):
            raise SchemaError("must be a list of property names", field=f"{field}.required")
        unknown = [r for r in required if r not in props]
        if unknown:
            raise SchemaError(
                f"names no property: {', '.join(map(str, unknown))}", field=f"{field}.required"
            )
    return features


def _check_value(value: object, kind: ScalarKind, where: str) -> float:
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SchemaError(f"must be a boolean, not {type(value).__name__}", field=where)
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"must be a {kind}, not {type(value).__name__}", field=where)
    if kind == "integer" and not float(value).is_integer():
        raise SchemaError("must be an integer", field=where)
    if not math.isfinite(value):
        raise SchemaError("must be finite", field=where)
    return float(value)


_NUMERIC: Final = frozenset({int, float})


def _column(values: list[Any], kind: ScalarKind, where: str) -> npt.NDArray[np.float64]:
    """One feature's values as floats: checked at once when they are all of the right
    type, value by value (to name the first bad one) when not."""
    allowed = frozenset({bool}) if kind == "boolean" else _NUMERIC
    if all(type(v) in allowed for v in values):
        column = np.asarray(values, dtype=np.float64)
        bad = ~np.isfinite(column)
        if kind == "integer":
            bad |= column != np.round(column)
        if not bad.any():
            return column
        first = int(np.flatnonzero(bad)[0])
        _check_value(values[first], kind, f"{where}[{first}]")
    return np.asarray(
        [_check_value(v, kind, f"{where}[{i}]") for i, v in enumerate(values)], dtype=np.float64
    )


def rows_of(
    features: Sequence[Feature], input_data: Mapping[str, Any], field: str = "input_data"
) -> npt.NDArray[np.float64]:
    """``input_data`` as a matrix (rows x features, in schema order), each value checked
    against its feature's type; the first problem raises naming the feature.

    >>> rows_of([Feature(name="a", kind="number")], {"a": [1, 2]}).shape
    (2, 1)
    """
    columns: list[npt.NDArray[np.float64]] = []
    n_rows: int | None = None
    for feature in features:
        where = f"{field}.{feature.name}"
        if feature.name not in input_data:
            raise SchemaError(f"missing feature {feature.name!r}", field=where)
        value = input_data[feature.name]
        values = value if isinstance(value, list) else [value]
        if not values:
            raise SchemaError("needs at least one value", field=where)
        if len(values) > MAX_ROWS:
            raise SchemaError(f"at most {MAX_ROWS} values", field=where)
        if n_rows is None:
            n_rows = len(values)
        elif len(values) != n_rows:
            raise SchemaError(
                f"has {len(values)} values where the other features have {n_rows}", field=where
            )
        columns.append(_column(values, feature.kind, where))
    unknown = [k for k in input_data if k not in {f.name for f in features}]
    if unknown:
        raise SchemaError(
            f"is not a feature of this model: {unknown[0]!r}", field=f"{field}.{unknown[0]}"
        )
    return np.ascontiguousarray(np.column_stack(columns))


__all__ = ["MAX_ROWS", "Feature", "ScalarKind", "SchemaError", "parse_schema", "rows_of"]
