"""Running the hub in-process (demo, tests, benchmarks) and seeding the demo."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.aio import wait_holding_cancellation
from protocol.clock import Clock

from ._settings import Settings
from .auth import Role, create_user
from .catalogue import ensure_presets
from .dispatch import ensure_edge
from .jobs import SingletonJob
from .store import (
    ResourceInstance,
    ResourceMapping,
    ResourceTemplate,
    Vpp,
    create_engine,
    migrate,
    new_id,
    sessionmaker,
)

KIND_TO_TEMPLATE = {
    "battery": "battery_storage",
    "bess": "battery_storage",
    "pv": "pv_inverter",
    "meter": "site_meter",
    "ev_charger": "ev_charger",
    "ev": "ev_charger",
    "hvac": "hvac_chiller",
    "chiller": "hvac_chiller",
    "load": "industrial_load",
    "generator": "gas_generator",
}


_log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 3
"""How long uvicorn lets open requests finish when the hub stops, then cancels them: the
console's live stream (server-sent events) never ends by itself, so without a bound an
open browser tab would keep the hub from stopping."""


KEEP_ALIVE_S = 75
"""How long the hub keeps an idle HTTP connection open: longer than its clients and any
load balancer in front of it keep theirs."""


def server_options() -> dict[str, Any]:
    """uvicorn's settings for the hub, shared by ``vpp hub run``, :func:`serve` and the
    floor of ``bench/api.py`` (so that the floor is served exactly like the hub)."""
    import importlib.util

    fast = all(importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools"))
    return {
        # uvloop's event loop and httptools' parser (the hub extra installs both; uvicorn
        # falls back to asyncio and h11 without them, about half the requests per second).
        "loop": "uvloop" if fast else "asyncio",
        "http": "httptools" if fast else "h11",
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,  # open console streams end then
        # An idle keep-alive connection is closed by the client (httpx after 5 s, a load
        # balancer after its idle timeout, 60 s on most) before the hub closes it: with
        # uvicorn's 5 s, a request sent on a connection just as the hub closed it failed
        # with a reset (seen by a test's httpx client under load).
        "timeout_keep_alive": KEEP_ALIVE_S,
    }


DEMO_ZONES = {
    "battery": ("storage", 40.0, 40.0),
    "bess": ("storage", 40.0, 40.0),
    "pv": ("solar", 220.0, 40.0),
    "meter": ("grid", 40.0, 170.0),
    "ev_charger": ("ev", 160.0, 170.0),
    "ev": ("ev", 160.0, 170.0),
    "hvac": ("hvac", 320.0, 170.0),
    "chiller": ("hvac", 320.0, 170.0),
}
"""Where the demo's devices sit on the console's site plan (zone, first x, y in metres)."""


def demo_location(kind: str, index: int) -> dict[str, object]:
    """``location_info`` of the ``index``-th demo device of ``kind`` (a row per zone)."""
    zone, x0, y0 = DEMO_ZONES.get(kind, ("load", 320.0, 40.0))
    return {"zone": zone, "x": x0 + 40.0 * (index % 4), "y": y0 + 30.0 * (index // 4)}


@contextlib.asynccontextmanager
async def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    log_level: str = "warning",
    jobs: tuple[SingletonJob, ...] | None = None,
    shutdown_timeout_s: float = SHUTDOWN_TIMEOUT_S,
) -> AsyncIterator[str]:
    """Run the hub with uvicorn in this event loop; yields its base URL (``port=0`` picks
    a free port) and shuts the server down cleanly on exit, cancelling it when its
    shutdown outlasts ``shutdown_timeout_s``. ``jobs``: as :func:`hub.app.create_app`'s."""
    import uvicorn

    from .app import create_app

    class EmbeddedServer(uvicorn.Server):
        """uvicorn's server minus its signal handlers: in-process, the program that runs it
        (``vpp demo``, a test) owns SIGINT and SIGTERM, and stops the hub by leaving
        ``serve`` in its own order.

        ``Server.serve()`` takes both signals over while it runs (``signal.signal``; the
        previous handlers are put back at its end, and a signal it caught is raised again
        then): a Ctrl-C stopped the hub alone, the park and the agent running on without
        it, and reached the demo only after the hub's whole shutdown; a SIGTERM reached the
        demo twice, the second time while it was already stopping.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    options = server_options() | {"log_level": log_level}
    options.pop("log_config")
    options["loop"] = "none"  # this event loop, whichever it is
    config = uvicorn.Config(
        create_app(settings, clock=clock, jobs=jobs), host=host, port=port, lifespan="on", **options
    )
    server = EmbeddedServer(config)
    async with asyncio.TaskGroup() as group:
        task = group.create_task(server.serve(), name="hub-uvicorn")
        while not server.started:
            if task.done():
                raise RuntimeError(f"the hub did not start on {host}:{port}")
            await asyncio.sleep(0.01)
        bound = port
        for listener in server.servers:
            for sock in listener.sockets:
                bound = sock.getsockname()[1]
        try:
            yield f"http://{host}:{bound}"
        finally:
            server.should_exit = True
            # Let uvicorn run its own shutdown (lifespan: MQTT bus, engine dispose) to the
            # end even when we are being cancelled (Ctrl-C, SIGTERM); else the task group
            # cancels it half-way and the database connections are torn down mid-close.
            # A cancellation of ours while waiting is held back (the loop waits on), so that
            # Ctrl-C still gets the whole bound, not an immediate cancel of uvicorn.
            await wait_holding_cancellation(task, shutdown_timeout_s)
            if not task.done():
                # A shutdown step that never ends (a lock, a peer that never answers) must
                # not keep the caller waiting for ever: name what is still running, then
                # cancel uvicorn (the task group waits for the cancellation to finish).
                _log.warning(
                    "the hub did not stop within %.0f s; cancelling it. Still running:\n%s",
                    shutdown_timeout_s,
                    _running_tasks(),
                )
                task.cancel()


def _running_tasks() -> str:
    """Each pending task of this loop with where it waits (for a stuck shutdown's log)."""
    import io

    lines = []
    for pending in asyncio.all_tasks():
        if pending is asyncio.current_task() or pending.done():
            continue
        out = io.StringIO()
        pending.print_stack(limit=3, file=out)
        lines.append(f"- {pending.get_name()}: " + out.getvalue().strip().replace("\n", "\n  "))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DemoDevice:
    device_id: str
    kind: str
    rated_kw: float
    kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class DemoSeed:
    vpp_id: str
    instance_ids: dict[str, str]
    """device id -> resource instance id"""
    username: str
    connector_id: str | None = None
    """The simulated market the demo trades in (``market=True``)."""
    strategy_id: str | None = None


DEMO_CONNECTOR = "Simulated Shandong day-ahead spot"
DEMO_STRATEGY = "Demo storage arbitrage"


async def demo_seed(
    settings: Settings,
    *,
    edge: str,
    tenant: str,
    devices: Sequence[DemoDevice | tuple[str, str, float, float]],
    username: str = "demo",
    password: str,
    role: Role = "admin",
    vpp_name: str = "Demo VPP",
    vpp_kinds: Collection[str] | None = None,
    market: bool = False,
) -> DemoSeed:
    """Create (or reuse) templates, one instance per device bound to ``(edge, device)``,
    one VPP of the dispatchable ones, and the demo user. Idempotent: run it at every start.

    ``vpp_kinds`` limits the VPP's members to those device kinds (default: every kind but
    the meter): a VPP should hold only what the site's agent can actually control.

    ``market``: also a simulated exchange with the Shandong rules (``sim://shandong``) and
    an ACTIVE storage-arbitrage strategy for the VPP, so the trading loop bids, clears and
    dispatches awards. The strategy is seeded ACTIVE for the demo (through the API only a
    strategy with a finished backtest may become ACTIVE); its ``performance_metrics`` say so."""
    engine = create_engine(settings.db_url)
    try:
        await migrate(engine)
        sessions = sessionmaker(engine)
        async with sessions() as session:
            await ensure_presets(session)
            await session.flush()
            await ensure_edge(session, tenant=tenant, edge_id=edge)
            templates = {
                t.type: t
                for t in await session.scalars(
                    select(ResourceTemplate).where(ResourceTemplate.status == "ACTIVE")
                )
            }
            ids: dict[str, str] = {}
            members: list[str] = []
            per_kind: dict[str, int] = {}
            for raw in devices:
                dev = raw if isinstance(raw, DemoDevice) else DemoDevice(*raw)
                index = per_kind[dev.kind] = per_kind.get(dev.kind, -1) + 1
                template = templates[KIND_TO_TEMPLATE.get(dev.kind, "industrial_load")]
                instance = (
                    await session.execute(
                        select(ResourceInstance).where(
                            ResourceInstance.edge_tenant == tenant,
                            ResourceInstance.edge_id == edge,
                            ResourceInstance.device_id == dev.device_id,
                        )
                    )
                ).scalar_one_or_none()
                if instance is None:
                    params: dict[str, object] = {"rated_kw": dev.rated_kw}
                    if template.type == "battery_storage":
                        params["rated_kwh"] = dev.kwh or dev.rated_kw * 2
                    defaults = msgspec.convert(
                        template.parameters or {}, dict[str, dict[str, object]]
                    )
                    for name, spec in defaults.items():
                        if name not in params and spec.get("default") is not None:
                            params[name] = spec["default"]
                    instance = ResourceInstance(
                        id=new_id(),
                        template_id=template.id,
                        name=f"{edge}/{dev.device_id}",
                        capacity=dev.rated_kw,
                        status="OFFLINE",
                        parameters=params,
                        edge_tenant=tenant,
                        edge_id=edge,
                        device_id=dev.device_id,
                        location_info=demo_location(dev.kind, index),
                    )
                    session.add(instance)
                ids[dev.device_id] = instance.id
                wanted = (
                    template.type != "site_meter" if vpp_kinds is None else dev.kind in vpp_kinds
                )
                if wanted:
                    members.append(instance.id)
            await session.flush()
            vpp = (
                await session.execute(select(Vpp).where(Vpp.name == vpp_name))
            ).scalar_one_or_none()
            if vpp is None:
                vpp = Vpp(
                    id=new_id(),
                    name=vpp_name,
                    description="demo",
                    market_type="SPOT",
                    status="ACTIVE",
                )
                session.add(vpp)
                await session.flush()
            have = set(
                await session.scalars(
                    select(ResourceMapping.resource_id).where(ResourceMapping.vpp_id == vpp.id)
                )
            )
            for rid in members:
                if rid not in have:
                    session.add(
                        ResourceMapping(
                            id=new_id(),
                            vpp_id=vpp.id,
                            resource_id=rid,
                            allocation_ratio=1.0,
                            priority=1,
                        )
                    )
            await create_user(session, username, password, role, replace=True)
            connector_id = strategy_id = None
            if market:
                connector_id, strategy_id = await _demo_market(session, vpp.id)
            await session.commit()
            return DemoSeed(
                vpp_id=vpp.id,
                instance_ids=ids,
                username=username,
                connector_id=connector_id,
                strategy_id=strategy_id,
            )
    finally:
        await engine.dispose()


async def _demo_market(session: AsyncSession, vpp_id: str) -> tuple[str, str]:
    """The demo's market connector and strategy (created once, reused at every start)."""
    from .markets import PRESETS
    from .store import MarketConnectorRow, TradingStrategy

    connector = (
        await session.execute(
            select(MarketConnectorRow).where(MarketConnectorRow.name == DEMO_CONNECTOR)
        )
    ).scalar_one_or_none()
    if connector is None:
        connector = MarketConnectorRow(
            id=new_id(),
            name=DEMO_CONNECTOR,
            market_type="SPOT",
            api_endpoint="sim://shandong",
            status="ACTIVE",
            trading_rules=msgspec.to_builtins(PRESETS["shandong"]),
        )
        session.add(connector)
    strategy = (
        await session.execute(
            select(TradingStrategy).where(
                TradingStrategy.vpp_id == vpp_id, TradingStrategy.name == DEMO_STRATEGY
            )
        )
    ).scalar_one_or_none()
    if strategy is None:
        strategy = TradingStrategy(
            id=new_id(),
            name=DEMO_STRATEGY,
            vpp_id=vpp_id,
            strategy_type="RULE_BASED",
            config={"arbitrage": {}},
            status="ACTIVE",
            performance_metrics={"note": "seeded ACTIVE by vpp demo, without a backtest"},
        )
        session.add(strategy)
    await session.flush()
    return connector.id, strategy.id
