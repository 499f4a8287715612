"""Catalogue domain types: plain msgspec Structs, no I/O."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Category = Literal["GENERATION", "STORAGE", "LOAD", "FLEXIBLE"]
InstanceStatus = Literal["ONLINE", "OFFLINE", "MAINTENANCE", "ERROR"]


class ParamSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of a template's parameter schema."""

    type: Literal["number", "integer", "boolean", "string"] = "number"
    unit: Annotated[str, Meta(max_length=16)] = ""
    min: float | None = None
    max: float | None = None
    default: float | int | bool | str | None = None
    required: bool = False
    description: Annotated[str, Meta(max_length=500)] = ""


ParamValue = float | int | bool | str
