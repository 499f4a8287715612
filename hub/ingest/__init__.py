"""Ingest: the MQTT side of the hub (uplinks in, acks, the live cache, hub state).

Pure: :func:`advance` (contiguity of ``(edge, sid, seq)``; its state is in the
database). :class:`MqttBus` (aiomqtt, SQLAlchemy) loads lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._tracker import Advance, Gap, advance, session_start

if TYPE_CHECKING:
    from ._bus import (
        MqttBus,
    )

_LAZY = {
    "MqttBus": "._bus",
}

__all__ = [
    "Advance",
    "Gap",
    "MqttBus",
    "advance",
    "session_start",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
