"""``/healthz``, ``/readyz``, ``/metrics``: no authentication, no rate limit."""

from __future__ import annotations

from litestar import Controller, MediaType, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hub._deps import Ctx
from hub.store import schema_is_current


class OpsController(Controller):
    path = "/"
    tags = ("operations",)
    include_in_schema = True

    @get("/healthz", exclude_from_auth=True, media_type=MediaType.JSON)
    async def healthz(self) -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @get("/readyz", exclude_from_auth=True, media_type=MediaType.JSON)
    async def readyz(self, ctx: Ctx) -> Response[dict[str, object]]:
        """Ready when the database answers and its schema is current. MQTT is reported
        but does not make the hub unready: the API serves while the broker is away."""
        db_ok = False
        try:
            async with ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            db_ok = await schema_is_current(ctx.engine)
        except Exception:
            db_ok = False
        mqtt = None if ctx.publisher is None else ctx.publisher.connected
        body: dict[str, object] = {"database": db_ok, "mqtt": mqtt}
        return Response(body, status_code=200 if db_ok else 503)

    @get("/metrics", exclude_from_auth=True, media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, ctx: Ctx) -> bytes:
        """Prometheus exposition."""
        return generate_latest(ctx.metrics.registry)
