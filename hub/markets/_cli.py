"""``vpp market``: the simulated exchange as its own process (I/O).

    vpp market sim [--port 8710] [--preset shandong] [--seed 2026] [--speed 60]
                   [--start 2026-03-01T00:00:00Z] [--history prices.csv] [--port-file F]

Serves the connector HTTP API (:mod:`hub.markets._sim_server`) on loopback; the hub
reaches it with :class:`~hub.markets.HttpMarketConnector`. ``--port 0`` binds a free port
and prints it (and writes it to ``--port-file``). The synthetic series covers the
clock's year and the next one (same seed; in code, :func:`~hub.markets.reference_year` is
the shared 2026).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Market simulator: the simulated exchange over the connector HTTP API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _start(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not ISO 8601", param_hint="--start") from None
    if value.tzinfo is None:
        raise typer.BadParameter("give an offset (Z or +08:00)", param_hint="--start")
    return value.timestamp()


@app.command("sim")
def sim(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="HTTP port (0: a free one).")] = 8710,
    preset: Annotated[
        str, typer.Option(help="Province rules (shandong, shanxi, ...).")
    ] = "shandong",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic price year.")] = 2026,
    speed: Annotated[
        float, typer.Option(min=0.001, help="Clock speed (60: an hour a minute).")
    ] = 1.0,
    start: Annotated[
        str | None, typer.Option(help="Clock start, ISO 8601 with offset (default: now).")
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="Replay this price history (CSV/Parquet) instead.")
    ] = None,
    port_file: Annotated[
        Path | None, typer.Option(help="Write the bound port to this file.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "INFO",
) -> None:
    """Run the simulated exchange (day-ahead, ancillary, DR) until interrupted."""
    from hub._logging import configure
    from protocol.clock import RealClock, ScaledClock

    from ._history import replay_from_file
    from ._presets import PRESETS
    from ._prices import PriceHistoryError, synthetic_prices
    from ._sim import SimulatedExchange

    configure(log_level.upper())
    if preset not in PRESETS:
        raise typer.BadParameter(f"one of {', '.join(sorted(PRESETS))}", param_hint="--preset")
    rules = PRESETS[preset]
    origin = _start(start)
    clock = RealClock() if speed == 1.0 and origin is None else ScaledClock(speed, origin)
    if history is not None:
        try:
            exchange: SimulatedExchange = replay_from_file(history, clock, rules=rules)
        except PriceHistoryError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    else:
        # Two years from January 1st of the clock's year: a long run does not run out.
        year = dt.datetime.fromtimestamp(clock.now(), dt.UTC).year
        first, last = dt.date(year, 1, 1), dt.date(year + 2, 1, 1)
        series = synthetic_prices(first, (last - first).days, seed=seed, rules=rules)
        exchange = SimulatedExchange(clock, rules=rules, series=series, seed=seed)
    asyncio.run(_serve(exchange, host, port, port_file))


async def _serve(exchange: object, host: str, port: int, port_file: Path | None) -> None:
    from ._sim import SimulatedExchange
    from ._sim_server import SimServer

    assert isinstance(exchange, SimulatedExchange)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with SimServer(exchange, host=host, port=port) as server:
        if port_file is not None:
            await asyncio.to_thread(port_file.write_text, f"{server.port}\n", encoding="utf-8")
        typer.echo(f"market sim {exchange.name} listening on {server.url}")
        await stop.wait()
