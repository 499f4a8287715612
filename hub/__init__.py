"""The Lingtan VPP hub: catalogue, aggregation, ingest, dispatch (Litestar).

Public: :class:`Settings`, :func:`serve` (uvicorn in-process), :func:`demo_seed`,
:class:`DemoDevice`, :class:`DemoSeed`; the app factory is :func:`hub.app.create_app`.
Imports are lazy so that ``vpp --help`` does not load Litestar or SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._serve import DemoDevice, DemoSeed, demo_seed, serve
    from ._settings import Settings

__all__ = ["DemoDevice", "DemoSeed", "Settings", "demo_seed", "serve"]

_WHERE = {
    "DemoDevice": "._serve",
    "DemoSeed": "._serve",
    "demo_seed": "._serve",
    "serve": "._serve",
    "Settings": "._settings",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'hub' has no attribute {name!r}")
