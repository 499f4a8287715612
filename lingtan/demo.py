"""``vpp demo``: the whole system on one machine with embedded defaults.

One process runs, on loopback:

1. an MQTT broker: a private mosquitto if installed, else in-process amqtt, on a free port;
2. the simulated park ``park-a`` (SunSpec Modbus batteries, PV, meter, EV chargers and an
   OPC UA chiller) on free ports, driven by an accelerated clock;
3. the hub on an SQLite file under ``var/demo/``, seeded with templates, one instance per
   device bound to ``(park-a, device)``, one VPP and the user ``demo``;
4. the park's edge agent, configured exactly as ``vpp agent init`` would;
5. a simulated exchange with the Shandong rules and the trading loop: the VPP's ACTIVE
   storage-arbitrage strategy bids each day before gate closure, the clearing becomes a
   market-award dispatch to the batteries, and settlement follows the day after.

It prints the hub URL, the login and a live one-line status, and stops everything cleanly
on Ctrl-C (or after ``run_for`` seconds, for tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from protocol.clock import ScaledClock

from .broker import BrokerError, free_port, local_broker

if TYPE_CHECKING:
    from edge_agent import Agent
    from firmware_sims import SimSite

TENANT = "demo"
EDGE = "park-a"
PRESET = "park-a"
DEMO_USER = "demo"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    speed: float = 60.0
    fresh: bool = False
    password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    run_for: float | None = None
    workdir: Path = Path("var/demo")
    status_every_s: float = 2.0


@dataclass(frozen=True, slots=True)
class DemoHandles:
    """What a running demo exposes (to its status line and to tests)."""

    hub_url: str
    mqtt_url: str
    password: str
    vpp_id: str
    instance_ids: dict[str, str]
    site: SimSite
    agent: Agent


DEMO_FILES = ("hub.db", "outbox.db")
DISPATCHABLE_KINDS = frozenset({"battery", "pv"})
"""What the park's agent writes setpoints to; the chiller and EV chargers are monitored."""


class DemoError(Exception):
    """The demo cannot start as asked (the message says why)."""


def clear_workdir(workdir: Path) -> None:
    """Delete the demo's own files for ``--fresh``; refuse a folder holding anything else."""
    if not workdir.exists():
        return
    foreign = [p.name for p in workdir.iterdir() if not p.name.startswith(DEMO_FILES)]
    if foreign:
        raise DemoError(
            f"--fresh: {workdir} holds files the demo did not make ({', '.join(sorted(foreign))});"
            " choose another --workdir"
        )
    for path in workdir.iterdir():
        path.unlink()


def rated_kw(spec: object) -> float:
    """Nameplate power of a simulated device: rated W, or a three-phase charger's current."""
    from firmware_sims import EVChargerSpec

    if isinstance(spec, EVChargerSpec):
        return spec.max_a * 230.0 * 3 / 1000
    rated_w = getattr(spec, "rated_w", 0.0)
    return float(rated_w) / 1000 if isinstance(rated_w, int | float) else 0.0


def _port_or_free(host: str, port: int) -> int:
    """``port`` if it can be bound on ``host`` now, else a free one."""
    if port == 0:
        return free_port(host)
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return free_port(host)
    return port


