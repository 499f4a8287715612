"""``vpp agent``: placeholder until the edge agent lands."""

from __future__ import annotations

import typer

app = typer.Typer(help="the edge agent")


@app.callback(invoke_without_command=True)
def _not_yet() -> None:
    typer.echo("vpp agent: not yet available in this version", err=True)
    raise typer.Exit(2)
