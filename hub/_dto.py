"""Shared bases and constrained scalars of the REST bodies (msgspec Structs). Units: power and
capacity in kW, energy in kWh, times ISO 8601 UTC, durations and response times in seconds."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from protocol import ID_PATTERN

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Uuid = Annotated[str, Meta(min_length=1, max_length=36)]
Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
Kw = Annotated[float, Meta(ge=-1e7, le=1e7)]
PositiveKw = Annotated[float, Meta(ge=0, le=1e7)]
Ratio = Annotated[float, Meta(gt=0, le=1)]
Priority = Annotated[int, Meta(ge=1, le=1000)]
JsonObject = Annotated[dict[str, Any], Meta(max_length=200)]


class In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Request bodies reject unknown fields (a typo should not pass silently)."""


class Out(msgspec.Struct, kw_only=True):
    pass


__all__ = ["Id", "In", "JsonObject", "Kw", "Name", "Out", "PositiveKw", "Priority", "Ratio", "Uuid"]
