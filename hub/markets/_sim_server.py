"""``vpp market sim``: the simulated exchange as its own process, speaking the connector's
HTTP API on loopback (aiohttp), with fault switches for breaker tests (I/O).

The connector HTTP API (what :class:`~hub.markets.HttpMarketConnector` speaks; a
province adapter that speaks it, or a proxy in front of a real API, is one more plug-in).
Bodies are JSON of the :mod:`hub.markets` Structs (msgspec):

=======  ===========================================  =====================================
GET      /v1/health                                   ``{"status": "ok", "name": ...}``
GET      /v1/market-data?market_type&start&end        ``[PricePoint]`` (ISO 8601, aware)
POST     /v1/bids                                     BidSubmission -> SubmissionReceipt
GET      /v1/clearing-results?vpp_id&market_type&     ``[ClearingResult]``
         trading_date
GET      /v1/settlement-statement?(same)              MarketStatement or ``null``
GET      /v1/sim/faults, POST /v1/sim/faults          SimFaults (the switches below)
POST     /v1/sim/demand-response                      ``{trading_date, slots, requested_kw,
                                                      compensation_yuan_kwh?}`` -> the call
=======  ===========================================  =====================================

Errors: 422 ``{"error": "bid_rejected", "rule", "detail", "problems"}`` for a bid a rule
refuses, 400 ``{"error": "invalid_request", "detail"}`` for a wrong question, 503 while
``unavailable``.

Fault switches act at the HTTP layer (the exchange itself answers normally): ``slow_s``
delays each answer by that many real seconds, ``unavailable`` answers 503, ``garbage``
answers 200 with a body that is not JSON. The ``/v1/sim/*`` routes ignore them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from ._connector import (
    BidRejectedError,
    BidSubmission,
    ConnectorError,
    InvalidRequestError,
    MarketType,
)
from ._sim import SimFaults, SimulatedExchange

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXCHANGE: web.AppKey[SimulatedExchange] = web.AppKey("exchange", SimulatedExchange)
FAULTS: web.AppKey[SimFaults] = web.AppKey("faults", SimFaults)
GARBAGE = b"<html><body>502 Bad Gateway</body></html>\x00\xff"


class DemandResponseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    trading_date: dt.date
    slots: list[int]
    requested_kw: float
    compensation_yuan_kwh: float | None = None


def _json(value: object, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(value), status=status, content_type="application/json"
    )


def _error(status: int, error: str, detail: str, **extra: object) -> web.Response:
    return _json({"error": error, "detail": detail, **extra}, status=status)


def _query(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value is None:
        raise InvalidRequestError(f"query parameter {name} is required")
    return value


def _when(request: web.Request, name: str) -> dt.datetime:
    text = _query(request, name)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(f"{name} {text!r} is not ISO 8601") from None
    if value.tzinfo is None:
        raise InvalidRequestError(f"{name} must carry an offset (e.g. Z or +08:00)")
    return value


def _day(request: web.Request) -> tuple[str, MarketType, dt.date]:
    text = _query(request, "trading_date")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(f"trading_date {text!r} is not YYYY-MM-DD") from None
    market: Any = _query(request, "market_type")
    return _query(request, "vpp_id"), market, day


async def _fault(request: web.Request) -> web.Response | None:
    """The answer a switched-on fault gives instead of the exchange's (after any delay)."""
    if request.path.startswith("/v1/sim/"):
        return None
    faults = request.app[FAULTS]
    if faults.slow_s > 0:
        await asyncio.sleep(faults.slow_s)
    if faults.unavailable:
        return _error(503, "unavailable", "market closed for maintenance")
    if faults.garbage:
        return web.Response(body=GARBAGE, status=200, content_type="application/json")
    return None


