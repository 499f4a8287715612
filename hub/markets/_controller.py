"""Seed 4.3.1 routes: ``market-connectors`` (configuration) and ``market-data`` (realtime
and history), thin callers of :mod:`hub.markets._service`.

Units: the seed's ``price`` is yuan/kWh and ``volume`` kWh; the hub's own figures are
given beside them (``price_yuan_mwh``, ``volume_mwh``, ``realtime_price``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub._deps import Caller, Ctx, Session, on_reader
from hub._dto import In, JsonObject, Name, Out
from hub.auth import TRADERS, audit, requires
from hub.errors import ConflictError, InvalidInputError, UnavailableError
from hub.store import MarketConnectorRow, MarketDataPoint, new_id

from ._connector import ConnectorError, MarketType, PricePoint
from ._rules import TradingRules
from ._service import (
    ConnectorRegistry,
    fetch_market_data,
    get_connector,
    parse_rules,
    rules_of,
    stored_points,
)
from ._validation import slot_at, slot_start


class ConnectorIn(In):
    name: Name
    market_type: MarketType
    api_endpoint: Annotated[str, Meta(min_length=1, max_length=500)]
    auth_config: JsonObject = msgspec.field(default_factory=dict)
    trading_rules: JsonObject = msgspec.field(default_factory=dict)
    status: Annotated[str, Meta(pattern="^(ACTIVE|INACTIVE)$")] = "ACTIVE"


class ConnectorOut(Out):
    id: str
    name: str
    market_type: str
    api_endpoint: str
    status: str
    auth_config: dict[str, str]
    """Which credential keys are set (values shown as ``"***"``, never in clear)."""
    trading_rules: dict[str, Any]
    created_at: dt.datetime


class RealtimeOut(Out):
    price: float
    """yuan/kWh."""
    volume: float
    """kWh."""
    timestamp: dt.datetime
    market_status: str
    price_yuan_mwh: float
    volume_mwh: float
    realtime_price: float | None
    """The real-time/balancing price of the slot (yuan/kWh) once known."""
    trading_date: dt.date
    slot: int
    fetched_at: dt.datetime


class HistoryOut(Out):
    market_id: str
    market_type: str
    points: list[RealtimeOut]


def connector_out(row: MarketConnectorRow) -> ConnectorOut:
    return ConnectorOut(
        id=row.id,
        name=row.name,
        market_type=row.market_type,
        api_endpoint=row.api_endpoint,
        status=row.status,
        auth_config=dict.fromkeys(row.auth_keys or [], "***"),
        trading_rules=dict(row.trading_rules),
        created_at=row.created_at,
    )


def _point_out(rules: TradingRules, point: MarketDataPoint) -> RealtimeOut:
    day, slot = slot_at(rules, point.slot_start)
    return RealtimeOut(
        price=round(point.price_yuan_mwh / 1000, 6),
        volume=round(point.volume_mwh * 1000, 3),
        timestamp=point.slot_start,
        market_status=point.market_status,
        price_yuan_mwh=point.price_yuan_mwh,
        volume_mwh=point.volume_mwh,
        realtime_price=None
        if point.realtime_price_yuan_mwh is None
        else round(point.realtime_price_yuan_mwh / 1000, 6),
        trading_date=day,
        slot=slot,
        fetched_at=point.fetched_at,
    )


def registry_of(ctx: Ctx) -> ConnectorRegistry:
    if ctx.markets is None:  # pragma: no cover - the lifespan always makes one
        raise UnavailableError("no market connectors in this hub process")
    return ctx.markets


def _as_point(p: PricePoint, fetched: dt.datetime) -> MarketDataPoint:
    return MarketDataPoint(
        slot_start=p.timestamp.astimezone(dt.UTC),
        price_yuan_mwh=p.price_yuan_mwh,
        volume_mwh=p.volume_mwh,
        realtime_price_yuan_mwh=p.realtime_price_yuan_mwh,
        market_status=p.market_status,
        fetched_at=fetched,
    )


class MarketController(Controller):
    path = "/api/v1/vpp"
    tags = ("markets",)

    @get("/market-connectors", opt={"cached": True})
    async def list_connectors(self, session: Session) -> list[ConnectorOut]:
        """Configured market connectors (credentials never in clear: only their keys)."""
        rows = await session.scalars(select(MarketConnectorRow).order_by(MarketConnectorRow.name))
        return [connector_out(r) for r in rows]

    @post("/market-connectors", guards=[requires(*TRADERS)])
    async def create_connector(
        self, session: Session, ctx: Ctx, principal: Caller, data: JSONBody[ConnectorIn]
    ) -> ConnectorOut:
        """Configure a connector: ``trading_rules`` are checked (field constraints and
        cross-field rules, 422 naming the field), ``auth_config`` is stored encrypted."""
        rules = parse_rules(data.trading_rules)
        if "://" not in data.api_endpoint:
            raise InvalidInputError(
                "api_endpoint must be a URL (sim://name, http(s)://host/...)", field="api_endpoint"
            )
        taken = await session.scalar(
            select(MarketConnectorRow.id).where(MarketConnectorRow.name == data.name)
        )
        if taken is not None:
            raise ConflictError(f"a market connector named {data.name!r} exists ({taken})")
        box = registry_of(ctx).box
        row = MarketConnectorRow(
            id=new_id(),
            name=data.name,
            market_type=data.market_type,
            api_endpoint=data.api_endpoint,
            status=data.status,
            auth_config=box.seal(data.auth_config) if data.auth_config else None,
            auth_keys=sorted(data.auth_config),
            trading_rules=msgspec.to_builtins(rules),
        )
        session.add(row)
        await session.flush()
        audit(
            session,
            principal,
            "create_market_connector",
            "market_connector",
            row.id,
            None,
            msgspec.to_builtins(connector_out(row)),
        )
        await session.commit()
        return connector_out(row)

    @get("/market-data/{market_id:str}/realtime", opt={"writes": True})
    async def realtime(self, session: Session, ctx: Ctx, market_id: FromPath[str]) -> RealtimeOut:
        """The market's current slot: price (yuan/kWh), volume (kWh), slot start and status,
        read from the market now (the stored reading when the market does not answer)."""
        row = await get_connector(session, market_id)
        rules = rules_of(row)
        row_id, name, market_type = row.id, row.name, row.market_type
        now = dt.datetime.fromtimestamp(ctx.clock.now(), dt.UTC)
        day, slot = slot_at(rules, now)
        start = slot_start(rules, day, slot)
        end = start + dt.timedelta(minutes=rules.slot_minutes)
        error: ConnectorError | None = None
        try:
            points = await fetch_market_data(session, registry_of(ctx), row, start, end)
            await session.commit()
        except ConnectorError as exc:
            await session.rollback()
            points, error = [], exc
        if points:
            return _point_out(rules, _as_point(points[-1], now))
        stored = await session.scalars(
            select(MarketDataPoint)
            .where(
                MarketDataPoint.connector_id == row_id,
                MarketDataPoint.market_type == market_type,
                MarketDataPoint.slot_start <= now,
            )
            .order_by(MarketDataPoint.slot_start.desc())
            .limit(1)
        )
        latest = stored.first()
        if latest is None:
            why = f": {error}" if error else " (it returned no data for the current slot)"
            raise UnavailableError(f"market {name} has no data now{why}")
        return _point_out(rules, latest)

    @get("/market-data/{market_id:str}/history", opt={"writes": True})
    async def history(
        self,
        session: Session,
        ctx: Ctx,
        market_id: FromPath[str],
        start: Annotated[dt.datetime, QueryParameter(description="from (ISO 8601)")],
        end: Annotated[dt.datetime, QueryParameter(description="until, exclusive")],
        refresh: Annotated[bool, QueryParameter(description="read the market again")] = False,
    ) -> HistoryOut:
        """Stored market data of slots starting in ``[start, end)`` (at most 31 days);
        read from the market first when ``refresh`` or when nothing is stored. What is
        stored is read on the read replica when one is configured; a read from the market
        is stored and read back on the primary."""
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)

        async def stored(s: AsyncSession) -> tuple[MarketConnectorRow, list[MarketDataPoint]]:
            row = await get_connector(s, market_id)
            if not start < end <= start + dt.timedelta(days=31):
                raise InvalidInputError("end must be after start and within 31 days", field="end")
            return row, await stored_points(s, row.id, row.market_type, start, end)

        row, points = await on_reader(ctx, stored)
        rules = rules_of(row)
        row_id, name, market_type = row.id, row.name, row.market_type
        if refresh or not points:
            row = await get_connector(session, market_id)
            rules = rules_of(row)
            try:
                await fetch_market_data(session, registry_of(ctx), row, start, end)
                await session.commit()
            except ConnectorError as exc:
                await session.rollback()
                if not points:
                    raise UnavailableError(f"market {name} did not answer: {exc}") from exc
            points = await stored_points(session, row_id, market_type, start, end)
        return HistoryOut(
            market_id=row_id,
            market_type=market_type,
            points=[_point_out(rules, p) for p in points],
        )
