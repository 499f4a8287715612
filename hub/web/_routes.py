"""``/api/v1/vpp/console``: the live stream, its snapshot, the aggregation preview; and
the lifespan that owns the live feed's poller."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec
from litestar import Controller, Litestar, MediaType, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.response import Stream
from prometheus_client import Counter

from hub._context import HubContext
from hub._deps import Ctx, Session

from ._feed import RESYNC, LiveFeed
from ._preview import preview
from ._schemas import AggregationPreview, AggregationPreviewIn, LiveSnapshot
from ._snapshot import SnapshotCache, sse_frame

LIVE_INTERVAL_S: Final = 1.0
QUEUE_SIZE: Final = 16
HEARTBEAT_S: Final = 15.0
_ENCODER = msgspec.json.Encoder()


def feed_of(request: Request[Any, Any, Any]) -> LiveFeed:
    feed: LiveFeed = request.app.state.console_feed
    return feed


def snapshots_of(request: Request[Any, Any, Any]) -> SnapshotCache:
    snapshots: SnapshotCache = request.app.state.console_snapshots
    return snapshots


class ConsoleController(Controller):
    path = "/api/v1/vpp/console"
    tags = ("console",)

    @get(
        "/snapshot",
        responses={
            200: ResponseSpec(
                LiveSnapshot,
                description="Request fulfilled, document follows",
                generate_examples=False,
            )
        },
    )
    async def snapshot(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """What the live views show now: resources with status and newest values, VPPs
        with aggregated parameters, edges, recent dispatch with execution status, alarms.
        The same body as the newest ``live`` event of ``/stream`` (``seq`` numbers them).
        Made again once a table it read is written or a live value changed, and at least
        every ``response_cache_s`` (its clock-dependent parts: staleness, recent
        dispatch; what another replica wrote); the one before is answered while the next
        is made, except after a write of this replica's made for a caller (callers wait
        for one that shows it; the ingest's and the singleton jobs' writes count as
        another replica's).
        Gzipped for a caller that accepts it."""
        snapshots = snapshots_of(request)
        built = await snapshots.get()
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(
                await snapshots.gzipped(built),
                media_type=MediaType.JSON,
                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return Response(built.body, media_type=MediaType.JSON, headers={"Vary": "Accept-Encoding"})

    @post("/aggregation-preview", status_code=200)
    async def aggregation_preview(
        self, session: Session, ctx: Ctx, data: JSONBody[AggregationPreviewIn]
    ) -> AggregationPreview:
        """Aggregated parameters and conflicts of a membership that is not saved (read
        only; nothing is stored). With ``vpp_id`` its saved ratios are not counted twice;
        with ``market_type`` that market's qualification rules are checked."""
        return await preview(session, ctx, data)

    @get("/stream", media_type="text/event-stream")
    async def stream(self, request: Request[Any, Any, Any]) -> Stream:
        """Server-sent events: ``live`` (data: one whole ``LiveSnapshot`` as JSON) about
        every second, ``resync`` (data: ``{"dropped": n}``) when this client fell behind
        and messages were dropped for it (refetch over REST; the next ``live`` is whole),
        and a comment line every 15 s when nothing else was sent. Each client has its own
        queue of 16 messages; a full queue drops its oldest message."""
        feed = feed_of(request)

        async def events() -> AsyncIterator[bytes]:
            yield b"retry: 2000\n\n"
            async with feed.subscribe() as sub:
                while True:
                    try:
                        async with asyncio.timeout(HEARTBEAT_S):
                            message = await sub.next()
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if message is RESYNC:
                        yield sse_frame("resync", _ENCODER.encode({"dropped": sub.dropped}))
                    else:
                        yield message

        return Stream(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def make_feed(
    ctx: HubContext, snapshots: SnapshotCache, interval_s: float = LIVE_INTERVAL_S
) -> LiveFeed:
    """The live feed over ``snapshots`` (the snapshot route's own copy: one build serves
    both)."""
    dropped = Counter(
        "vpp_hub_console_stream_dropped_total",
        "Live messages dropped for a slow console client (it then gets a resync marker)",
        registry=ctx.metrics.registry,
    )

    async def source() -> bytes:
        return (await snapshots.get(stale_ok=False)).frame  # no old one: it pushes each

    return LiveFeed(source, interval_s=interval_s, queue_size=QUEUE_SIZE, on_drop=dropped.inc)


@contextlib.asynccontextmanager
async def console_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs after the hub's own lifespan (it needs ``app.state.hub``): owns the poller
    and the task that makes the snapshots."""
    ctx: HubContext = app.state.hub
    snapshots = SnapshotCache(ctx, ctx.settings.response_cache_s)
    feed = make_feed(ctx, snapshots)
    app.state.console_snapshots = snapshots
    app.state.console_feed = feed
    async with asyncio.TaskGroup() as group:
        tasks = (
            group.create_task(snapshots.run(), name="console-snapshots"),
            group.create_task(feed.run(), name="console-live-feed"),
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
