"""The web console on the hub's side: the built bundle at ``/`` (single-page app
fallback), the live push stream and the aggregation preview.

Register with :data:`ROUTES` (route handlers) and :func:`console_lifespan` (after the
hub's own lifespan). The live feed (:class:`LiveFeed`) polls one snapshot source at a
fixed cadence and fans out to bounded per-client queues (drop oldest, then a ``resync``
marker).
"""

from ._feed import RESYNC, LiveFeed, Subscription
from ._routes import ConsoleController, console_lifespan, make_feed
from ._schemas import (
    AggregationPreview,
    AggregationPreviewIn,
    Alarm,
    DispatchLive,
    EdgeLive,
    LiveSnapshot,
    PreviewMember,
    ResourceLive,
    VppLive,
)
from ._snapshot import SnapshotCache, build_snapshot, sse_frame
from ._static import STATIC_DIR, console, console_response, console_root

ROUTES = (ConsoleController, console_root, console)

__all__ = [
    "RESYNC",
    "ROUTES",
    "STATIC_DIR",
    "AggregationPreview",
    "AggregationPreviewIn",
    "Alarm",
    "ConsoleController",
    "DispatchLive",
    "EdgeLive",
    "LiveFeed",
    "LiveSnapshot",
    "PreviewMember",
    "ResourceLive",
    "SnapshotCache",
    "Subscription",
    "VppLive",
    "build_snapshot",
    "console",
    "console_lifespan",
    "console_response",
    "console_root",
    "make_feed",
    "sse_frame",
]
