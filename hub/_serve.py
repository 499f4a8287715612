"""Running the hub in-process (demo, tests, benchmarks) and seeding the demo."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select

from protocol.clock import Clock

from ._settings import Settings
from .auth import Role, create_user
from .catalogue import ensure_presets
from .dispatch import ensure_edge
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


SHUTDOWN_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 3
"""How long uvicorn lets open requests finish when the hub stops, then cancels them: the
console's live stream (server-sent events) never ends by itself, so without a bound an
open browser tab would keep the hub from stopping."""

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
) -> AsyncIterator[str]:
    """Run the hub with uvicorn in this event loop; yields its base URL (``port=0`` picks
    a free port) and shuts the server down cleanly on exit."""
    import uvicorn

    from .app import create_app

    config = uvicorn.Config(
        create_app(settings, clock=clock),
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = uvicorn.Server(config)
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
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
                    await asyncio.shield(task)


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
) -> DemoSeed:
    """Create (or reuse) templates, one instance per device bound to ``(edge, device)``,
    one VPP of the dispatchable ones, and the demo user. Idempotent: run it at every start.

    ``vpp_kinds`` limits the VPP's members to those device kinds (default: every kind but
    the meter): a VPP should hold only what the site's agent can actually control."""
    engine = create_engine(settings.db_url)
    try:
        await migrate(engine)
        sessions = sessionmaker(engine)
        async with sessions() as session:
            await ensure_presets(session)
            await session.flush()
            await ensure_edge(session, edge, tenant)
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
            await session.commit()
            return DemoSeed(vpp_id=vpp.id, instance_ids=ids, username=username)
    finally:
        await engine.dispose()
