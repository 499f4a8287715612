"""The ``vpp`` command line.

Groups: ``protocol`` (generated contract docs), ``broker`` (embedded MQTT broker),
``demo`` (the whole system on one machine), and ``hub`` / ``agent`` / ``sim``, which each
package supplies as ``<package>.cli:app``. A group whose extra is not installed says which
one to install and exits with code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
import typer
import typer.main
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

if TYPE_CHECKING:
    # typer >= 0.2x vendors click as typer._click: its groups take that package's types.
    from typer._click.core import Command, Context

from protocol.aio import cancel_on_stop_signals

from . import __version__

err = Console(stderr=True)


class _LazyGroups(TyperGroup):
    """The root command: the eager groups above plus the registered ones, loaded on use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in _GROUPS if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in _GROUPS and cmd_name not in self.commands:
            # get_group, not get_command: a one-command Typer (vpp market) would collapse
            # into that command, and "vpp market sim" would then be refused.
            command = typer.main.get_group(_load(cmd_name))
            command.name = cmd_name
            command.help = command.help or _GROUPS[cmd_name][2]
            command.short_help = _GROUPS[cmd_name][2]
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="vpp",
    cls=_LazyGroups,
    help="Lingtan VPP: edge agents and a hub that turn park resources into virtual power plants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vpp (lingtan-vpp) {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Lingtan VPP command line."""


# --------------------------------------------------------------------------- protocol

protocol_app = typer.Typer(help="The MQTT contract: generated AsyncAPI and JSON Schema.")
app.add_typer(protocol_app, name="protocol")

Format = Literal["yaml", "json"]


def _dump(document: object, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        text = msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"
    elif fmt == "yaml":
        text = msgspec.yaml.encode(document).decode()
    else:
        err.print(f"[red]error:[/] --format must be yaml or json, not {fmt!r}")
        raise typer.Exit(2)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@protocol_app.command("asyncapi")
def protocol_asyncapi(
    fmt: Annotated[str, typer.Option("--format", "-f", help="yaml or json")] = "yaml",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the AsyncAPI 3.0 document of the MQTT contract (generated from the Structs)."""
    from protocol import asyncapi_document

    _dump(asyncapi_document(__version__), fmt, output)


@protocol_app.command("schema")
def protocol_schema(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or yaml")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema (2020-12) of every wire message."""
    from protocol import json_schemas

    _dump(json_schemas(), fmt, output)


# --------------------------------------------------------------------------- broker


@app.command("broker")
def broker(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 1883,
) -> None:
    """Run the embedded amqtt broker (zero-setup demo broker; use mosquitto in production)."""
    from .broker import BrokerError, free_port, run_amqtt

    if port == 0:
        port = free_port(host)

    async def serve() -> None:
        cancel_on_stop_signals()
        async with run_amqtt(host, port) as url:
            err.print(f"embedded MQTT broker listening on [bold]{url}[/] (Ctrl-C stops it)")
            await asyncio.Event().wait()

    try:
        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
            asyncio.run(serve())
    except (BrokerError, OSError) as exc:
        err.print(f"[red]error:[/] cannot start the broker on {host}:{port}: {exc}")
        raise typer.Exit(1) from exc


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo(
    speed: Annotated[float, typer.Option(min=0.1, max=10_000, help="Clock speed-up.")] = 60.0,
    fresh: Annotated[bool, typer.Option(help="Start over with a new database.")] = False,
    password: Annotated[str | None, typer.Option(help="Demo user's password.")] = None,
    host: Annotated[str, typer.Option(help="Address for the hub and broker.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Hub HTTP port (a free one if taken).")
    ] = 8080,
    workdir: Annotated[
        Path, typer.Option(help="Where the hub database and the agent outbox live.")
    ] = Path("var/demo"),
    run_for: Annotated[
        float | None, typer.Option(hidden=True, help="Stop after this many seconds.")
    ] = None,
) -> None:
    """Run the whole system on one machine with embedded defaults and print the URL."""
    from .demo import DemoOptions, run_demo

    options = DemoOptions(
        speed=speed,
        fresh=fresh,
        password=password,
        host=host,
        port=port,
        run_for=run_for,
        workdir=workdir,
    )
    code = 0  # Ctrl-C is how the demo is meant to stop: a clean exit, not a traceback
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(run_demo(options, err))
    raise typer.Exit(code)


# --------------------------------------------------------------------------- sub-apps

_OURS = {"protocol", "edge_agent", "hub", "firmware_sims", "lingtan"}
_GROUPS: dict[str, tuple[str, str, str]] = {}
"""Group name -> (module with a Typer ``app``, the extra it needs, one-line summary)."""


def _mount(module: str, name: str, extra: str, summary: str) -> None:
    """Register ``module:app`` as ``vpp <name>``. It is imported only when that group runs
    (or ``vpp --help`` lists it): ``vpp agent run`` never loads the hub, numpy or the
    simulators, which keeps every process's start-up short."""
    _GROUPS[name] = (module, extra, summary)


def _load(name: str) -> typer.Typer:
    module, extra, summary = _GROUPS[name]
    try:
        sub: typer.Typer = importlib.import_module(module).app
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in _OURS:
            raise
        missing = exc.name
        sub = typer.Typer(help=f"{summary} [needs lingtan-vpp[{extra}]]")

        @sub.callback(invoke_without_command=True)
        def _unavailable() -> None:
            err.print(
                f"[red]error:[/] vpp {name} needs the '{extra}' extra ({missing} is missing): "
                + escape(f'pip install "lingtan-vpp[{extra}]"')
            )
            raise typer.Exit(2)

    return sub


_mount("hub.cli", "hub", "hub", "Run and administer the hub (API, ingest, dispatch, users).")
_mount("edge_agent.cli", "agent", "agent", "Run and inspect the edge agent on a site PC.")
_mount("firmware_sims.cli", "sim", "sims", "Simulated devices and whole parks on loopback.")
_mount("hub.markets._cli", "market", "hub", "Market simulator: the simulated exchange over HTTP.")


def main() -> None:
    """Entry point of the ``vpp`` script."""
    app()


__all__ = ["app", "main"]


if __name__ == "__main__":
    main()
