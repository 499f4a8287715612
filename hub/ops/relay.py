"""The alert relay: Alertmanager's webhooks to WeCom and DingTalk group robots.

Alertmanager sends email and its own webhook JSON, but not the bodies the robots take.
Point a ``webhook_configs`` URL at ``http://RELAY:9095/alertmanager/TARGET`` and the relay
posts each notification to the target named ``TARGET`` in ``VPP_HUB_ALERT_TARGETS`` (the
same list the hub's own alerts use), shaped for its kind, with the hub's notifier
(bounded retries, per-target queues). It answers 202 once the alerts are queued, 404 for a
target it does not know, 400 for a body that is not Alertmanager's.

    python -m hub.ops.relay --host 0.0.0.0 --port 9095

With ``VPP_RELAY_TOKEN`` set, requests must carry ``Authorization: Bearer TOKEN``
(Alertmanager: ``http_config: {authorization: {credentials_file: ...}}``).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from litestar import Litestar, MediaType, Request, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub._metrics import Metrics
from hub._settings import Settings

from ._alert_bodies import AlertmanagerPayload, from_alertmanager
from ._alerts import Notifier

DEFAULT_PORT = 9095


def create_relay(
    settings: Settings,
    *,
    token: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    wait_initial_s: float = 0.5,
) -> Litestar:
    """The relay's ASGI app; its notifier starts with the app's lifespan."""
    metrics = Metrics()
    notifier = Notifier(
        settings.alert_targets,
        metrics,
        timeout_s=settings.alert_timeout_s,
        attempts=settings.alert_attempts,
        queue_size=settings.alert_queue,
        wait_initial_s=wait_initial_s,
        transport=transport,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with notifier:
            yield

    def check(request: Request[Any, Any, Any]) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise NotAuthorizedException("a bearer token is required")

    @post("/alertmanager/{target:str}", status_code=HTTP_202_ACCEPTED)
    async def relay(
        target: FromPath[str], data: JSONBody[AlertmanagerPayload], request: Request[Any, Any, Any]
    ) -> dict[str, int]:
        """Queue one Alertmanager notification for the target of that name."""
        check(request)
        if target not in notifier.targets:
            raise NotFoundException(f"no alert target named {target!r}")
        alerts = from_alertmanager(data)
        for alert in alerts:
            notifier.submit(alert, only=target)
        return {"queued": len(alerts)}

    @get("/healthz", media_type=MediaType.JSON)
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "targets": notifier.targets}

    @get("/metrics", media_type=CONTENT_TYPE_LATEST)
    async def metrics_view() -> bytes:
        return generate_latest(metrics.registry)

    return Litestar(
        route_handlers=[relay, healthz, metrics_view],
        lifespan=[lifespan],
        logging_config=None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.ops.relay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    import uvicorn

    from hub._logging import configure

    configure("INFO")
    settings = Settings.from_env(mqtt_url=None)
    app = create_relay(settings, token=os.environ.get("VPP_RELAY_TOKEN") or None)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()

__all__ = ["DEFAULT_PORT", "create_relay", "main"]
