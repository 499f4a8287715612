"""``/healthz``, ``/readyz``, ``/metrics``: no authentication, no rate limit."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
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
        """Ready when the database answers and its schema is current. MQTT (ingest, and
        ``commands``: the command relay's own connection) is reported but does not make
        the hub unready: the API serves while the broker is away."""
        db_ok = False
        try:
            async with ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            db_ok = await schema_is_current(ctx.engine)
        except Exception:
            db_ok = False
        mqtt = None if ctx.publisher is None else ctx.publisher.connected
        commands = None if ctx.commands is None else ctx.commands.connected
        body: dict[str, object] = {"database": db_ok, "mqtt": mqtt, "commands": commands}
        return Response(body, status_code=200 if db_ok else 503)

    @get("/metrics", exclude_from_auth=True, media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, ctx: Ctx, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus exposition (``Authorization: Bearer <metrics_token>`` when one is
        configured; 401 otherwise)."""
        token = ctx.settings.metrics_token
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response(
                    b"metrics need the scrape token\n",
                    status_code=401,
                    media_type=MediaType.TEXT,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
