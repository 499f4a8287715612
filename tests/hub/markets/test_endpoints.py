"""api_endpoint -> connector: sim:, replay:<file>, http(s)://, and what is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.markets import (
    PRESETS,
    HttpMarketConnector,
    MarketConnector,
    ReplayMarket,
    SimulatedExchange,
    endpoint_problems,
    open_connector,
    parse_endpoint,
    price_csv,
    synthetic_prices,
)
from protocol.clock import ManualClock


@pytest.mark.parametrize(
    ("text", "kind", "field", "value"),
    [
        ("sim:", "sim", "preset", "shandong"),
        ("sim://shanxi?seed=7", "sim", "seed", 7),
        ("sim:shanxi", "sim", "preset", "shanxi"),
        ("replay:/var/prices/2025.csv", "replay", "path", "/var/prices/2025.csv"),
        ("replay:prices/old.csv", "replay", "path", "prices/old.csv"),
        ("http://127.0.0.1:8710/", "http", "url", "http://127.0.0.1:8710"),
        ("https://market.example/api", "http", "url", "https://market.example/api"),
    ],
)
def test_endpoints_parse(text: str, kind: str, field: str, value: object) -> None:
    endpoint = parse_endpoint(text)
    assert endpoint.kind == kind
    assert getattr(endpoint, field) == value
    assert endpoint_problems(text) == []


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("ftp://x", "use sim:"),
        ("sim://atlantis", "unknown preset"),
        ("sim:?seed=x", "seed must be an integer"),
        ("sim:?speed=2", "unknown parameter 'speed'"),
        ("replay:", "needs the path"),
        ("http://", "no host"),
        ("http://h/api?token=1", "without query"),
    ],
)
def test_bad_endpoints_say_why(text: str, match: str) -> None:
    ((path, message),) = endpoint_problems(text)
    assert path == "api_endpoint"
    assert match in message


async def test_open_connector_builds_each_kind(tmp_path: Path) -> None:
    clock = ManualClock()
    sim = open_connector("sim://shanxi?seed=3", clock=clock, name="sx")
    assert isinstance(sim, SimulatedExchange)
    assert (sim.name, sim.seed, sim.rules) == ("sx", 3, PRESETS["shanxi"])
    history = tmp_path / "h.csv"
    history.write_text(price_csv(synthetic_prices(dt.date(2026, 1, 1), 2, seed=1)))
    replay = open_connector(f"replay:{history}", clock=clock)
    assert isinstance(replay, ReplayMarket)
    assert replay.series.days == 2
    http = open_connector("http://127.0.0.1:1", clock=clock, headers={"x-api-key": "k"})
    assert isinstance(http, HttpMarketConnector)
    for connector in (sim, replay, http):
        assert isinstance(connector, MarketConnector)
        await connector.aclose()
    with pytest.raises(ValueError, match="use sim:"):
        open_connector("gopher://x", clock=clock)
