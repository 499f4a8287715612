"""Which connector a ``market-connectors`` ``api_endpoint`` names (pure, no I/O).

=====================================  ============================================
``sim:`` / ``sim://shandong?seed=7``   the simulated exchange in the hub process (the
                                       preset only names the synthetic series' rules
                                       when the connector has no ``trading_rules``)
``replay:/var/prices/2025.csv``        :class:`ReplayMarket` of a CSV/Parquet history
``http://host:port``, ``https://...``  :class:`HttpMarketConnector` (the connector
                                       HTTP API, e.g. ``vpp market sim``)
=====================================  ============================================

OpenADR VTNs are configured as DEMAND_RESPONSE connectors whose endpoint the OpenADR VEN
reads (:func:`hub.markets.ven_config_from_connector`), not here.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from ._presets import PRESETS
from ._prices import REFERENCE_SEED

EndpointKind = Literal["sim", "replay", "http"]


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    kind: EndpointKind
    url: str = ""
    """http: the base URL."""
    preset: str = "shandong"
    """sim: the preset whose rules the series is made for."""
    seed: int = REFERENCE_SEED
    path: str = ""
    """replay: the history file."""


def parse_endpoint(api_endpoint: str) -> Endpoint:
    """The connector ``api_endpoint`` names (:class:`ValueError` saying why not).

    Parsed by hand rather than with :mod:`urllib` (an I/O module for the purity check)."""
    text = api_endpoint.strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon:
        scheme = ""
    if scheme in ("http", "https"):
        host = rest.removeprefix("//").split("/", 1)[0]
        if not rest.startswith("//") or not host:
            raise ValueError(f"{api_endpoint!r} has no host")
        if "?" in rest or "#" in rest:
            raise ValueError("give the base URL of the connector API, without query")
        return Endpoint(kind="http", url=text.rstrip("/"))
    if scheme == "sim":
        where, _, query = rest.removeprefix("//").partition("?")
        preset = where.strip("/").lower() or "shandong"
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r} (one of {', '.join(sorted(PRESETS))})")
        seed = REFERENCE_SEED
        for pair in filter(None, query.split("&")):
            key, _, value = pair.partition("=")
            if key != "seed":
                raise ValueError(f"unknown parameter {key!r} (only seed)")
            try:
                seed = int(value)
            except ValueError:
                raise ValueError("seed must be an integer") from None
        return Endpoint(kind="sim", preset=preset, seed=seed)
    if scheme == "replay":
        path = rest.removeprefix("//")
        if not path:
            raise ValueError("replay: needs the path of a CSV or Parquet history")
        return Endpoint(kind="replay", path=path)
    raise ValueError(f"{api_endpoint!r}: use sim:, replay:<file>, http:// or https://")


def endpoint_problems(api_endpoint: str) -> list[tuple[str, str]]:
    """``[("api_endpoint", why)]`` when the endpoint names no connector; else empty."""
    try:
        parse_endpoint(api_endpoint)
    except ValueError as exc:
        return [("api_endpoint", str(exc))]
    return []
