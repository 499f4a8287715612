"""Template parameter schemas (in either form) and instance parameters checked against them."""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec

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


# --------------------------------------------------------------------------- template schemas

_SPEC_KEYS = frozenset(ParamSpec.__struct_fields__)
_FORMS = (
    "give every parameter as a plain value ({name: value}) "
    "or every one as a schema entry ({name: {type, default, ...}})"
)


def _inferred(name: str, value: object) -> ParamSpec:
    """The schema entry of a plain value: that default, the type JSON gives it."""
    field = f"parameters.{name}"
    match value:
        case bool():
            return ParamSpec(type="boolean", default=value)
        case int() | float():
            if not math.isfinite(value):
                raise ParameterError(field, f"{name} must be finite")
            # JSON (and JavaScript, the seed's client language) writes 500.0 as 500, so a
            # whole number is a number, not an integer: 499.5 must still fit later.
            return ParamSpec(type="number", default=value)
        case str():
            return ParamSpec(type="string", default=value)
        case None:
            raise ParameterError(
                field, f"{name} is null: a plain value is a number, boolean or string"
            )
        case _:
            raise ParameterError(
                field,
                f"{name} is an array: parameter values are numbers, booleans or strings "
                "(give each element its own parameter)",
            )


def _entry(name: str, value: Mapping[str, object]) -> ParamSpec:
    """A schema-form entry, checked: known keys, a default that fits it, min <= max."""
    field = f"parameters.{name}"
    unknown = sorted(str(k) for k in value if k not in _SPEC_KEYS)
    if unknown:
        raise ParameterError(
            field,
            f"{name} is an object with key {unknown[0]!r}, so it is read as a schema entry, "
            f"whose keys are {', '.join(sorted(_SPEC_KEYS))}; nested objects are not "
            "parameter values (give each member its own parameter)",
        )
    try:
        spec = msgspec.convert(value, ParamSpec)
    except msgspec.ValidationError as exc:
        raise ParameterError(field, f"{name}: {exc}") from exc
    for bound in (spec.min, spec.max):
        if bound is not None and not math.isfinite(bound):
            raise ParameterError(field, f"{name}: min and max must be finite")
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise ParameterError(field, f"{name}: min {spec.min} is above max {spec.max}")
    if spec.default is not None:
        _check_one(name, spec, spec.default)
    return spec


def template_parameters(raw: Mapping[str, object]) -> dict[str, ParamSpec]:
    """A template's ``parameters`` in either of its two forms, as a schema.

    * plain values (the seed's ``{"rated_power_kw": 500}``): each becomes an optional
      parameter with that default, typed ``number`` / ``boolean`` / ``string``;
    * schema entries (``{"rated_kw": {"type": "number", "unit": "kW", "required": true}}``).

    An object value is always a schema entry. Mixing the forms, null, arrays and objects
    that are not schema entries raise :class:`ParameterError` naming the key.
    """
    out: dict[str, ParamSpec] = {}
    first: tuple[str, bool] | None = None
    for name, value in raw.items():
        is_entry = isinstance(value, Mapping)
        if first is None:
            first = (name, is_entry)
        elif is_entry != first[1]:
            entry, plain = (name, first[0]) if is_entry else (first[0], name)
            raise ParameterError(
                f"parameters.{name}",
                f"parameters mixes forms: {entry!r} is a schema entry (an object) and "
                f"{plain!r} a plain value; {_FORMS}",
            )
        out[name] = _entry(name, value) if isinstance(value, Mapping) else _inferred(name, value)
    return out


# --------------------------------------------------------------------------- instance parameters

STORAGE_HOURS = 2.0
"""Hours at rated power assumed for ``rated_kwh`` when a body gives no parameters at all."""


def _numeric(spec: ParamSpec | None) -> bool:
    return spec is not None and spec.type in ("number", "integer")


def instance_parameters(
    schema: Mapping[str, ParamSpec],
    given: Mapping[str, ParamValue],
    capacity_kw: float,
    efficiency: float | None = None,
) -> dict[str, ParamValue]:
    """An instance's parameters from its body, derivations first, then
    :func:`resolve_parameters`.

    From the instance's own fields, whenever the parameter is not given: ``rated_kw`` is
    the ``capacity`` (the seed's rated capacity, kW), ``efficiency`` the ``efficiency``.
    When the body gives no parameter values at all (the seed's six fields), a ``rated_kwh``
    without a default is ``capacity`` x :data:`STORAGE_HOURS`: the seed has no field for
    energy, and a body that gives parameters has to give it.
    """
    values = dict(given)
    if "rated_kw" not in values and _numeric(schema.get("rated_kw")):
        values["rated_kw"] = capacity_kw
    if efficiency is not None and "efficiency" not in values and _numeric(schema.get("efficiency")):
        values["efficiency"] = efficiency
    kwh = schema.get("rated_kwh")
    if not given and kwh is not None and kwh.default is None and _numeric(kwh):
        values["rated_kwh"] = capacity_kw * STORAGE_HOURS
    return resolve_parameters(schema, values)