@web.middleware
async def _faults_and_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    fault = await _fault(request)
    if fault is not None:
        return fault
    try:
        return await handler(request)
    except BidRejectedError as exc:
        return _error(422, "bid_rejected", str(exc), rule=exc.rule, problems=exc.problems)
    except InvalidRequestError as exc:
        return _error(400, "invalid_request", str(exc))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _error(400, "invalid_request", f"body: {exc}")
    except ConnectorError as exc:  # pragma: no cover - the exchange's own faults are off
        return _error(503, "unavailable", str(exc))


async def _health(request: web.Request) -> web.Response:
    exchange = request.app[EXCHANGE]
    return _json({"status": "ok", "name": exchange.name, "now": exchange.now().isoformat()})


async def _market_data(request: web.Request) -> web.Response:
    market: Any = _query(request, "market_type")
    points = await request.app[EXCHANGE].market_data(
        market, _when(request, "start"), _when(request, "end")
    )
    return _json(points)


async def _bids(request: web.Request) -> web.Response:
    submission = msgspec.json.decode(await request.read(), type=BidSubmission)
    receipt = await request.app[EXCHANGE].submit_bids(submission)
    return _json(receipt, status=200 if receipt.duplicate else 201)


async def _clearing(request: web.Request) -> web.Response:
    return _json(await request.app[EXCHANGE].clearing_results(*_day(request)))


async def _statement(request: web.Request) -> web.Response:
    return _json(await request.app[EXCHANGE].settlement_statement(*_day(request)))


async def _get_faults(request: web.Request) -> web.Response:
    return _json(request.app[FAULTS])


async def _set_faults(request: web.Request) -> web.Response:
    new = msgspec.json.decode(await request.read(), type=SimFaults)
    faults = request.app[FAULTS]
    faults.slow_s, faults.unavailable, faults.garbage = new.slow_s, new.unavailable, new.garbage
    log.info("market sim faults now %s", faults)
    return _json(faults)


async def _call_dr(request: web.Request) -> web.Response:
    body = msgspec.json.decode(await request.read(), type=DemandResponseRequest)
    try:
        call = request.app[EXCHANGE].call_demand_response(
            body.trading_date,
            body.slots,
            body.requested_kw,
            compensation_yuan_kwh=body.compensation_yuan_kwh,
        )
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc
    return _json(call, status=201)


def create_sim_app(exchange: SimulatedExchange, faults: SimFaults | None = None) -> web.Application:
    """The aiohttp app serving ``exchange`` (module docstring)."""
    app = web.Application(middlewares=[_faults_and_errors], client_max_size=8 * 1024 * 1024)
    app[EXCHANGE] = exchange
    app[FAULTS] = faults or SimFaults()
    app.router.add_get("/v1/health", _health)
    app.router.add_get("/v1/market-data", _market_data)
    app.router.add_post("/v1/bids", _bids)
    app.router.add_get("/v1/clearing-results", _clearing)
    app.router.add_get("/v1/settlement-statement", _statement)
    app.router.add_get("/v1/sim/faults", _get_faults)
    app.router.add_post("/v1/sim/faults", _set_faults)
    app.router.add_post("/v1/sim/demand-response", _call_dr)
    return app


class SimServer:
    """The simulated exchange served on ``host:port`` (0: a free port, see :attr:`port`),
    clearing each day at its gate closure. An async context manager; ``faults`` flips the
    HTTP fault switches from the same process (tests)."""

    def __init__(self, exchange: SimulatedExchange, *, host: str = "127.0.0.1", port: int = 0):
        self.exchange = exchange
        self.host = host
        self._port = port
        self.faults = SimFaults()
        self._runner: web.AppRunner | None = None
        self._clearer: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the server is not started")
        return int(self._runner.addresses[0][1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> SimServer:
        self._runner = web.AppRunner(create_sim_app(self.exchange, self.faults), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._port).start()
        self._clearer = asyncio.create_task(self.exchange.run(), name="market-sim-clearing")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._clearer is not None:
            self._clearer.cancel()
            try:
                async with asyncio.timeout(5):
                    await self._clearer
            except asyncio.CancelledError:
                pass
        if self._runner is not None:
            await self._runner.cleanup()
