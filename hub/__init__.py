"""The Lingtan VPP hub: catalogue, aggregation, ingest, dispatch (Litestar).

Public: :class:`Settings`, :func:`create_app`.
"""

from ._settings import Settings

__all__ = ["Settings"]
