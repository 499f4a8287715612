"""``vpp demo``: the whole system on one machine with embedded defaults.

Today it starts the local broker (mosquitto if installed, else in-process amqtt) and says
which parts are not yet there; the hub, the simulated park and its agent join as their
packages land.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from rich.console import Console

from .broker import BrokerError, local_broker


@dataclass(frozen=True, slots=True)
class DemoOptions:
    speed: float = 60.0
    fresh: bool = False
    password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    run_for: float | None = None


NOT_YET = ("hub (API and console)", "simulated park", "edge agent")


async def run_demo(options: DemoOptions, console: Console) -> int:
    """Run until Ctrl-C (or ``run_for`` seconds); return the process exit code."""
    try:
        async with local_broker(options.host, 0) as url:
            console.print(f"[green]MQTT broker[/] running at [bold]{url}[/]")
            for part in NOT_YET:
                console.print(f"[yellow]not yet available:[/] {part}")
            console.print("Press Ctrl-C to stop.")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(options.run_for):
                    await asyncio.Event().wait()
    except BrokerError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    return 0
