"""``vpp sim``: placeholder until the firmware simulators land."""

from __future__ import annotations

import typer

app = typer.Typer(help="the firmware simulators")


@app.callback(invoke_without_command=True)
def _not_yet() -> None:
    typer.echo("vpp sim: not yet available in this version", err=True)
    raise typer.Exit(2)
