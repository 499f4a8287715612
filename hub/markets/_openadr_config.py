"""What an OpenADR 2.0b VEN is configured with (pure, no I/O).

Until the trading API's ``market_connectors`` table lands, a VEN is configured in the hub
settings (``Settings.openadr_vens``) or handed to :func:`hub.markets.start_ven` directly;
:func:`ven_config_from_connector` reads the same struct off a connector of
``market_type`` DEMAND_RESPONSE (``api_endpoint`` = the VTN's URL, the VEN's identity and
the VPP bound to the program in ``auth_config``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import Meta


class OpenAdrVenConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One VEN: one VTN, one DR program, one VPP.

    Certificates are optional (plain HTTP on a trusted network or a test); with ``cert``
    and ``key`` (PEM file paths) the VEN signs its messages and uses them as its TLS client
    certificate, ``ca_file`` checks the VTN's TLS certificate and ``vtn_fingerprint`` the
    VTN's message signatures.
    """

    vtn_url: Annotated[str, Meta(min_length=1)]
    """E.g. ``https://vtn.example/OpenADR2/Simple/2.0b``."""
    ven_name: Annotated[str, Meta(min_length=1, max_length=100)]
    vpp_id: Annotated[str, Meta(min_length=1)]
    """The VPP whose capacity serves the program's events."""
    connector_id: str = ""
    """The ``market_connectors`` row this VEN was started for (labels logs and metrics)."""
    ven_id: str | None = None
    """None: the VTN assigns one at registration."""
    market_context: str | None = None
    """Only events of this program (URI) are served; None: every event sent to this VEN."""
    cert: str | None = None
    key: str | None = None
    passphrase: str | None = None
    ca_file: str | None = None
    vtn_fingerprint: str | None = None
    check_hostname: bool = True
    simple_levels_kw: tuple[float, ...] = ()
    """Curtailment (kW) of SIMPLE levels 1, 2, 3; empty: a third, two thirds and all of
    the VPP's total capacity."""
    priority: Annotated[int, Meta(ge=0, le=1000)] = 900
    """Of the DR plans among the VPP's plans (a DR call outranks day plans and awards)."""
    report_min_s: Annotated[float, Meta(ge=1)] = 1.0
    report_max_s: Annotated[float, Meta(ge=1)] = 900.0
    """The telemetry sampling periods offered to the VTN (it picks one)."""
    retry_s: Annotated[float, Meta(gt=0)] = 5.0
    retry_max_s: Annotated[float, Meta(gt=0)] = 300.0
    """Registration is retried with a doubling backoff between these."""
    request_timeout_s: Annotated[float, Meta(gt=0)] = 10.0
    """The most a request to the VTN (connect + answer) may take."""
    poll_s: Annotated[float, Meta(gt=0)] | None = None
    """None: as often as the VTN asks at registration."""


CONNECTOR_KEYS = frozenset(OpenAdrVenConfig.__struct_fields__) - {"vtn_url", "connector_id"}


def ven_config_from_connector(
    connector_id: str, api_endpoint: str, auth_config: Mapping[str, Any]
) -> OpenAdrVenConfig:
    """The VEN of a DEMAND_RESPONSE market connector: ``api_endpoint`` is the VTN URL,
    ``auth_config`` holds ``ven_name``, ``vpp_id`` and any other field of
    :class:`OpenAdrVenConfig`. Raises ``msgspec.ValidationError`` naming a bad field."""
    unknown = sorted(set(auth_config) - CONNECTOR_KEYS)
    if unknown:
        raise msgspec.ValidationError(f"unknown OpenADR settings in auth_config: {unknown}")
    return msgspec.convert(
        {**auth_config, "vtn_url": api_endpoint, "connector_id": connector_id},
        OpenAdrVenConfig,
        strict=False,
    )


__all__ = ["OpenAdrVenConfig", "ven_config_from_connector"]
