"""The catalogue: resource templates (with the presets), instances, realtime data, history.

Pure logic (no I/O, importable by the backtest): the parameter schemas and their
validation (:func:`template_parameters`, :func:`instance_parameters`,
:func:`resolve_parameters`) and the preset templates (:data:`PRESETS`). The controllers
and the service (SQLAlchemy) load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._params import (
    STORAGE_HOURS,
    ParameterError,
    instance_parameters,
    resolve_parameters,
    template_parameters,
)
from ._presets import PRESETS, Preset
from ._types import (
    Category,
    InstanceStatus,
    ParamSpec,
    ParamValue,
)

if TYPE_CHECKING:
    from ._instances import (
        ResourceInstanceController,
    )
    from ._service import (
        current_versions,
        ensure_presets,
        next_version,
        template_schema,
        template_versions,
    )
    from ._templates import (
        ResourceTemplateController,
    )

_LAZY = {
    "ResourceTemplateController": "._templates",
    "ResourceInstanceController": "._instances",
    "current_versions": "._service",
    "ensure_presets": "._service",
    "next_version": "._service",
    "template_schema": "._service",
    "template_versions": "._service",
}

__all__ = [
    "PRESETS",
    "STORAGE_HOURS",
    "Category",
    "InstanceStatus",
    "ParamSpec",
    "ParamValue",
    "ParameterError",
    "Preset",
    "ResourceInstanceController",
    "ResourceTemplateController",
    "current_versions",
    "ensure_presets",
    "instance_parameters",
    "next_version",
    "resolve_parameters",
    "template_parameters",
    "template_schema",
    "template_versions",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
