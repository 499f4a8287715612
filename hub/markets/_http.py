"""A :class:`MarketConnector` over the connector HTTP API (httpx), with every transport,
status and decoding failure translated to our errors at one seam (I/O).

The API is the one ``vpp market sim`` serves (see :mod:`hub.markets._sim_server`); a
province's real API is one more plug-in by an adapter or proxy speaking it. Errors:

* no answer within the call's deadline (``timeout_s``, the whole call) or an httpx
  timeout (connect/read/write/pool, :class:`HttpTimeouts`) -> :class:`ConnectorTimeoutError`;
* a transport error (refused, reset), a 5xx or 429, or a body that is not the expected
  JSON -> :class:`MarketUnavailableError`;
* 422 with a ``rule`` -> :class:`BidRejectedError` (not retryable);
* another 4xx -> :class:`InvalidRequestError` (not retryable).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
import msgspec

from ._connector import (
    BidRejectedError,
    BidSubmission,
    ClearingResult,
    ConnectorError,
    ConnectorTimeoutError,
    InvalidRequestError,
    MarketStatement,
    MarketType,
    MarketUnavailableError,
    PricePoint,
    SubmissionReceipt,
)

T = TypeVar("T")


class HttpTimeouts(msgspec.Struct, frozen=True, kw_only=True):
    """Per-phase limits of one HTTP exchange (seconds)."""

    connect: float = 2.0
    read: float = 5.0
    write: float = 5.0
    pool: float = 2.0


class _Problem(msgspec.Struct, kw_only=True):
    error: str = ""
    detail: str = ""
    rule: str = ""
    problems: list[tuple[str, str]] = []


@contextlib.contextmanager
def map_http_exceptions(connector: str, timeout_s: float) -> Iterator[None]:
    """Translate httpx and decoding errors raised inside to the :class:`ConnectorError`
    family (``raise ... from exc``)."""
    try:
        yield
    except ConnectorError:
        raise
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise ConnectorTimeoutError(
            f"no answer within {timeout_s:g} s ({type(exc).__name__})", connector=connector
        ) from exc
    except httpx.HTTPError as exc:
        raise MarketUnavailableError(
            f"{type(exc).__name__}: {exc or 'transport error'}", connector=connector
        ) from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MarketUnavailableError(f"garbage answer: {exc}", connector=connector) from exc


class HttpMarketConnector:
    """The connector HTTP API at ``base_url`` (e.g. ``http://127.0.0.1:8710``)."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "http",
        timeout_s: float = 10.0,
        timeouts: HttpTimeouts | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.base_url = base_url.rstrip("/")
        t = timeouts or HttpTimeouts()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            headers=dict(headers or {}),
            transport=transport,
            follow_redirects=False,
        )

    async def _call(
        self,
        method: str,
        path: str,
        kind: type[T],
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> T:
        with map_http_exceptions(self.name, self.timeout_s):
            async with asyncio.timeout(self.timeout_s):
                response = await self._client.request(
                    method,
                    path,
                    params=params,
                    content=body,
                    headers={"content-type": "application/json"} if body is not None else None,
                )
            status = response.status_code
            if status >= 500 or status == 429:
                raise MarketUnavailableError(f"{method} {path}: HTTP {status}", connector=self.name)
            if status >= 400:
                problem = _problem(response.content)
                detail = problem.detail or f"HTTP {status}"
                if status == 422 and problem.rule:
                    raise BidRejectedError(
                        detail, rule=problem.rule, connector=self.name, problems=problem.problems
                    )
                raise InvalidRequestError(f"{method} {path}: {detail}", connector=self.name)
            if status not in (200, 201):
                raise MarketUnavailableError(
                    f"{method} {path}: unexpected HTTP {status}", connector=self.name
                )
            return msgspec.json.decode(response.content, type=kind)

    async def market_data(
        self, market_type: MarketType, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PricePoint]:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidRequestError("start and end must be timezone-aware", connector=self.name)
        params = {"market_type": market_type, "start": start.isoformat(), "end": end.isoformat()}
        return await self._call("GET", "/v1/market-data", list[PricePoint], params=params)

    async def submit_bids(self, submission: BidSubmission) -> SubmissionReceipt:
        body = msgspec.json.encode(submission)
        return await self._call("POST", "/v1/bids", SubmissionReceipt, body=body)

    def _day(self, vpp_id: str, market_type: MarketType, trading_date: dt.date) -> dict[str, str]:
        return {
            "vpp_id": vpp_id,
            "market_type": market_type,
            "trading_date": trading_date.isoformat(),
        }

    async def clearing_results(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> Sequence[ClearingResult]:
        params = self._day(vpp_id, market_type, trading_date)
        return await self._call("GET", "/v1/clearing-results", list[ClearingResult], params=params)

    async def settlement_statement(
        self, vpp_id: str, market_type: MarketType, trading_date: dt.date
    ) -> MarketStatement | None:
        params = self._day(vpp_id, market_type, trading_date)
        kind: Any = MarketStatement | None
        result: MarketStatement | None = await self._call(
            "GET", "/v1/settlement-statement", kind, params=params
        )
        return result

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpMarketConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _problem(content: bytes) -> _Problem:
    try:
        return msgspec.json.decode(content, type=_Problem)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _Problem(detail=content[:200].decode("utf-8", "replace"))
