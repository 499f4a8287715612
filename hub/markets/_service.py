"""Market connectors in the hub (I/O): configuration rows, credentials encrypted at rest,
live connector objects, calls bounded and translated at one seam, and market data storage.

* :class:`SecretBox`: ``auth_config`` is stored as a Fernet token (AES-128-CBC + HMAC)
  under a key derived from ``Settings.secrets_key`` (else ``jwt_secret``); responses show
  only which keys are set.
* :class:`ConnectorRegistry`: one live :class:`MarketConnector` per configured row, built
  by the builder registered for the scheme of its ``api_endpoint`` (``sim://``,
  ``http://``...) or installed directly (an in-process exchange, a test's fake).
* :func:`call_connector`: every call runs under the connector's ``timeout_s``; a timeout
  becomes :class:`ConnectorTimeoutError`, anything that is not a :class:`ConnectorError`
  (a bug or garbage in a plug-in) becomes :class:`MarketUnavailableError`, and results are
  checked against the contract's types, so a bad market never raises into the hub.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import InvalidInputError, NotFoundError
from hub.store import MarketConnectorRow, MarketDataPoint, dialect_insert
from protocol.clock import Clock

from ._connector import (
    ConnectorError,
    ConnectorTimeoutError,
    MarketConnector,
    MarketType,
    MarketUnavailableError,
    PricePoint,
)
from ._rules import TradingRules
from ._validation import rule_problems

if TYPE_CHECKING:
    from hub._settings import Settings

_log = logging.getLogger(__name__)
T = TypeVar("T")


class SecretBox:
    """Encrypts and decrypts connector credentials (a JSON object)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            _log.warning(
                "no secrets_key or jwt_secret: connector credentials are encrypted with a "
                "per-process key and cannot be read after a restart"
            )
            key = Fernet.generate_key()
        else:
            key = base64.urlsafe_b64encode(
                hashlib.sha256(b"lingtan-auth:" + secret.encode()).digest()
            )
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        return cls(settings.secrets_key or settings.jwt_secret)

    def seal(self, value: Mapping[str, Any]) -> bytes:
        return self._fernet.encrypt(msgspec.json.encode(dict(value)))

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            out: dict[str, Any] = msgspec.json.decode(self._fernet.decrypt(token))
        except (InvalidToken, msgspec.DecodeError) as exc:
            raise ConnectorError("stored credentials cannot be decrypted with this key") from exc
        return out


class ConnectorConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A configured connector as its builder gets it (credentials in clear)."""

    id: str
    name: str
    market_type: MarketType
    api_endpoint: str
    auth: Mapping[str, Any]
    rules: TradingRules


ConnectorBuilder = Callable[[ConnectorConfig, Clock], MarketConnector]


def rules_of(row: MarketConnectorRow) -> TradingRules:
    return msgspec.convert(row.trading_rules, TradingRules, strict=False)


def parse_rules(raw: Mapping[str, Any], field: str = "trading_rules") -> TradingRules:
    """Validated :class:`TradingRules` from a request (422 naming the field and rule)."""
    try:
        rules = msgspec.convert(dict(raw), TradingRules, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in message else ""
        raise InvalidInputError(
            f"{field}: {message}", field=f"{field}.{path}" if path else field
        ) from exc
    problems = rule_problems(rules)
    if problems:
        path, message = problems[0]
        raise InvalidInputError(
            f"{field}.{path}: {message}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            field=f"{field}.{path}",
        )
    return rules


class ConnectorRegistry:
    """Live connector objects of this hub process, one per configured row."""

    def __init__(self, box: SecretBox, clock: Clock) -> None:
        self.box = box
        self.clock = clock
        self._builders: dict[str, ConnectorBuilder] = {}
        self._live: dict[str, MarketConnector] = {}

    @classmethod
    def with_plugins(cls, box: SecretBox, clock: Clock) -> ConnectorRegistry:
        """A registry that knows the shipped plug-ins: ``sim://<preset>`` (the simulated
        exchange in this process, on the hub's clock, rules from the row) and
        ``http(s)://...`` (:class:`~hub.markets.HttpMarketConnector`, e.g. to ``vpp market
        sim``; ``auth_config`` ``{"headers": {...}}`` are sent with every request and
        ``{"token": "..."}`` as ``Authorization: Bearer``)."""
        registry = cls(box, clock)
        registry.register_builder("sim", build_simulated)
        registry.register_builder("http", build_http)
        registry.register_builder("https", build_http)
        return registry

    def register_builder(self, scheme: str, builder: ConnectorBuilder) -> None:
        """Build connectors whose ``api_endpoint`` starts with ``scheme://``."""
        self._builders[scheme] = builder

    def install(self, connector_id: str, connector: MarketConnector) -> None:
        """Use ``connector`` for the row ``connector_id`` (an in-process market, a fake)."""
        self._live[connector_id] = connector

    def config(self, row: MarketConnectorRow) -> ConnectorConfig:
        auth = self.box.open(row.auth_config) if row.auth_config else {}
        return ConnectorConfig(
            id=row.id,
            name=row.name,
            market_type=row.market_type,  # type: ignore[arg-type]
            api_endpoint=row.api_endpoint,
            auth=auth,
            rules=rules_of(row),
        )

    def get(self, row: MarketConnectorRow) -> MarketConnector:
        """The live connector of a row, built on first use (:class:`ConnectorError` when
        no builder knows its endpoint's scheme)."""
        live = self._live.get(row.id)
        if live is not None:
            return live
        scheme = row.api_endpoint.split("://", 1)[0] if "://" in row.api_endpoint else ""
        builder = self._builders.get(scheme)
        if builder is None:
            raise MarketUnavailableError(
                f"no connector plug-in for {row.api_endpoint!r} (known: "
                f"{', '.join(sorted(self._builders)) or 'none'})",
                connector=row.name,
            )
        try:
            live = builder(self.config(row), self.clock)
        except ConnectorError:
            raise
        except Exception as exc:  # a plug-in's own failure stays at this seam
            raise MarketUnavailableError(
                f"cannot build connector: {exc}", connector=row.name
            ) from exc
        self._live[row.id] = live
        return live

    def forget(self, connector_id: str) -> None:
        self._live.pop(connector_id, None)

    async def aclose(self) -> None:
        live, self._live = list(self._live.values()), {}
        for connector in live:
            try:
                async with asyncio.timeout(connector.timeout_s):
                    await connector.aclose()
            except Exception:
                _log.warning("connector %s did not close cleanly", connector.name, exc_info=True)


