"""``create_app(settings)``: the one place that wires the hub.

The lifespan owns the database engine, the live cache, the MQTT bus (ingest, acks,
schedules, hub state) and the command relay, and hands them to the controllers in one
:class:`HubContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine

from protocol.aio import wait_holding_cancellation
from protocol.clock import Clock, RealClock

from ._context import HubContext
from ._deps import provide_ctx, provide_principal, provide_reader, provide_session
from ._gc import gc_lifespan
from ._metrics import Metrics
from ._respcache import response_cache
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
from .commands import CommandController
from .dispatch import DispatchController
from .errors import EXCEPTION_HANDLERS
from .jobs import SCHEDULE_REPAIR, TELEMETRY_RETENTION, JobSupervisor, SingletonJob
from .markets import MarketController
from .markets._service import ConnectorRegistry, SecretBox
from .models import AiExperimentController, AiModelController, models_lifespan
from .ops import Notifier, OpsController, breaker_alerts, fleet_gauges
from .reports import ReportController
from .settlement import SETTLEMENT_JOB, SettlementController
from .store import (
    LiveCache,
    Memo,
    counting,
    create_engine,
    migrate,
    read_sessionmaker,
    sessionmaker,
)
from .strategy import StrategyController
from .trading import TradingController, TradingRuntime
from .trading._loop import TRADING_JOB
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
    CommandController,
    VppController,
    DispatchController,
    StrategyController,
    MarketController,
    TradingController,
    UserController,
    AuditController,
    EdgeController,
    AiModelController,
    AiExperimentController,
    SettlementController,
    ReportController,
)
"""One Controller per resource, from each capability package (the order of the OpenAPI paths)."""

JOBS: tuple[SingletonJob, ...] = (TRADING_JOB, SETTLEMENT_JOB, SCHEDULE_REPAIR, TELEMETRY_RETENTION)
"""The singleton jobs every replica campaigns for (one leader each; see hub.jobs)."""

DISPOSE_TIMEOUT_S = 10.0
"""How long the lifespan's end waits for the database connections to close."""

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
                with counting() as db:
                    await app(scope, receive, send_wrapper)
            finally:
                route = str(scope.get("path_template") or "unmatched")
                metrics.request_seconds.labels(
                    scope.get("method", ""), route, str(status["code"])
                ).observe(time.perf_counter() - started)
                if db.count or db.checkouts:
                    metrics.db_statements.labels(route).inc(db.count)
                    metrics.db_seconds.labels(route).inc(db.seconds)
                    metrics.db_checkouts.labels(route).inc(db.checkouts)

        return middleware

    return factory


async def _dispose(*engines: AsyncEngine | None, timeout_s: float = DISPOSE_TIMEOUT_S) -> None:
    """``dispose()`` of each engine to its end (within ``timeout_s``) even when the lifespan
    is being cancelled, and the cancellation raised after it. A lifespan cancelled in its
    shutdown (a second Ctrl-C, :func:`hub.serve`'s bound, a test client's cancel scope,
    which cancels every await again) otherwise cuts the pool's closing of its connections
    in the middle: the aiosqlite connections and their threads are left open, to be
    found by the garbage collector later (a ``ResourceWarning`` in whatever runs then)."""

    async def dispose_each() -> None:
        for engine in engines:
            if engine is not None:
                await engine.dispose()

    task = asyncio.create_task(dispose_each(), name="hub-engine-dispose")
    cancelled = await wait_holding_cancellation(task, timeout_s)
    if not task.done():
        _log.warning("the database connections did not close within %.0f s", timeout_s)
        task.cancel()
    if cancelled is not None:
        raise cancelled
    if task.done() and not task.cancelled():
        task.result()


def _is_login(request: Request[Any, Any, Any]) -> bool:
    return request.url.path == LOGIN_PATH


def client_address(settings: Settings) -> Any:
    """The client of a request for rate limiting: the peer, or behind one of the
    ``trusted_proxies`` the right-most ``X-Forwarded-For`` address it did not add itself
    (a client cannot choose its bucket by sending the header)."""
    trusted = set(settings.trusted_proxies)

    def identify(request: Request[Any, Any, Any]) -> str:
        peer = get_remote_address(request)
        if peer not in trusted:
            return peer
        forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
        for address in reversed(forwarded):
            if address and address not in trusted:
                return address
        return peer

    return identify


def _rate_limits(settings: Settings) -> list[Any]:
    """Per-client request and login limits (stores ``rate_limit``, ``login_rate_limit``:
    in-process, or Redis shared by every replica)."""
    identify = client_address(settings)
    middleware: list[Any] = []
    if settings.rate_limit_per_minute > 0:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                exclude=["^/healthz$", "^/readyz$", "^/metrics$"],
                identifier_for_request=identify,
            ).middleware
        )
    if settings.login_rate_limit_per_minute > 0:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.login_rate_limit_per_minute),
                check_throttle_handler=_is_login,
                identifier_for_request=lambda request: "login:" + identify(request),
                store="login_rate_limit",
            ).middleware
        )
    return middleware


