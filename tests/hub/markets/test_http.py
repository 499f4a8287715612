"""The simulated exchange over HTTP: SimServer on loopback (port 0) and the HTTP connector,
with faults (slow, garbage, 5xx, refused) translated to ConnectorError at one seam, and
`vpp market sim` as its own process."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hub.markets import (
    PRESETS,
    BidRejectedError,
    BidSubmission,
    ConnectorTimeoutError,
    HttpMarketConnector,
    HttpTimeouts,
    InvalidRequestError,
    MarketBid,
    MarketConnector,
    MarketUnavailableError,
    PriceSeries,
    SimServer,
    SimulatedExchange,
    StorageEnvelope,
    slot_start,
    synthetic_prices,
)
from protocol.clock import ManualClock

RULES = PRESETS["shandong"]
D = dt.date(2026, 3, 2)
SAFETY_TIMEOUT = 10.0
START = dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC).timestamp()  # D-1 08:00 local
CLOSURE = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC).timestamp()


@pytest.fixture(scope="module")
def series() -> PriceSeries:
    return synthetic_prices(dt.date(2026, 2, 27), 6, seed=4)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
async def server(clock: ManualClock, series: PriceSeries) -> AsyncIterator[SimServer]:
    exchange = SimulatedExchange(clock, rules=RULES, series=series)
    async with SimServer(exchange) as running:
        yield running


@pytest.fixture
async def market(server: SimServer) -> AsyncIterator[HttpMarketConnector]:
    async with HttpMarketConnector(server.url, name="sim-http", timeout_s=5.0) as connector:
        yield connector


def submission(*bids: MarketBid, key: str = "k1", **kw: object) -> BidSubmission:
    fields: dict[str, object] = {
        "vpp_id": "vpp-1",
        "market_type": "SPOT",
        "trading_date": D,
        "bids": list(bids),
        "idempotency_key": key,
    }
    fields.update(kw)
    return BidSubmission(**fields)  # type: ignore[arg-type]


async def test_a_day_over_http_gives_what_the_exchange_gives(
    server: SimServer, market: HttpMarketConnector, clock: ManualClock
) -> None:
    assert isinstance(market, MarketConnector)
    storage = StorageEnvelope(energy_kwh=100, soc_start_kwh=100, discharge_efficiency=1.0)
    bids = [MarketBid(slot=s, side="sell", quantity_kw=200, price_yuan_mwh=-80) for s in range(4)]
    sent = submission(*bids, storage=storage)
    receipt = await asyncio.wait_for(market.submit_bids(sent), SAFETY_TIMEOUT)
    again = await market.submit_bids(sent)
    assert (again.submission_id, again.duplicate) == (receipt.submission_id, True)
    assert await market.clearing_results("vpp-1", "SPOT", D) == []

    clock.advance(CLOSURE - clock.now() + 1)
    (result,) = await market.clearing_results("vpp-1", "SPOT", D)
    direct = await server.exchange.clearing_results("vpp-1", "SPOT", D)
    assert [result] == list(direct)
    assert [b.cleared_kw for b in result.bids] == [200, 200, 0, 0]  # 100 kWh: two slots
    window = (slot_start(RULES, D, 0), slot_start(RULES, D, 8))
    points = await market.market_data("SPOT", *window)
    assert points == list(await server.exchange.market_data("SPOT", *window))
    assert len(points) == 8
    assert await market.settlement_statement("vpp-1", "SPOT", D) is None
    clock.advance(2 * 86_400)
    statement = await market.settlement_statement("vpp-1", "SPOT", D)
    assert statement is not None
    assert sum(line.cleared_kwh for line in statement.lines) == pytest.approx(100.0)


async def test_rejections_and_bad_questions_keep_their_rule(
    market: HttpMarketConnector, clock: ManualClock
) -> None:
    with pytest.raises(BidRejectedError) as rejected:
        await market.submit_bids(
            submission(MarketBid(slot=1, side="sell", quantity_kw=100, price_yuan_mwh=9999))
        )
    assert rejected.value.rule == "offer_cap"
    assert rejected.value.problems[0][0] == "bids[0].price_yuan_mwh"
    assert rejected.value.connector == "sim-http"
    with pytest.raises(InvalidRequestError, match="CAPACITY"):
        await market.clearing_results("vpp-1", "CAPACITY", D)
    with pytest.raises(InvalidRequestError, match="aware"):
        await market.market_data("SPOT", dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 3))
    clock.advance(CLOSURE - clock.now())
    with pytest.raises(BidRejectedError) as late:
        await market.submit_bids(
            submission(MarketBid(slot=1, side="sell", quantity_kw=100, price_yuan_mwh=1))
        )
    assert late.value.rule == "gate_closure"


async def test_faults_become_connector_errors(server: SimServer) -> None:
    async with HttpMarketConnector(
        server.url, timeout_s=0.3, timeouts=HttpTimeouts(connect=0.3, read=0.3)
    ) as market:
        server.faults.garbage = True
        with pytest.raises(MarketUnavailableError, match="garbage"):
            await market.clearing_results("vpp-1", "SPOT", D)
        server.faults.garbage = False
        server.faults.unavailable = True
        with pytest.raises(MarketUnavailableError, match="503") as down:
            await market.clearing_results("vpp-1", "SPOT", D)
        assert down.value.retryable is True
        server.faults.unavailable = False
        server.faults.slow_s = 2.0
        with pytest.raises(ConnectorTimeoutError):
            await asyncio.wait_for(market.clearing_results("vpp-1", "SPOT", D), SAFETY_TIMEOUT)
        server.faults.slow_s = 0.0
        assert await market.clearing_results("vpp-1", "SPOT", D) == []


async def test_fault_switches_over_http(server: SimServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=SAFETY_TIMEOUT) as client:
        r = await client.post("/v1/sim/faults", json={"unavailable": True})
        assert r.json() == {"slow_s": 0.0, "unavailable": True, "garbage": False}
        assert (await client.get("/v1/health")).status_code == 503
        await client.post("/v1/sim/faults", json={})
        assert (await client.get("/v1/health")).json()["status"] == "ok"
        call = await client.post(
            "/v1/sim/demand-response",
            json={"trading_date": "2026-03-02", "slots": [72, 73], "requested_kw": 500},
        )
        assert call.status_code == 201
        assert call.json()["slots"] == [72, 73]
        bad = await client.post(
            "/v1/sim/demand-response",
            json={"trading_date": "2026-03-02", "slots": [96], "requested_kw": 500},
        )
        assert bad.status_code == 400
        assert (await client.post("/v1/bids", content=b"{")).status_code == 400


async def test_a_market_that_is_not_there_is_unavailable(free_port: int) -> None:
    async with HttpMarketConnector(f"http://127.0.0.1:{free_port}", timeout_s=2.0) as market:
        with pytest.raises(MarketUnavailableError, match="ConnectError"):
            await market.clearing_results("vpp-1", "SPOT", D)


def test_vpp_market_sim_runs_as_its_own_process(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lingtan",
            "market",
            "sim",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--preset",
            "shanxi",
            "--speed",
            "60",
            "--start",
            "2026-03-01T00:00:00Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + SAFETY_TIMEOUT * 3
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "market sim did not come up"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        health = httpx.get(f"{url}/v1/health", timeout=SAFETY_TIMEOUT).json()
        assert health["status"] == "ok"
        assert health["now"].startswith("2026-03-01")
        r = httpx.get(
            f"{url}/v1/market-data",
            params={
                "market_type": "SPOT",
                "start": "2026-02-28T16:00:00+00:00",
                "end": "2026-03-01T16:00:00+00:00",
            },
            timeout=SAFETY_TIMEOUT,
        )
        assert r.status_code == 200
        prices = [p["price_yuan_mwh"] for p in r.json()]
        assert len(prices) == 96  # 2026-03-01 cleared at its gate closure on 02-28
        assert min(prices) >= 0  # Shanxi: no negative prices
    finally:
        proc.terminate()
        proc.wait(SAFETY_TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 0