def build_simulated(config: ConnectorConfig, clock: Clock) -> MarketConnector:
    """``sim://shandong``: a :class:`~hub.markets.SimulatedExchange` with the row's rules
    (one per hub process: replicas that must share a market use ``vpp market sim``)."""
    from ._sim import SimulatedExchange

    return SimulatedExchange(clock, rules=config.rules, name=config.name)


def build_http(config: ConnectorConfig, clock: Clock) -> MarketConnector:
    from ._http import HttpMarketConnector

    raw_headers = config.auth.get("headers", {})
    headers = (
        {str(k): str(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
    )
    token = config.auth.get("token")
    if isinstance(token, str) and token:
        headers.setdefault("Authorization", f"Bearer {token}")
    return HttpMarketConnector(config.api_endpoint, name=config.name, headers=headers)


async def call_connector(
    connector: MarketConnector, call: Callable[[], Awaitable[Any]], result_type: type[T]
) -> T:
    """``await call()`` bounded by the connector's timeout, its result checked against
    ``result_type`` (see the module doc for the errors)."""
    try:
        async with asyncio.timeout(connector.timeout_s):
            result = await call()
    except TimeoutError as exc:
        raise ConnectorTimeoutError(
            f"no answer within {connector.timeout_s:g} s", connector=connector.name
        ) from exc
    except ConnectorError:
        raise
    except Exception as exc:  # garbage or a plug-in bug: the market's failure, not ours
        raise MarketUnavailableError(
            f"connector failed: {type(exc).__name__}: {exc}", connector=connector.name
        ) from exc
    try:
        return msgspec.convert(msgspec.to_builtins(result), result_type)
    except (msgspec.ValidationError, TypeError) as exc:
        raise MarketUnavailableError(
            f"the market answered something that is not a {result_type}: {exc}",
            connector=connector.name,
        ) from exc


async def get_connector(session: AsyncSession, connector_id: str) -> MarketConnectorRow:
    row = await session.get(MarketConnectorRow, connector_id)
    if row is None:
        raise NotFoundError(f"market connector {connector_id} not found")
    return row


async def store_points(
    session: AsyncSession,
    connector_id: str,
    market_type: str,
    points: Sequence[PricePoint],
    fetched_at: dt.datetime,
) -> None:
    """Upsert market data points (a slot's newer reading replaces the older)."""
    if not points:
        return
    rows = [
        {
            "connector_id": connector_id,
            "market_type": market_type,
            "slot_start": p.timestamp.astimezone(dt.UTC),
            "price_yuan_mwh": p.price_yuan_mwh,
            "volume_mwh": p.volume_mwh,
            "realtime_price_yuan_mwh": p.realtime_price_yuan_mwh,
            "market_status": p.market_status,
            "fetched_at": fetched_at,
        }
        for p in points
    ]
    table = MarketDataPoint.__table__
    for start in range(0, len(rows), 500):
        insert = dialect_insert(session, table).values(rows[start : start + 500])
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["connector_id", "market_type", "slot_start"],
                set_={
                    name: insert.excluded[name]
                    for name in (
                        "price_yuan_mwh",
                        "volume_mwh",
                        "realtime_price_yuan_mwh",
                        "market_status",
                        "fetched_at",
                    )
                },
            )
        )


async def stored_points(
    session: AsyncSession,
    connector_id: str,
    market_type: str,
    start: dt.datetime,
    end: dt.datetime,
) -> list[MarketDataPoint]:
    rows = await session.scalars(
        select(MarketDataPoint)
        .where(
            MarketDataPoint.connector_id == connector_id,
            MarketDataPoint.market_type == market_type,
            MarketDataPoint.slot_start >= start,
            MarketDataPoint.slot_start < end,
        )
        .order_by(MarketDataPoint.slot_start)
    )
    return list(rows)


async def fetch_market_data(
    session: AsyncSession,
    registry: ConnectorRegistry,
    row: MarketConnectorRow,
    start: dt.datetime,
    end: dt.datetime,
) -> list[PricePoint]:
    """Read ``[start, end)`` from the market and store it (the caller commits)."""
    connector = registry.get(row)
    market_type: MarketType = row.market_type  # type: ignore[assignment]
    points = await call_connector(
        connector,
        lambda: connector.market_data(market_type, start, end),
        list[PricePoint],
    )
    now = dt.datetime.fromtimestamp(registry.clock.now(), dt.UTC)
    await store_points(session, row.id, row.market_type, points, now)
    return points
