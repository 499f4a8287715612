"""``vpp sim``: run a simulated park, inject faults into a running one, list presets."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console

from protocol.aio import cancel_on_stop_signals

from ._errors import SimError
from ._site import DEFAULT_HOST, DEFAULT_PORT_BASE, PRESET_NAMES, SiteSpec

err = Console(stderr=True)

app = typer.Typer(
    help="Simulated devices and whole parks on loopback (SunSpec Modbus TCP, OPC UA).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _spec(preset: str | None, config: Path | None) -> SiteSpec:
    from ._site import load_preset, load_site_config

    if (preset is None) == (config is None):
        err.print("[red]error:[/] give exactly one of --preset or --config")
        raise typer.Exit(2)
    try:
        return load_preset(preset) if preset is not None else load_site_config(config)  # type: ignore[arg-type]
    except SimError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command("site")
def site(
    preset: Annotated[
        str | None, typer.Option(help=f"A built-in park: {', '.join(PRESET_NAMES)}.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A site TOML file.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = DEFAULT_HOST,
    port_base: Annotated[
        int,
        typer.Option(min=0, max=65000, help="First device port (0 = free ports)."),
    ] = DEFAULT_PORT_BASE,
    speed: Annotated[float, typer.Option(min=0.01, max=100_000, help="Clock speed-up.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of every random draw.")] = 0,
    run_for: Annotated[
        float | None, typer.Option(hidden=True, help="Stop after this many real seconds.")
    ] = None,
) -> None:
    """Start a whole park; print one JSON line per device, then the control address."""
    from protocol.clock import RealClock, ScaledClock

    from ._site import SimSite

    spec = _spec(preset, config)
    clock = RealClock() if speed == 1 else ScaledClock(speed)
    control_port = port_base + len(spec.devices) if port_base else 0

    async def serve() -> None:
        cancel_on_stop_signals()
        async with SimSite(
            spec, clock=clock, host=host, port_base=port_base, seed=seed, control_port=control_port
        ) as running:
            for ep in running.endpoints:
                sys.stdout.write(msgspec.json.encode(ep).decode() + "\n")
            assert running.control_address is not None
            chost, cport = running.control_address
            sys.stdout.write(msgspec.json.encode({"control": f"{chost}:{cport}"}).decode() + "\n")
            sys.stdout.flush()
            err.print(
                f"park [bold]{spec.name}[/]: {len(running.endpoints)} devices, "
                f"speed {speed:g}x, seed {seed} (Ctrl-C stops it)"
            )
            if run_for is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(run_for)

    try:
        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
            asyncio.run(serve())
    except (OSError, SimError) as exc:
        err.print(f"[red]error:[/] cannot start the park: {exc}")
        raise typer.Exit(1) from exc


def _address(control: str) -> tuple[str, int]:
    host, sep, port = control.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        err.print(f"[red]error:[/] --control must be HOST:PORT, not {control!r}")
        raise typer.Exit(2)
    return host, int(port)


def _params(values: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in values:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name] = float(value)
        except ValueError:
            err.print(f"[red]error:[/] --param must be NAME=NUMBER, not {item!r}")
            raise typer.Exit(2) from None
    return out


@app.command("fault")
def fault(
    control: Annotated[str, typer.Option(help="The site's control address HOST:PORT.")],
    device: Annotated[str, typer.Option(help="Device name, e.g. bess-1.")],
    kind: Annotated[
        str | None,
        typer.Option(help="drop|slow|exception|frozen|garbage|alarm|refuse_writes|reboot"),
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Clear by itself after this many seconds of site time.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=NUMBER, e.g. delay_s=3 or code=6."),
    ] = None,
    delay_s: Annotated[float | None, typer.Option(help="slow: response delay (s).")] = None,
    code: Annotated[
        int | None, typer.Option(help="exception/refuse_writes: Modbus exception code.")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Clear the fault (all if no --kind).")
    ] = False,
) -> None:
    """Inject (or clear) a fault on a device of a running 'vpp sim site'."""
    from ._control import send_control

    host, port = _address(control)
    params = _params(param or [])
    if delay_s is not None:
        params["delay_s"] = delay_s
    if code is not None:
        params["code"] = code
    if clear:
        request: dict[str, object] = {"op": "clear", "device": device, "kind": kind}
    else:
        if kind is None:
            err.print("[red]error:[/] --kind is required (or --clear)")
            raise typer.Exit(2)
        request = {
            "op": "fault",
            "device": device,
            "kind": kind,
            "seconds": seconds,
            "params": params,
        }
    try:
        reply = asyncio.run(send_control(host, port, request))
    except (OSError, TimeoutError, SimError, msgspec.DecodeError) as exc:
        err.print(f"[red]error:[/] cannot reach the site at {control}: {exc}")
        raise typer.Exit(1) from exc
    sys.stdout.write(msgspec.json.encode(reply).decode() + "\n")
    if not reply.get("ok"):
        err.print(f"[red]error:[/] {reply.get('error')}")
        raise typer.Exit(1)


@app.command("presets")
def presets() -> None:
    """List the built-in parks and their devices."""
    from ._site import PRESETS

    for name, spec in PRESETS.items():
        kinds: dict[str, int] = {}
        for dev in spec.devices:
            tag = type(dev).__struct_config__.tag
            kinds[str(tag)] = kinds.get(str(tag), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in kinds.items())
        sys.stdout.write(f"{name}: {len(spec.devices)} devices ({summary})\n")


@app.command("plan")
def plan(
    preset: Annotated[str | None, typer.Option(help="A built-in park.")] = None,
    config: Annotated[Path | None, typer.Option(help="A site TOML file.")] = None,
    host: Annotated[str, typer.Option(help="Address.")] = DEFAULT_HOST,
    port_base: Annotated[
        int, typer.Option(min=1, max=65000, help="First port.")
    ] = DEFAULT_PORT_BASE,
) -> None:
    """Print the endpoints 'vpp sim site' would use, without starting anything."""
    from ._site import plan_endpoints

    for ep in plan_endpoints(_spec(preset, config), host, port_base):
        sys.stdout.write(msgspec.json.encode(ep).decode() + "\n")
