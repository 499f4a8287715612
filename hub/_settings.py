"""Hub settings: one typed Struct, loaded once (TOML, environment or code)."""

from __future__ import annotations

import os
import re
import socket
from typing import Annotated
from urllib.parse import unquote, urlsplit, urlunsplit

import msgspec
from msgspec import Meta

from .vpps import MarketRequirement

DEFAULT_DB = "sqlite+aiosqlite:///var/hub.db"
DEFAULT_MQTT = "mqtt://127.0.0.1:1883"

DEFAULT_REQUIREMENTS: tuple[MarketRequirement, ...] = (
    MarketRequirement(market_type="SPOT", min_capacity_kw=0.0),
    MarketRequirement(market_type="ANCILLARY", min_capacity_kw=10_000.0, max_response_time_s=60.0),
    MarketRequirement(market_type="CAPACITY", min_capacity_kw=10_000.0, min_duration_h=1.0),
)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the hub is configured with.

    ``mqtt_url`` None runs the API without ingest or dispatch publishing (tests of the
    REST side). ``jwt_secret`` empty makes one per process (tokens die with the process;
    set it for replicas).
    """

    db_url: str = DEFAULT_DB
    mqtt_url: str | None = DEFAULT_MQTT
    mqtt_group: str = "hub"
    mqtt_client_id: str = ""
    """The hub's MQTT client id; its session is persistent (``clean_session=False``), so the
    broker holds what arrives while the hub restarts. Empty: ``lingtan-hub-<host>-<port>``
    (see :func:`mqtt_client_id`), stable across restarts and distinct for a second replica
    (another host, or another HTTP port on the same host)."""
    http_port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    """The HTTP port this process serves on (``vpp hub run --port``): part of the default
    MQTT client id, so two replicas on one host get two ids."""
    mqtt_username: str | None = None
    """Overrides the user name in ``mqtt_url`` (``mqtt://user:pass@host:port``)."""
    mqtt_password: str | None = None
    mqtt_ca: str | None = None
    """CA file to check the broker's certificate with (``mqtts://``); None: the system's."""
    tenant: str = "default"
    jwt_secret: str = ""
    jwt_ttl_s: Annotated[int, Meta(gt=0)] = 8 * 3600
    rate_limit_per_minute: Annotated[int, Meta(ge=0)] = 600
    """Requests per minute per client address; 0 disables rate limiting."""
    login_rate_limit_per_minute: Annotated[int, Meta(ge=0)] = 10
    """Login attempts per minute per client address (password guessing); 0: no limit."""
    load_presets: bool = True
    migrate_on_start: bool = True
    ingest_queue: Annotated[int, Meta(gt=0)] = 1000
    ingest_batch: Annotated[int, Meta(gt=0)] = 200
    heartbeat_write_s: Annotated[float, Meta(ge=0)] = 5.0
    """Shortest interval between two heartbeat writes of one instance."""
    stale_after_s: Annotated[float, Meta(gt=0)] = 120.0
    """Live values older than this do not count for aggregation."""
    schedule_expiry_s: Annotated[float, Meta(gt=0)] = 3600.0
    outbox_poll_s: Annotated[float, Meta(gt=0)] = 5.0
    """How often the dispatch outbox is drained when nothing wakes it (schedules staged by
    another hub process on the same database)."""
    market_requirements: tuple[MarketRequirement, ...] = DEFAULT_REQUIREMENTS
    page_size_max: Annotated[int, Meta(gt=0)] = 500
    debug: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the environment (``VPP_HUB_DB``, ``VPP_HUB_MQTT``,
        ``VPP_HUB_JWT_SECRET``, ``VPP_HUB_TENANT``, ``VPP_HUB_RATE_LIMIT``,
        ``VPP_HUB_LOGIN_RATE_LIMIT``, ``VPP_HUB_MQTT_USERNAME``, ``VPP_HUB_MQTT_PASSWORD``,
        ``VPP_HUB_MQTT_CLIENT_ID``, ``VPP_HUB_MQTT_CA``), then ``overrides`` (None is
        ignored)."""
        values: dict[str, object] = {}
        for key, env in (
            ("db_url", "VPP_HUB_DB"),
            ("mqtt_url", "VPP_HUB_MQTT"),
            ("jwt_secret", "VPP_HUB_JWT_SECRET"),
            ("tenant", "VPP_HUB_TENANT"),
            ("rate_limit_per_minute", "VPP_HUB_RATE_LIMIT"),
            ("login_rate_limit_per_minute", "VPP_HUB_LOGIN_RATE_LIMIT"),
            ("mqtt_username", "VPP_HUB_MQTT_USERNAME"),
            ("mqtt_password", "VPP_HUB_MQTT_PASSWORD"),
            ("mqtt_client_id", "VPP_HUB_MQTT_CLIENT_ID"),
            ("mqtt_ca", "VPP_HUB_MQTT_CA"),
        ):
            if os.environ.get(env):
                values[key] = os.environ[env]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return msgspec.convert(values, cls, strict=False)


class MqttEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how the hub connects to the broker (from :meth:`Settings.mqtt_endpoint`)."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    ca: str | None


def mqtt_endpoint(settings: Settings) -> MqttEndpoint:
    """``mqtt://[user[:pass]@]host[:1883]`` or ``mqtts://...[:8883]`` (TLS); the user and
    password settings win over the URL's (they come from the environment, kept out of
    process listings)."""
    url = urlsplit(settings.mqtt_url or DEFAULT_MQTT)
    if url.scheme not in {"mqtt", "mqtts", "tcp", "ssl"}:
        raise ValueError(f"MQTT URL scheme must be mqtt:// or mqtts://, not {url.scheme!r}")
    tls = url.scheme in {"mqtts", "ssl"}
    return MqttEndpoint(
        host=url.hostname or "127.0.0.1",
        port=url.port or (8883 if tls else 1883),
        username=settings.mqtt_username or (unquote(url.username) if url.username else None),
        password=settings.mqtt_password
        or (unquote(url.password) if url.password is not None else None),
        tls=tls,
        ca=settings.mqtt_ca,
    )


def mqtt_client_id(settings: Settings) -> str:
    """The configured client id, else ``lingtan-hub-<hostname>-<http_port>``.

    >>> mqtt_client_id(Settings(mqtt_client_id="hub-a"))
    'hub-a'
    >>> mqtt_client_id(Settings(http_port=8081)).endswith("-8081")
    True
    """
    if settings.mqtt_client_id:
        return settings.mqtt_client_id
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:40] or "localhost"
    return f"lingtan-hub-{host}-{settings.http_port}"


def public_mqtt_url(url: str) -> str:
    """``url`` without user-info (the hub's credentials must not reach an edge's config)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
