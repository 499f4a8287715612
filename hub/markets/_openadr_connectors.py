"""The VENs of the DEMAND_RESPONSE market connectors (I/O: reads ``market_connectors``).

Kept apart from :mod:`hub.markets._openadr` so that a hub without DR connectors never
imports openleadr (and its aiohttp, lxml, signxml, APScheduler) at start-up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select

from hub.store import MarketConnectorRow

from ._connector import ConnectorError
from ._openadr_config import OpenAdrVenConfig, ven_config_from_connector

if TYPE_CHECKING:
    from hub._context import HubContext

    from ._openadr import OpenAdrVen

_log = logging.getLogger(__name__)


async def connector_ven_configs(ctx: HubContext) -> list[OpenAdrVenConfig]:
    """The VEN configuration of each ACTIVE DEMAND_RESPONSE market connector
    (``api_endpoint`` the VTN, ``auth_config`` the VEN's settings, see
    :func:`ven_config_from_connector`). A row that does not make one is logged and counted
    (``hub_openadr_errors_total{kind="config"}``) and skipped."""
    try:
        async with ctx.sessions() as session:
            rows = list(
                await session.scalars(
                    select(MarketConnectorRow)
                    .where(
                        MarketConnectorRow.market_type == "DEMAND_RESPONSE",
                        MarketConnectorRow.status == "ACTIVE",
                    )
                    .order_by(MarketConnectorRow.id)
                )
            )
    except Exception:
        ctx.metrics.openadr_errors.labels("", "config").inc()
        _log.exception("the DEMAND_RESPONSE market connectors could not be read: no VEN started")
        return []
    configs: list[OpenAdrVenConfig] = []
    for row in rows:
        try:
            if row.auth_config and ctx.markets is None:
                raise ConnectorError("no connector registry to decrypt auth_config with")
            auth = ctx.markets.box.open(row.auth_config) if ctx.markets and row.auth_config else {}
            configs.append(ven_config_from_connector(row.id, row.api_endpoint, auth))
        except (ConnectorError, msgspec.ValidationError) as err:
            ctx.metrics.openadr_errors.labels(row.id, "config").inc()
            _log.error("market connector %s (%s) is no OpenADR VEN: %s", row.name, row.id, err)
    return configs


async def start_vens(
    ctx: HubContext, configs: tuple[OpenAdrVenConfig, ...] = ()
) -> list[OpenAdrVen]:
    """Start a VEN for each of ``configs`` (``Settings.openadr_vens``) and for each ACTIVE
    DEMAND_RESPONSE market connector; the caller stops them."""
    wanted = [*configs, *await connector_ven_configs(ctx)]
    if not wanted:
        return []
    from ._openadr import start_ven

    return [await start_ven(ctx, config) for config in wanted]


__all__ = ["connector_ven_configs", "start_vens"]