def _middleware(settings: Settings, metrics: Metrics, responses: Memo[Any, Any]) -> list[Any]:
    """Timing, rate limits, authentication, then the response cache (after
    authentication: a disabled user is refused before a kept response is served)."""
    middleware: list[Any] = [_timing_middleware(metrics), *_rate_limits(settings)]
    middleware.append(DefineMiddleware(AuthMiddleware, exclude=OPEN_PATHS))
    middleware.append(response_cache(responses, settings.tenant))
    return middleware


@contextlib.asynccontextmanager
async def _shared_over_redis(app: Litestar, ctx: HubContext) -> AsyncIterator[None]:
    """Rate-limit stores and the live cache's mirror on one Redis client (made in the
    lifespan's loop), closed when the lifespan ends."""
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    from .store import LiveMirror
    from .store._live_redis import running

    settings = ctx.settings
    client = Redis.from_url(settings.redis_url or "")
    try:
        root = RedisStore(client, namespace=settings.redis_prefix)
        for name in ("rate_limit", "login_rate_limit"):
            app.stores.register(name, root.with_namespace(name), allow_override=True)
        mirror = LiveMirror(client, ctx.cache, f"{settings.redis_prefix}:live")
        async with running(mirror):
            ctx.live_mirror = mirror
            yield
    finally:
        ctx.live_mirror = None
        await client.aclose()


async def _enter_mqtt(stack: contextlib.AsyncExitStack, ctx: HubContext) -> None:
    """The MQTT bus (ingest, schedules, hub state) and the command relay (its own
    connection: see hub.commands)."""
    from .commands import CommandRelay
    from .ingest import MqttBus

    ctx.publisher = await stack.enter_async_context(MqttBus(ctx))
    ctx.commands = await stack.enter_async_context(CommandRelay(ctx))


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    jobs: tuple[SingletonJob, ...] | None = None,
    trading: TradingRuntime | None = None,
) -> Litestar:
    """The hub's ASGI app. Nothing starts until its lifespan runs. ``jobs`` replaces
    :data:`JOBS` (the singleton jobs; ``settings.run_jobs`` False runs none). ``trading``:
    the strategy resolver and breaker alert hooks (default: the strategy engine,
    :class:`hub.strategy.EngineResolver`, with the built-in strategy for rows it does not
    plan; no hooks)."""
    jobs = JOBS if jobs is None else jobs
    clock = clock or RealClock()
    if trading is None:
        from .strategy import EngineResolver
        from .trading import builtin_resolver

        trading = TradingRuntime(resolver=EngineResolver(fallback=builtin_resolver))
    metrics = Metrics()
    responses: Memo[Any, Any] = Memo(settings.response_cache_s)
    tokens = TokenService(settings.jwt_secret, settings.jwt_ttl_s)
    if not settings.jwt_secret:
        _log.warning("no jwt_secret configured: tokens are valid for this process only")

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.db_url)
        reader = create_engine(settings.db_replica_url) if settings.db_replica_url else None
        try:
            if settings.migrate_on_start:
                await migrate(engine)
            sessions = sessionmaker(engine)
            markets = ConnectorRegistry.with_plugins(SecretBox.from_settings(settings), clock)
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
                markets=markets,
                trading=trading,
                read_sessions=None if reader is None else read_sessionmaker(reader),
                primary_reads=read_sessionmaker(engine),
                reads=Memo(settings.response_cache_s, sessions=read_sessionmaker(engine)),
            )
            app.state.hub = ctx
            async with contextlib.AsyncExitStack() as stack:
                stack.enter_context(metrics.gc_pauses.installed())  # hub_gc_pause_seconds
                stack.push_async_callback(markets.aclose)
                # the memos' background renewals end before the engines are disposed
                await stack.enter_async_context(responses.renewing())
                await stack.enter_async_context(ctx.reads.renewing())
                ctx.alerts = await stack.enter_async_context(
                    Notifier.from_settings(settings, metrics)
                )
                await stack.enter_async_context(fleet_gauges(ctx, settings.fleet_metrics_s))
                stack.enter_context(breaker_alerts(ctx, trading))  # trips to alert targets
                if settings.redis_url:
                    await stack.enter_async_context(_shared_over_redis(app, ctx))
                if settings.mqtt_url:
                    await _enter_mqtt(stack, ctx)
                if settings.run_jobs and jobs:
                    ctx.jobs = await stack.enter_async_context(JobSupervisor(ctx, jobs))
                if settings.backtest_workers > 0:
                    from .strategy import BacktestPool

                    ctx.backtests = await stack.enter_async_context(BacktestPool(ctx))
                from .markets import start_vens

                for ven in await start_vens(ctx, settings.openadr_vens):
                    stack.push_async_callback(ven.stop)
                yield
        finally:
            await _dispose(engine, reader)

    return Litestar(
        route_handlers=[*CONTROLLERS, *WEB_ROUTES],
        lifespan=[lifespan, console_lifespan, models_lifespan, gc_lifespan],  # gc: last
        middleware=_middleware(settings, metrics, responses),
        state=State({"responses": responses}),  # the response cache (tests read its hits)
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "session": Provide(provide_session),
            "reader": Provide(provide_reader),
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
