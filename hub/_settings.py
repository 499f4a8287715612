"""Hub settings: one typed Struct, loaded once (TOML, environment or code)."""

from __future__ import annotations

import os
import re
import socket
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import msgspec
from msgspec import Meta

from .markets import OpenAdrVenConfig
from .reports import EmissionFactors
from .vpps import MarketRequirement

DEFAULT_DB = "sqlite+aiosqlite:///var/hub.db"
DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
DEFAULT_MODEL_DIR = "var/models"
GC_THRESHOLD0 = 20_000
"""Default of :attr:`Settings.gc_threshold0` (Python's: 700). A pass of generation 0 runs
when this many more tracked objects were made than freed: at 700 the objects of the ~32
requests in flight outlive young passes many times a second, are promoted and start
full passes (docs/hub.md, "Live routes", fourth round); at 20,000 the live routes ran
with no pass at all, and the garbage cycles waiting for one stay a few MB."""

DEFAULT_REQUIREMENTS: tuple[MarketRequirement, ...] = (
    MarketRequirement(market_type="SPOT", min_capacity_kw=0.0),
    MarketRequirement(market_type="ANCILLARY", min_capacity_kw=10_000.0, max_response_time_s=60.0),
    MarketRequirement(market_type="CAPACITY", min_capacity_kw=10_000.0, min_duration_h=1.0),
)


