"""``vpp agent``: initialise, run, check and inspect the edge agent.

* ``vpp agent init --preset park-a --port-base 15020 --mqtt mqtt://127.0.0.1:1883 --edge park-a``
  prints a working config for a simulated park started with the same preset and port base.
* ``vpp agent run --config agent.toml`` runs the agent until SIGINT/SIGTERM.
* ``vpp agent scan 192.0.2.10:502 opc.tcp://192.0.2.20:4840 --units 1-10 -o agent.toml``
  finds devices (reads only) and writes a commented config for them.
* ``vpp agent check --config agent.toml`` validates the config and reads every device once.
* ``vpp agent status --config agent.toml`` shows the running agent's state (or the outbox's
  when it is not running).

Heavy imports (pymodbus, asyncua, aiomqtt, the simulators) happen inside the commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from protocol.aio import cancel_on_stop_signals

from ._config import AgentConfig, load_config
from ._errors import AgentError, ConfigError

if TYPE_CHECKING:
    from firmware_sims import DeviceEndpoint, SiteSpec

err = Console(stderr=True)
out = Console()

app = typer.Typer(
    help="Run and inspect the edge agent on a site PC.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The agent's TOML file.")]


def _load(path: Path) -> AgentConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]config error:[/] {exc}")
        raise typer.Exit(2) from exc


def site_config_text(
    spec: SiteSpec,
    endpoints: Sequence[DeviceEndpoint],
    *,
    mqtt_url: str,
    tenant: str,
    edge: str,
    outbox_path: str,
    metrics_port: int,
) -> str:
    """A validated agent config for a simulated park whose devices answer at ``endpoints``.

    Shared by ``vpp agent init --preset`` and ``vpp demo``; the only place in the agent
    that knows the simulators' site description.
    """
    from firmware_sims import BatterySpec, EVChargerSpec, PVSpec

    from ._config import parse_config
    from ._init import InitDevice, render_config

    devices = [
        InitDevice(
            id=ep.device,
            kind=ep.kind,
            protocol=ep.protocol,
            host=ep.host,
            port=ep.port,
            unit_id=ep.unit_id,
            endpoint=ep.endpoint,
            rated_w=dev.rated_w if isinstance(dev, BatterySpec | PVSpec) else None,
            soc_min_pct=dev.soc_min_pct if isinstance(dev, BatterySpec) else None,
            soc_max_pct=dev.soc_max_pct if isinstance(dev, BatterySpec) else None,
            max_current_a=dev.max_a if isinstance(dev, EVChargerSpec) else None,
        )
        for ep, dev in zip(endpoints, spec.devices, strict=True)
    ]
    text = render_config(
        devices=devices,
        mqtt_url=mqtt_url,
        tenant=tenant,
        edge=edge,
        import_max_w=max(1.0, spec.base_load_w * 2.5),
        export_max_w=max(1.0, spec.base_load_w * 0.5),
        outbox_path=outbox_path,
        metrics_port=metrics_port,
    )
    parse_config(text)
    return text


@app.command("init")
def init(
    preset: Annotated[str, typer.Option(help="Simulated park preset (park-s, park-a, park-l).")],
    port_base: Annotated[
        int, typer.Option(min=1, max=65000, help="First device port of `vpp sim site`.")
    ] = 15020,
    mqtt: Annotated[str, typer.Option(help="Hub broker URL.")] = "mqtt://127.0.0.1:1883",
    edge: Annotated[str, typer.Option(help="This site's edge id.")] = "park-a",
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "demo",
    host: Annotated[str, typer.Option(help="Address the simulated devices listen on.")] = (
        "127.0.0.1"
    ),
    outbox: Annotated[str, typer.Option(help="Outbox database path.")] = "var/agent/outbox.db",
    metrics_port: Annotated[int, typer.Option(min=0, max=65535, help="0 disables.")] = 9108,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write a file.")] = None,
) -> None:
    """Print a working config for a simulated park (`vpp sim site --preset ...`)."""
    try:
        from firmware_sims import load_preset, plan_endpoints
    except ImportError as exc:
        err.print(f"[red]error:[/] --preset needs the simulators: {exc}")
        raise typer.Exit(2) from exc

    try:
        spec = load_preset(preset)
        endpoints = plan_endpoints(spec, host, port_base)
    except Exception as exc:  # SimError and friends: shown, not raised
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    try:
        text = site_config_text(
            spec,
            endpoints,
            mqtt_url=mqtt,
            tenant=tenant,
            edge=edge,
            outbox_path=outbox,
            metrics_port=metrics_port,
        )
    except (ValueError, ConfigError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@app.command("scan")
def scan(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="HOST[:PORT] (Modbus TCP) or opc.tcp://... endpoints.", show_default=False
        ),
    ] = None,
    units: Annotated[str, typer.Option(help="Modbus unit ids to ask, e.g. 1-10 or 1,3,5.")] = "1",
    cidr: Annotated[
        str | None, typer.Option("--range", help="Also scan every host of this CIDR range.")
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Modbus port when not given.")] = 502,
    timeout: Annotated[float, typer.Option(min=0.05, max=30, help="Per request, s.")] = 1.0,
    target_timeout: Annotated[float, typer.Option(min=0.1, max=600, help="Per target, s.")] = 30.0,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Targets at once.")] = 16,
    mqtt: Annotated[str, typer.Option(help="Hub broker URL.")] = "mqtt://127.0.0.1:1883",
    edge: Annotated[str, typer.Option(help="This site's edge id.")] = "site-1",
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "default",
    import_max_w: Annotated[float | None, typer.Option(min=1, help="POC import limit, W.")] = None,
    export_max_w: Annotated[float | None, typer.Option(min=0, help="POC export limit, W.")] = None,
    outbox: Annotated[str, typer.Option(help="Outbox database path.")] = "var/agent/outbox.db",
    metrics_port: Annotated[int, typer.Option(min=0, max=65535, help="0 disables.")] = 9108,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write a file.")] = None,
) -> None:
    """Find devices (SunSpec, known maps, OPC UA objects) and write a commented config.

    Reads only; bounded in time and concurrency. What could not be used is listed in the
    output (and at the end of the file).
    """
    from ._scan import parse_targets, parse_units, render_scan_config
    from .devices._scan import scan as run_scan

    try:
        unit_ids = parse_units(units)
        modbus, opcua = parse_targets(targets or [], units=unit_ids, default_port=port,
                                      cidr=cidr)  # fmt: skip
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if not modbus and not opcua:
        err.print("[red]error:[/] give at least one target (HOST[:PORT], opc.tcp://..., --range)")
        raise typer.Exit(2)
    result = asyncio.run(
        run_scan(modbus, opcua, timeout_s=timeout, target_timeout_s=target_timeout,
                 concurrency=concurrency)
    )  # fmt: skip
    try:
        text = render_scan_config(
            result, mqtt_url=mqtt, tenant=tenant, edge=edge, outbox_path=outbox,
            metrics_port=metrics_port, import_max_w=import_max_w, export_max_w=export_max_w,
            scanned=" ".join([*(targets or []), *([f"--range {cidr}"] if cidr else [])])[:400],
        )  # fmt: skip
        from ._config import parse_config

        parse_config(text)
    except (ValueError, ConfigError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    for dev in result.found:
        where = dev.endpoint or f"{dev.host}:{dev.port}/{dev.unit_id}"
        rated = "" if dev.rated_w is None else f" {dev.rated_w:,.0f} W"
        err.print(f"found {dev.kind} at {where}{rated}")
    for skipped in result.skipped:
        err.print(f"[yellow]skipped[/] {skipped.target}: {skipped.reason}")
    known = sum(1 for d in result.found if d.kind != "unknown")
    err.print(f"{known} devices, {len(result.found) - known} unknown, "
              f"{len(result.skipped)} skipped")  # fmt: skip
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@app.command("run")
def run(config: ConfigOpt) -> None:
    """Run the agent until SIGINT or SIGTERM (then release devices and flush)."""
    cfg = _load(config)
    logging.basicConfig(
        level=cfg.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from ._app import Agent

    async def main() -> None:
        cancel_on_stop_signals()
        await Agent(cfg).run()

    try:
        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
            asyncio.run(main())
    except* AgentError as group:
        for exc in group.exceptions:
            err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


@app.command("check")
def check(config: ConfigOpt) -> None:
    """Validate the config and reach every device once; print a table."""
    cfg = _load(config)
    missing = [
        (i, dev.serial_port)
        for i, dev in enumerate(cfg.devices)
        if dev.protocol == "modbus_rtu" and dev.serial_port and not Path(dev.serial_port).exists()
    ]
    for i, port in missing:
        err.print(f"[red]config error:[/] $.devices[{i}].serial_port: {port} does not exist")
    if missing:
        raise typer.Exit(2)
    from protocol.clock import RealClock

    from ._app import default_adapter_factory
    from ._errors import DeviceError
    from .devices import DeviceAdapter

    factory = default_adapter_factory(cfg, RealClock())

    async def probe(adapter: DeviceAdapter) -> tuple[bool, str]:
        try:
            async with asyncio.timeout(10.0):
                await adapter.connect()
                reading = await adapter.read(slow=True)
        except DeviceError as exc:
            return False, str(exc)
        except TimeoutError:
            return False, "timed out"
        finally:
            await adapter.close()
        p = "-" if reading.p_w is None else f"{reading.p_w:,.0f} W"
        extra = "" if reading.soc_pct is None else f", SoC {reading.soc_pct:.1f} %"
        return True, f"{p}{extra}, {len(reading.values)} points"

    async def main() -> list[tuple[bool, str]]:
        return list(await asyncio.gather(*(probe(factory(d)) for d in cfg.devices)))

    results = asyncio.run(main())
    table = Table(title=f"{cfg.site.tenant}/{cfg.site.edge}: {len(cfg.devices)} devices")
    for column in ("device", "kind", "protocol", "address", "status", "reading"):
        table.add_column(column)
    for dev, (ok, detail) in zip(cfg.devices, results, strict=True):
        if dev.protocol == "opcua":
            address = dev.endpoint
        elif dev.serial_port:
            address = f"{dev.serial_port}@{dev.baudrate}/{dev.unit_id}"
        else:
            address = f"{dev.host}:{dev.port}/{dev.unit_id}"
        table.add_row(dev.id, dev.kind, dev.protocol, address,
                      "[green]ok[/]" if ok else "[red]failed[/]", detail)  # fmt: skip
    out.print(table)
    failed = sum(1 for ok, _ in results if not ok)
    if failed:
        err.print(f"[red]{failed} of {len(results)} devices could not be read[/]")
        raise typer.Exit(1)
    out.print(f"config ok, all {len(results)} devices answered")


@app.command("status")
def status(config: ConfigOpt) -> None:
    """Local state: devices, outbox depth, last ack, schedule in force."""
    cfg = _load(config)
    url = f"http://{cfg.metrics.host}:{cfg.metrics.port}/healthz"
    doc: dict[str, object] | None = None
    if cfg.metrics.port:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                doc = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            doc = json.loads(exc.read())
        except (OSError, ValueError):
            doc = None
    rows, last_ack, sid = _outbox_summary(Path(cfg.outbox.path))
    table = Table(title=f"agent {cfg.site.tenant}/{cfg.site.edge}", show_header=False)
    table.add_column("key")
    table.add_column("value")
    table.add_row("running", "yes" if doc else "no (no answer on " + url + ")")
    table.add_row("outbox rows", str(rows))
    table.add_row("last ack (sid, seq)", str(last_ack) if last_ack else "-")
    table.add_row("session id", str(sid))
    if doc:
        for key in ("mqtt_connected", "hub_fresh", "schedule", "config_version", "cycles",
                    "storage"):  # fmt: skip
            table.add_row(key, json.dumps(doc.get(key)))
    detail = doc.get("device_status") if doc else None
    if doc and not isinstance(detail, dict):  # an older agent: states only
        table.add_row("devices", json.dumps(doc.get("devices")))
    out.print(table)
    if isinstance(detail, dict):
        from ._status import status_rows

        devices = Table(title="devices")
        for column in ("device", "kind", "state", "last value", "power", "errors",
                       "setpoint in force", "source"):  # fmt: skip
            devices.add_column(column)
        for row in status_rows(detail):
            devices.add_row(*row)
        Console().print(devices)  # COLUMNS as it is now


def _outbox_summary(path: Path) -> tuple[int, tuple[int, int] | None, int]:
    if not path.exists():
        return 0, None, 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as exc:
        err.print(f"[yellow]cannot read the outbox {path}: {exc}[/]")
        return 0, None, 0
    ack = (meta["ack_sid"], meta["ack_seq"]) if "ack_sid" in meta else None
    return rows, ack, int(meta.get("sid", 0))


__all__ = ["app"]
