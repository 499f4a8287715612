"""``create_app(settings)``: the one place that wires the hub.

The lifespan owns the database engine, the live cache and the MQTT bus (ingest, acks,
schedules, hub state) and hands them to the controllers in one :class:`HubContext`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send

from protocol.clock import Clock, RealClock

from ._context import HubContext
from ._deps import provide_ctx, provide_principal, provide_session
from ._metrics import Metrics
from ._settings import Settings
from .auth import (
    AuditController,
    AuthController,
    AuthMiddleware,
    EdgeController,
    TokenService,
    UserController,
)
from .catalogue import ResourceInstanceController, ResourceTemplateController, ensure_presets
from .dispatch import DispatchController
from .errors import EXCEPTION_HANDLERS
from .ops import OpsController
from .store import LiveCache, create_engine, migrate, sessionmaker
from .vpps import VppController
from .web import ROUTES as WEB_ROUTES
from .web import console_lifespan

_log = logging.getLogger(__name__)

LOGIN_PATH = "/api/v1/auth/login"
CONTROLLERS = (
    OpsController,
    AuthController,
    ResourceTemplateController,
    ResourceInstanceController,
    VppController,
    DispatchController,
    UserController,
    AuditController,
    EdgeController,
)
"""One Controller per resource, from each capability package (the order of the OpenAPI paths)."""

OPEN_PATHS = ["^/healthz$", "^/readyz$", "^/metrics$", "^/schema", f"^{LOGIN_PATH}$"]


def _timing_middleware(metrics: Metrics) -> Any:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = {"code": 500}

            async def send_wrapper(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_wrapper)
            finally:
                route = str(scope.get("path_template") or "unmatched")
                metrics.request_seconds.labels(
                    scope.get("method", ""), route, str(status["code"])
                ).observe(time.perf_counter() - started)

        return middleware

    return factory


def _is_login(request: Request[Any, Any, Any]) -> bool:
    return request.url.path == LOGIN_PATH


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    """The hub's ASGI app. Nothing starts until its lifespan runs."""
    clock = clock or RealClock()
    metrics = Metrics()
    tokens = TokenService(settings.jwt_secret, settings.jwt_ttl_s)
    if not settings.jwt_secret:
        _log.warning("no jwt_secret configured: tokens are valid for this process only")

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.db_url)
        try:
            if settings.migrate_on_start:
                await migrate(engine)
            sessions = sessionmaker(engine)
            if settings.load_presets:
                async with sessions() as session:
                    if await ensure_presets(session):
                        await session.commit()
            ctx = HubContext(
                settings=settings,
                clock=clock,
                engine=engine,
                sessions=sessions,
                cache=LiveCache(),
                tokens=tokens,
                metrics=metrics,
            )
            app.state.hub = ctx
            async with contextlib.AsyncExitStack() as stack:
                if settings.mqtt_url:
                    from .ingest import MqttBus

                    ctx.publisher = await stack.enter_async_context(MqttBus(ctx))
                yield
        finally:
            await engine.dispose()

    middleware: list[Any] = [_timing_middleware(metrics)]
    if settings.rate_limit_per_minute > 0:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                exclude=["^/healthz$", "^/readyz$", "^/metrics$"],
            ).middleware
        )
    if settings.login_rate_limit_per_minute > 0:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.login_rate_limit_per_minute),
                check_throttle_handler=_is_login,
                identifier_for_request=lambda request: "login:" + get_remote_address(request),
                store="login_rate_limit",
            ).middleware
        )
    middleware.append(DefineMiddleware(AuthMiddleware, exclude=OPEN_PATHS))
    return Litestar(
        route_handlers=[*CONTROLLERS, *WEB_ROUTES],
        lifespan=[lifespan, console_lifespan],
        middleware=middleware,
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "session": Provide(provide_session),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Lingtan VPP hub",
            version="0.1.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "api_key": SecurityScheme(
                        type="apiKey", name="X-API-Key", security_scheme_in="header"
                    ),
                }
            ),
            security=[{"bearer": []}, {"api_key": []}],
        ),
        debug=settings.debug,
        logging_config=None,  # logging is the host's business (vpp hub run: JSON lines)
    )


__all__ = ["create_app"]