class AlertTarget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A receiver of the hub's own alerts and of the alert relay's (hub.ops.relay).

    ``kind``: ``webhook`` (Alertmanager's JSON body), ``wecom`` (企业微信 group robot,
    ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``) or ``dingtalk`` (钉钉 group
    robot, ``https://oapi.dingtalk.com/robot/send?access_token=...``; ``secret`` is its
    加签 signing secret, when the robot has one).
    """

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
    url: Annotated[str, Meta(pattern=r"^https?://")]
    kind: Literal["webhook", "wecom", "dingtalk"] = "webhook"
    secret: str | None = None
    min_severity: Literal["info", "warning", "critical"] = "warning"
    mention: tuple[str, ...] = ()
    """WeCom user ids or DingTalk mobile numbers to @ while something is firing."""


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
    mqtt_persistent_session: bool = True
    """``clean_session=False``: the broker keeps what arrives while this hub restarts (one
    hub). With several replicas sharing ``$share/hub`` set it False
    (``VPP_HUB_MQTT_PERSISTENT=0``): a broker keeps handing a dead replica's persistent
    session its share of the messages, which then wait for that replica to return."""
    http_port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    """The HTTP port this process serves on (``vpp hub run --port``): part of the default
    MQTT client id, so two replicas on one host get two ids."""
    command_max_pending: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    """Commands this replica may have waiting for their replies at once (``hub.commands``);
    one more is refused with 503 until one is answered or times out."""
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
    backtest_workers: Annotated[int, Meta(ge=0, le=64)] = 1
    """Backtests run at once by this hub process (each in a worker thread); 0: none here."""
    backtest_queue: Annotated[int, Meta(ge=0)] = 8
    """Backtests that may wait beyond those running (over every replica); a submission past
    it is refused with a 503 and Retry-After."""
    backtest_lease_s: Annotated[float, Meta(gt=0)] = 30.0
    """A RUNNING backtest whose worker has not reported for this long (its hub stopped) is
    taken up again by another worker, from its first day."""
    backtest_data_dir: str = "var/market-data"
    """Where ``csv:<file>`` market data sources of backtests are read from (nowhere else)."""
    backtest_max_days: Annotated[int, Meta(ge=1)] = 1096
    redis_url: str | None = None
    """``redis://host:6379/0``: rate limits and the live cache shared by every replica
    (``VPP_HUB_REDIS``). None: in-process (one hub)."""
    redis_prefix: str = "vpp"
    """Key and channel prefix in Redis (several hubs on one Redis: one prefix each)."""
    metrics_token: str = ""
    """``/metrics`` answers only ``Authorization: Bearer <token>`` when set
    (``VPP_HUB_METRICS_TOKEN``; Prometheus ``authorization: credentials``)."""
    trusted_proxies: tuple[str, ...] = ()
    """Peer addresses of load balancers whose ``X-Forwarded-For`` names the client (rate
    limits per client behind HAProxy; ``VPP_HUB_TRUSTED_PROXIES``, comma-separated)."""
    db_replica_url: str | None = None
    """A PostgreSQL streaming replica for read-only queries (``VPP_HUB_DB_REPLICA``):
    reports, history and lists that need not read their own writes."""
    response_cache_s: Annotated[float, Meta(ge=0, le=60)] = 1.0
    """How long a GET response made only of database rows, and the rows behind aggregation
    and realtime reads, are reused while this process wrote none of their tables
    (``VPP_HUB_RESPONSE_CACHE_S``; 0: off). A write through this process is seen by the
    next read at once; one through another process (replica, CLI) within this long."""
    gc_freeze: bool = True
    """Once the app has started (every lifespan entered), move every object it made so
    far out of the garbage collector's generations (``gc.freeze``): the imported
    libraries' and the app's long-lived objects are no longer walked by every full
    collection, which stops the whole process (``VPP_HUB_GC_FREEZE=0``: off; see
    ``hub_gc_pause_seconds``)."""
    gc_threshold0: Annotated[int, Meta(ge=0)] = GC_THRESHOLD0
    """The collector's generation-0 threshold while the app runs (``VPP_HUB_GC_THRESHOLD0``;
    Python's own is 700; 0: leave it alone). Objects of requests in flight that outlive
    a young pass are promoted and counted towards the next full pass (see
    :data:`GC_THRESHOLD0`)."""
    schedule_repair_s: Annotated[float, Meta(gt=0)] = 60.0
    """How often the schedule-repair job re-stages edges' schedules (one replica runs it)."""
    retention_raw_days: Annotated[int, Meta(ge=0)] = 7
    """Raw telemetry is kept this long, then summarised into 1-minute buckets (0: keep
    raw rows for ever, no retention job)."""
    retention_1m_days: Annotated[int, Meta(ge=1)] = 90
    """1-minute buckets are kept this long, then summarised into 15-minute ones (for ever)."""
    retention_interval_s: Annotated[float, Meta(gt=0)] = 3600.0
    retention_slices: Annotated[int, Meta(gt=0)] = 24
    """Hours of data the retention job summarises per run at most (one transaction each)."""
    run_jobs: bool = True
    """Campaign for the singleton jobs (hub.app.JOBS; one leader among the replicas)."""
    openadr_vens: tuple[OpenAdrVenConfig, ...] = ()
    """OpenADR 2.0b VENs started with the hub (one per DR program and VPP), until the
    trading API's DEMAND_RESPONSE market connectors start them."""
    model_dir: str = DEFAULT_MODEL_DIR
    """Where AI model files live: registered by a path inside it (``model_file_path``) or
    uploaded, and stored by content hash under its ``store/``. Nothing outside it is read."""
    model_max_bytes: Annotated[int, Meta(gt=0)] = 200 * 1024 * 1024
    """Largest model file accepted (path or upload)."""
    secrets_key: str = ""
    """Encrypts market connectors' ``auth_config`` at rest (any string; a Fernet key is
    derived from it). Empty: derived from ``jwt_secret``; both empty: one per process
    (stored credentials are unreadable after a restart)."""
    trading_loop: bool = False
    """Run the automated trading loop (a singleton among hub processes). ``vpp hub run``
    turns it on (``Settings.from_env``; ``VPP_HUB_TRADING=0`` turns it off)."""
    trading_tick_s: Annotated[float, Meta(gt=0)] = 60.0
    """How often the trading loop looks at gate closures, clearing and execution."""
    trading_bid_lead_s: Annotated[float, Meta(gt=0)] = 3600.0
    """The loop bids for a day from this long before its gate closure."""
    emission_factors: EmissionFactors = EmissionFactors()
    """Grid CO2 factors of the carbon reports (hub.reports; docs/settlement.md)."""
    carbon_province: str | None = None
    """The province whose factor (``emission_factors.by_province``) the carbon figures
    use; None or unknown: the national factor."""
    fleet_metrics_s: Annotated[float, Meta(ge=0)] = 30.0
    """How often each replica refreshes ``hub_edge_online`` from the database (0: never)."""
    alert_targets: tuple[AlertTarget, ...] = ()
    """Where the hub's own alerts go (``VPP_HUB_ALERT_TARGETS``, a JSON list); none: the
    log only."""
    alert_timeout_s: Annotated[float, Meta(gt=0, le=60)] = 5.0
    """One delivery attempt's HTTP timeout."""
    alert_attempts: Annotated[int, Meta(ge=1, le=20)] = 5
    """Attempts per message (exponential backoff with jitter between them), then dropped."""
    alert_queue: Annotated[int, Meta(gt=0)] = 1000
    """Alerts waiting per target; beyond it new ones are dropped (and counted)."""
    debug: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the environment (``VPP_HUB_DB``, ``VPP_HUB_MQTT``,
        ``VPP_HUB_JWT_SECRET``, ``VPP_HUB_TENANT``, ``VPP_HUB_RATE_LIMIT``,
        ``VPP_HUB_LOGIN_RATE_LIMIT``, ``VPP_HUB_MQTT_USERNAME``, ``VPP_HUB_MQTT_PASSWORD``,
        ``VPP_HUB_MQTT_CLIENT_ID``, ``VPP_HUB_MQTT_CA``, ``VPP_HUB_MODEL_DIR``,
        ``VPP_HUB_SECRETS_KEY``, ``VPP_HUB_TRADING``, ``VPP_HUB_MQTT_PERSISTENT``,
        ``VPP_HUB_REDIS``, ``VPP_HUB_METRICS_TOKEN``, ``VPP_HUB_DB_REPLICA``,
        ``VPP_HUB_TRUSTED_PROXIES``, ``VPP_HUB_RESPONSE_CACHE_S``,
        ``VPP_HUB_OPENADR_VENS``: a JSON list of VEN configurations,
        ``VPP_HUB_ALERT_TARGETS``: a JSON list of alert targets), then ``overrides`` (None
        is ignored). The trading loop is on unless ``VPP_HUB_TRADING=0``."""
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
            ("model_dir", "VPP_HUB_MODEL_DIR"),
            ("secrets_key", "VPP_HUB_SECRETS_KEY"),
            ("mqtt_persistent_session", "VPP_HUB_MQTT_PERSISTENT"),
            ("redis_url", "VPP_HUB_REDIS"),
            ("metrics_token", "VPP_HUB_METRICS_TOKEN"),
            ("db_replica_url", "VPP_HUB_DB_REPLICA"),
            ("response_cache_s", "VPP_HUB_RESPONSE_CACHE_S"),
            ("gc_threshold0", "VPP_HUB_GC_THRESHOLD0"),
            ("gc_freeze", "VPP_HUB_GC_FREEZE"),
        ):
            if os.environ.get(env):
                values[key] = os.environ[env]
        if os.environ.get("VPP_HUB_TRUSTED_PROXIES"):
            proxies = os.environ["VPP_HUB_TRUSTED_PROXIES"].split(",")
            values["trusted_proxies"] = [p.strip() for p in proxies if p.strip()]
        values["trading_loop"] = os.environ.get("VPP_HUB_TRADING", "1") not in {"0", "false", ""}
        if os.environ.get("VPP_HUB_OPENADR_VENS"):
            values["openadr_vens"] = msgspec.json.decode(os.environ["VPP_HUB_OPENADR_VENS"])
        if os.environ.get("VPP_HUB_ALERT_TARGETS"):
            values["alert_targets"] = msgspec.json.decode(os.environ["VPP_HUB_ALERT_TARGETS"])
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
