"""Ingest: the MQTT side of the hub (uplinks in, acks, the live cache, hub state).

Pure: :class:`AckTracker` (contiguity of ``(edge, sid, seq)``). :class:`MqttBus` (aiomqtt,
SQLAlchemy) loads lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._tracker import AckTracker, Gap

if TYPE_CHECKING:
    from ._bus import (
        MqttBus,
    )

_LAZY = {
    "MqttBus": "._bus",
}

__all__ = [
    "AckTracker",
    "Gap",
    "MqttBus",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
