"""Pure domain logic of the hub: Structs in, Structs out, no I/O.

Aggregation (:func:`aggregate`, :func:`member_range`), disaggregation
(:func:`disaggregate`), conflict detection (:func:`detect_conflicts`), per-edge schedule
building (:func:`build_intervals`), template parameter schemas and validation
(:func:`template_parameters`, :func:`instance_parameters`, :func:`resolve_parameters`)
and the preset templates (:data:`PRESETS`).
"""

from ._aggregate import aggregate, member_range
from ._conflicts import detect_conflicts
from ._disaggregate import disaggregate
from ._params import (
    STORAGE_HOURS,
    ParameterError,
    instance_parameters,
    resolve_parameters,
    template_parameters,
)
from ._presets import PRESETS, Preset
from ._schedule import PendingTarget, build_intervals
from ._types import (
    AggregatedParams,
    Allocation,
    Category,
    Commitment,
    Conflict,
    Disaggregation,
    InstanceStatus,
    MarketRequirement,
    MarketType,
    MemberState,
    ParamSpec,
    ParamValue,
    PowerRange,
)

__all__ = [
    "PRESETS",
    "STORAGE_HOURS",
    "AggregatedParams",
    "Allocation",
    "Category",
    "Commitment",
    "Conflict",
    "Disaggregation",
    "InstanceStatus",
    "MarketRequirement",
    "MarketType",
    "MemberState",
    "ParamSpec",
    "ParamValue",
    "ParameterError",
    "PendingTarget",
    "PowerRange",
    "Preset",
    "aggregate",
    "build_intervals",
    "detect_conflicts",
    "disaggregate",
    "instance_parameters",
    "member_range",
    "resolve_parameters",
    "template_parameters",
]
