"""Validation of instance parameters against a template's parameter schema."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._types import ParamSpec, ParamValue


class ParameterError(ValueError):
    """A parameter that does not fit the template's schema; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _check_one(name: str, spec: ParamSpec, value: ParamValue) -> ParamValue:
    field = f"parameters.{name}"
    match spec.type:
        case "boolean":
            if not isinstance(value, bool):
                raise ParameterError(field, f"{name} must be a boolean")
            return value
        case "string":
            if not isinstance(value, str):
                raise ParameterError(field, f"{name} must be a string")
            return value
        case "integer" | "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(field, f"{name} must be a number")
            if not math.isfinite(value):
                raise ParameterError(field, f"{name} must be finite")
            if spec.type == "integer" and float(value) != int(value):
                raise ParameterError(field, f"{name} must be an integer")
            if spec.min is not None and value < spec.min:
                raise ParameterError(field, f"{name} must be >= {spec.min}")
            if spec.max is not None and value > spec.max:
                raise ParameterError(field, f"{name} must be <= {spec.max}")
            return value


def resolve_parameters(
    schema: Mapping[str, ParamSpec], given: Mapping[str, ParamValue]
) -> dict[str, ParamValue]:
    """Defaults filled in, every value checked; unknown names and missing required ones fail."""
    for name in given:
        if name not in schema:
            raise ParameterError(f"parameters.{name}", f"unknown parameter {name!r}")
    out: dict[str, ParamValue] = {}
    for name, spec in schema.items():
        if name in given:
            out[name] = _check_one(name, spec, given[name])
        elif spec.default is not None:
            out[name] = spec.default
        elif spec.required:
            raise ParameterError(f"parameters.{name}", f"parameter {name!r} is required")
    return out
