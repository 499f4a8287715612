"""``vpp hub``: placeholder until the hub lands. Import heavy dependencies inside commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="the hub")


@app.callback(invoke_without_command=True)
def _not_yet() -> None:
    typer.echo("vpp hub: not yet available in this version", err=True)
    raise typer.Exit(2)
