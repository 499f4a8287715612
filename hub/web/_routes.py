"""``/api/v1/vpp/console``: the live stream, its snapshot, the aggregation preview; and
the lifespan that owns the live feed's poller."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec
from litestar import Controller, Litestar, Request, get, post
from litestar.params import JSONBody
from litestar.response import Stream
from prometheus_client import Counter

from hub._context import HubContext
from hub._deps import Ctx, Session

from ._feed import RESYNC, LiveFeed
from ._preview import preview
from ._schemas import AggregationPreview, AggregationPreviewIn, LiveSnapshot
from ._snapshot import build_snapshot

LIVE_INTERVAL_S: Final = 1.0
QUEUE_SIZE: Final = 16
HEARTBEAT_S: Final = 15.0
_ENCODER = msgspec.json.Encoder()


def sse_frame(event: str, data: bytes, event_id: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + data + b"\n\n"


def feed_of(request: Request[Any, Any, Any]) -> LiveFeed:
    feed: LiveFeed = request.app.state.console_feed
    return feed


class ConsoleController(Controller):
    path = "/api/v1/vpp/console"
    tags = ("console",)

    @get("/snapshot")
    async def snapshot(self, session: Session, ctx: Ctx) -> LiveSnapshot:
        """What the live views show now: resources with status and newest values, VPPs
        with aggregated parameters, edges, recent dispatch with execution status, alarms.
        The same body as each ``live`` event of ``/stream``."""
        return await build_snapshot(session, ctx, 0)

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


def make_feed(ctx: HubContext, interval_s: float = LIVE_INTERVAL_S) -> LiveFeed:
    dropped = Counter(
        "vpp_hub_console_stream_dropped_total",
        "Live messages dropped for a slow console client (it then gets a resync marker)",
        registry=ctx.metrics.registry,
    )
    seq = 0

    async def source() -> bytes:
        nonlocal seq
        seq += 1
        async with ctx.sessions() as session:
            snap = await build_snapshot(session, ctx, seq)
        return sse_frame("live", _ENCODER.encode(snap), seq)

    return LiveFeed(source, interval_s=interval_s, queue_size=QUEUE_SIZE, on_drop=dropped.inc)


@contextlib.asynccontextmanager
async def console_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs after the hub's own lifespan (it needs ``app.state.hub``): owns the poller."""
    ctx: HubContext = app.state.hub
    feed = make_feed(ctx)
    app.state.console_feed = feed
    async with asyncio.TaskGroup() as group:
        task = group.create_task(feed.run(), name="console-live-feed")
        try:
            yield
        finally:
            task.cancel()