@contextlib.asynccontextmanager
async def start_demo(options: DemoOptions, console: Console) -> AsyncIterator[DemoHandles]:
    """Start broker, park, hub and agent; yield their handles; stop them in reverse order."""
    from edge_agent import Agent, parse_config
    from edge_agent.cli import site_config_text
    from firmware_sims import BatterySpec, SimSite, load_preset
    from hub import DemoDevice, Settings, demo_seed, serve

    workdir = options.workdir
    if options.fresh:
        clear_workdir(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    password = options.password or secrets.token_urlsafe(9)
    clock = ScaledClock(options.speed)
    spec = load_preset(PRESET)

    async with local_broker(options.host, 0) as mqtt_url:
        console.print(f"[green]MQTT broker[/]   {mqtt_url}")
        async with SimSite(spec, clock=clock, host=options.host, port_base=0, seed=7) as site:
            console.print(f"[green]simulated park[/] {PRESET}: {len(site.endpoints)} devices")
            settings = Settings(
                db_url=f"sqlite+aiosqlite:///{(workdir / 'hub.db').resolve()}",
                mqtt_url=mqtt_url,
                mqtt_client_id="hub-demo",
                tenant=TENANT,
                jwt_secret=secrets.token_urlsafe(32),
                trading_loop=True,
            )
            seed = await demo_seed(
                settings,
                edge=EDGE,
                tenant=TENANT,
                devices=[
                    DemoDevice(
                        ep.device,
                        ep.kind,
                        rated_kw(dev),
                        dev.capacity_wh / 1000 if isinstance(dev, BatterySpec) else 0.0,
                    )
                    for ep, dev in zip(site.endpoints, spec.devices, strict=True)
                ],
                username=DEMO_USER,
                password=password,
                vpp_kinds=DISPATCHABLE_KINDS,
                market=True,
            )
            console.print(
                "[green]simulated market[/] Shandong day-ahead spot (sim://shandong); "
                "the VPP bids with a storage-arbitrage strategy before each gate closure"
            )
            port = _port_or_free(options.host, options.port)
            async with serve(settings, host=options.host, port=port, clock=clock) as hub_url:
                config = parse_config(
                    site_config_text(
                        spec,
                        site.endpoints,
                        mqtt_url=mqtt_url,
                        tenant=TENANT,
                        edge=EDGE,
                        outbox_path=str(workdir / "outbox.db"),
                        metrics_port=0,
                    )
                )
                async with Agent(config, clock=clock) as agent:
                    yield DemoHandles(
                        hub_url=hub_url,
                        mqtt_url=mqtt_url,
                        password=password,
                        vpp_id=seed.vpp_id,
                        instance_ids=seed.instance_ids,
                        site=site,
                        agent=agent,
                    )


def status_line(handles: DemoHandles) -> str:
    """Devices online and the VPP's output, from the agent's and the park's own state."""
    statuses = {name: runner.status.value for name, runner in handles.agent.runners.items()}
    online = sum(1 for status in statuses.values() if status == "online")
    site = handles.site
    batteries = [site.battery(n) for n in site.names if site.device_kind(n) == "battery"]
    pv = [site.pv(n) for n in site.names if site.device_kind(n) == "pv"]
    bess_kw = sum(b.p_w for b in batteries) / 1000
    pv_kw = sum(p.p_w for p in pv) / 1000
    soc = sum(b.soc_pct for b in batteries) / max(1, len(batteries))
    grid_kw = site.meter_import_w / 1000
    return (
        f"online {online}/{len(statuses)} | battery {bess_kw:+.0f} kW SoC {soc:.0f} % "
        f"| PV {pv_kw:.0f} kW | grid import {grid_kw:+.0f} kW"
    )


async def run_demo(options: DemoOptions, console: Console) -> int:
    """Run until Ctrl-C or SIGTERM (or ``run_for`` seconds); return the process exit code.

    SIGTERM (systemd, ``timeout``, ``kill``) cancels the demo like Ctrl-C does, from the
    first moment on, so every part is stopped in order and nothing is left running.
    """
    loop, main = asyncio.get_running_loop(), asyncio.current_task()
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True  # also ends the status loop, should a library swallow the cancel
        if main is not None:
            main.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        async with start_demo(options, console) as handles:
            console.print(
                f"\n[bold green]Lingtan VPP demo is running[/] (clock x{options.speed:g})\n"
                f"  console   [bold]{handles.hub_url}/[/] (open in a browser)\n"
                f"  API docs  {handles.hub_url}/schema\n"
                f"  login     user [bold]{DEMO_USER}[/], password [bold]{handles.password}[/]\n"
                f"            POST {handles.hub_url}/api/v1/auth/login\n"
                f"  VPP       {handles.vpp_id}  (GET /api/v1/vpp/vpps/{handles.vpp_id}"
                "/aggregated-params)\n"
                f"  broker    {handles.mqtt_url}\n"
                "Press Ctrl-C to stop.\n"
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(options.run_for):
                    while not terminated:
                        console.print(status_line(handles))
                        await asyncio.sleep(options.status_every_s)
    except asyncio.CancelledError:
        if not terminated:
            raise
        console.print("stopped (SIGTERM)")
    except (BrokerError, DemoError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
    return 0
