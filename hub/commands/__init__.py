"""Commands: one command to one device of one edge, and the agent's reply.

Pure: the actions, their REST arguments turned into the agent's (:func:`wire_args`), the
outcomes (:data:`CommandOutcome`). The MQTT relay (:class:`CommandRelay`: a reply topic per
replica, pending commands matched by ``cid``), the service and the controller load lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._types import (
    Action,
    ArgsError,
    CommandOutcome,
    NoReply,
    Replied,
    Unavailable,
    rest_field,
    wire_args,
)

if TYPE_CHECKING:
    from ._controller import CommandController
    from ._relay import CommandRelay

_LAZY = {
    "CommandController": "._controller",
    "CommandRelay": "._relay",
}

__all__ = [
    "Action",
    "ArgsError",
    "CommandController",
    "CommandOutcome",
    "CommandRelay",
    "NoReply",
    "Replied",
    "Unavailable",
    "rest_field",
    "wire_args",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
