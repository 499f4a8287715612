"""SQLAlchemy models: the seed's six tables plus what the hub needs around them.

Seed tables (section 3.1, same names, columns, enums and indexes):
``vpp_resource_templates``, ``vpp_resource_instances``, ``vpps``,
``vpp_resource_mappings``, ``trading_strategies``, ``trading_records``.

Added columns on seed tables (all nullable or defaulted):
templates ``lineage_id`` (versions of one template share it); instances ``parameters``,
``edge_tenant``, ``edge_id``, ``device_id`` (binding to the device an edge reports),
``status_reason``, ``updated_by``.

Added tables: ``edges``, ``devices``, ``telemetry``, ``ingest_cursors``,
``dispatch_instructions``, ``dispatch_executions``, ``dispatch_status_events``,
``users``, ``api_keys``, ``audit_log``, ``job_leases``, ``strategy_backtests``,
``market_connectors``, ``market_data_points``, ``bid_submissions``, ``risk_limits``,
``breaker_states``, ``breaker_events`` (``trading_records`` gains ``submission_id``),
``settlement_statements``, ``settlement_lines``, ``settlement_allocations``,
``ingest_ahead``, ``telemetry_rollups``.

Edges are identified by ``(tenant, edge id)``: the edge-keyed tables (``edges``, ``devices``,
``telemetry``, ``telemetry_rollups``, ``ingest_cursors``, ``ingest_ahead``, ``ingest_gaps``,
``dispatch_status_events``) carry ``tenant`` first in their primary keys, and the rows that
point at an edge (instances, dispatch instructions, the outbox) carry its tenant, so
``park-a`` of two tenants are two edges.

Enums are stored as VARCHAR with a CHECK constraint (``native_enum=False``) so SQLite and
PostgreSQL hold the same schema. Decimals are read back as floats (``asdecimal=False``).
Timestamps are timezone-aware UTC (:class:`UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import FromClause

CATEGORIES = ("GENERATION", "STORAGE", "LOAD", "FLEXIBLE")
TEMPLATE_STATUSES = ("ACTIVE", "INACTIVE")
INSTANCE_STATUSES = ("ONLINE", "OFFLINE", "MAINTENANCE", "ERROR")
MARKET_TYPES = ("SPOT", "ANCILLARY", "CAPACITY")
VPP_STATUSES = ("ACTIVE", "INACTIVE", "SUSPENDED")
STRATEGY_TYPES = ("RULE_BASED", "AI_DRIVEN", "HYBRID")
STRATEGY_STATUSES = ("DRAFT", "TESTING", "ACTIVE", "SUSPENDED")
TRADE_STATUSES = ("SUBMITTED", "CLEARED", "SETTLED", "CANCELLED")
ROLES = ("viewer", "operator", "trader", "admin")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def new_id() -> str:
    """A new primary key (UUID 4)."""
    return str(uuid.uuid4())


def new_ids(n: int) -> list[str]:
    """``n`` new primary keys, as :func:`new_id` makes them (UUID 4, lower-case hex in
    8-4-4-4-12 groups), from one read of the OS's random source: a dispatch makes one
    per member, and ``str(uuid.uuid4())`` 51 times was ~5 % of a plan's CPU (measured:
    ~140 us, this ~30 us).

    >>> [uuid.UUID(i).version for i in new_ids(2)]
    [4, 4]
    """
    raw = bytearray(os.urandom(16 * n))
    # what uuid.UUID(version=4) sets: the version nibble and the RFC 4122 variant bits
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])
    h = raw.hex()
    return [
        f"{h[j : j + 8]}-{h[j + 8 : j + 12]}-{h[j + 12 : j + 16]}-{h[j + 16 : j + 20]}-"
        f"{h[j + 20 : j + 32]}"
        for j in range(0, 32 * n, 32)
    ]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _enum(name: str, values: tuple[str, ...]) -> Enum:
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _money(precision: int = 18, scale: int = 2) -> Numeric[float]:
    return Numeric(precision, scale, asdecimal=False)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON}  # noqa: RUF012


# --------------------------------------------------------------------------- seed tables


class ResourceTemplate(Base):
    __tablename__ = "vpp_resource_templates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(_enum("template_category", CATEGORIES))
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    control_interface: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(20), default="1.0", server_default="1.0")
    status: Mapped[str] = mapped_column(
        _enum("template_status", TEMPLATE_STATUSES), default="ACTIVE", server_default="ACTIVE"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    created_by: Mapped[str | None] = mapped_column(String(36))
    lineage_id: Mapped[str | None] = mapped_column(String(36), index=True)
    """Every version of one template shares the id of its first version."""

    __table_args__ = (
        Index("idx_type", "type"),
        Index("idx_category", "category"),
    )


class ResourceInstance(Base):
    __tablename__ = "vpp_resource_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpp_resource_templates.id"))
    name: Mapped[str] = mapped_column(String(100))
    device_ip: Mapped[str | None] = mapped_column(String(15))
    device_port: Mapped[int | None] = mapped_column(Integer)
    location_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    capacity: Mapped[float | None] = mapped_column(_money())
    efficiency: Mapped[float | None] = mapped_column(_money(5, 4))
    status: Mapped[str] = mapped_column(
        _enum("instance_status", INSTANCE_STATUSES), default="OFFLINE", server_default="OFFLINE"
    )
    last_heartbeat: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    # additions
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    edge_tenant: Mapped[str | None] = mapped_column(String(64))
    """The tenant of the edge ``edge_id`` (set together with it)."""
    edge_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("idx_template", "template_id"),
        Index("idx_status", "status"),
        Index("idx_instances_created", "created_at", "id"),
        UniqueConstraint("edge_tenant", "edge_id", "device_id", name="uk_instance_edge_device"),
    )


class Vpp(Base):
    __tablename__ = "vpps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    total_capacity: Mapped[float | None] = mapped_column(_money())
    available_capacity: Mapped[float | None] = mapped_column(_money())
    response_time: Mapped[int | None] = mapped_column(Integer)
    market_type: Mapped[str | None] = mapped_column(_enum("vpp_market_type", MARKET_TYPES))
    status: Mapped[str] = mapped_column(
        _enum("vpp_status", VPP_STATUSES), default="ACTIVE", server_default="ACTIVE"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    __table_args__ = (
        Index("idx_vpps_market_type", "market_type"),
        Index("idx_vpps_status", "status"),
        Index("idx_vpps_created", "created_at", "id"),
    )


class ResourceMapping(Base):
    __tablename__ = "vpp_resource_mappings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vpp_resource_instances.id", ondelete="CASCADE"), index=True
    )
    allocation_ratio: Mapped[float] = mapped_column(_money(5, 4), default=1.0, server_default="1.0")
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    __table_args__ = (UniqueConstraint("vpp_id", "resource_id", name="uk_vpp_resource"),)


class TradingStrategy(Base):
    __tablename__ = "trading_strategies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id"))
    strategy_type: Mapped[str | None] = mapped_column(_enum("strategy_type", STRATEGY_TYPES))
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(
        _enum("strategy_status", STRATEGY_STATUSES), default="DRAFT", server_default="DRAFT"
    )
    performance_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    __table_args__ = (
        Index("idx_strategies_vpp", "vpp_id"),
        Index("idx_strategies_type", "strategy_type"),
        Index("idx_strategies_status", "status"),
    )


class TradingRecord(Base):
    __tablename__ = "trading_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id"))
    strategy_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("trading_strategies.id"))
    market_type: Mapped[str | None] = mapped_column(String(50))
    trading_date: Mapped[dt.date | None] = mapped_column(Date)
    time_slot: Mapped[str | None] = mapped_column(String(20))
    bid_price: Mapped[float | None] = mapped_column(_money(10, 4))
    bid_quantity: Mapped[float | None] = mapped_column(_money())
    cleared_price: Mapped[float | None] = mapped_column(_money(10, 4))
    cleared_quantity: Mapped[float | None] = mapped_column(_money())
    revenue: Mapped[float | None] = mapped_column(_money())
    status: Mapped[str | None] = mapped_column(_enum("trade_status", TRADE_STATUSES))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    submission_id: Mapped[str | None] = mapped_column(
        String(36),
        ForeignKey("bid_submissions.id", ondelete="SET NULL", name="fk_trading_records_submission"),
        index=True,
    )
    """The submission the bid went out in (added; None for rows from elsewhere)."""

    __table_args__ = (
        Index("idx_vpp_date", "vpp_id", "trading_date"),
        Index("idx_records_market_type", "market_type"),
        Index("idx_records_status", "status"),
    )


# --------------------------------------------------------------------------- markets, trading


CONNECTOR_STATUSES = ("ACTIVE", "INACTIVE")
SUBMISSION_STATUSES = ("PENDING", "SUBMITTED", "CLEARED", "FAILED", "CANCELLED")
BREAKER_STATES = ("CLOSED", "TRIPPED")


class MarketConnectorRow(Base):
    """Seed 4.3.1 ``market-connectors``: where a market is and the rules it applies.
    ``auth_config`` is encrypted (Fernet, key from the hub settings) and never returned."""

    __tablename__ = "market_connectors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    market_type: Mapped[str] = mapped_column(String(32))
    api_endpoint: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(
        _enum("connector_status", CONNECTOR_STATUSES), default="ACTIVE", server_default="ACTIVE"
    )
    auth_config: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Fernet token of the JSON object (None: no credentials)."""
    auth_keys: Mapped[list[str] | None] = mapped_column(JSON)
    """Which keys ``auth_config`` holds (shown instead of the values)."""
    trading_rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("idx_connectors_market_type", "market_type", "status"),)


class MarketDataPoint(Base):
    """One slot of a market's data as last read from its connector."""

    __tablename__ = "market_data_points"

    connector_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("market_connectors.id", ondelete="CASCADE"), primary_key=True
    )
    market_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    price_yuan_mwh: Mapped[float] = mapped_column(Float)
    volume_mwh: Mapped[float] = mapped_column(Float)
    realtime_price_yuan_mwh: Mapped[float | None] = mapped_column(Float)
    market_status: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BidSubmissionRow(Base):
    """A VPP's bids for one market and day as sent (or about to be sent) to the market.

    ``idempotency_key`` is unique per (VPP, market, trading date, slot set): the row is
    written before the market is called, so a restart resends the same key (the market
    answers ``duplicate``) and never a second submission."""

    __tablename__ = "bid_submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    connector_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("market_connectors.id", ondelete="CASCADE")
    )
    strategy_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("trading_strategies.id", ondelete="SET NULL")
    )
    market_type: Mapped[str] = mapped_column(String(32))
    trading_date: Mapped[dt.date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(16))
    """``api`` (a trader's submit-bid) or ``auto`` (the trading loop)."""
    status: Mapped[str] = mapped_column(_enum("submission_status", SUBMISSION_STATUSES))
    bids: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """The bids in hub units (slot, side, quantity_kw, price_yuan_mwh, product)."""
    storage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    market_submission_id: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(1000))
    award_instructions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Slot -> the dispatch instruction (VPP level) the cleared quantity became."""
    executed_slots: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many slots of the day the loop has followed to their end (execution)."""
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    cleared_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (
        Index("idx_submissions_vpp_date", "vpp_id", "connector_id", "trading_date"),
        Index("idx_submissions_status", "status"),
    )


class RiskLimitRow(Base):
    """Risk limits of one VPP (missing row: the defaults of ``hub.trading.RiskLimits``)."""

    __tablename__ = "risk_limits"

    vpp_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vpps.id", ondelete="CASCADE"), primary_key=True
    )
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class BreakerStateRow(Base):
    """The circuit breaker of one VPP and the counters its triggers read."""

    __tablename__ = "breaker_states"

    vpp_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vpps.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(
        _enum("breaker_state", BREAKER_STATES), default="CLOSED", server_default="CLOSED"
    )
    trigger: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(1000))
    tripped_at: Mapped[dt.datetime | None] = mapped_column()
    reset_at: Mapped[dt.datetime | None] = mapped_column()
    reset_by: Mapped[str | None] = mapped_column(String(100))
    deviation_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Consecutive followed slots whose deviation was beyond the band."""
    recent_calls: Mapped[list[bool]] = mapped_column(JSON, default=list)
    """Outcome of the latest connector calls for this VPP (True: an error), newest last."""
    day_pnl_yuan: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    """Estimated P&L of ``pnl_date`` over the slots followed so far (yuan)."""
    day_cleared_kwh: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    day_deviation_kwh: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    pnl_date: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BreakerEvent(Base):
    """Every trip and reset of a VPP's breaker."""

    __tablename__ = "breaker_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    ts: Mapped[dt.datetime] = mapped_column()
    event: Mapped[str] = mapped_column(String(16))
    """``trip`` or ``reset``."""
    trigger: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("idx_breaker_events_vpp", "vpp_id", "ts"),)


# --------------------------------------------------------------------------- edges, devices


class Edge(Base):
    """An edge, identified by ``(tenant, id)``: ``id`` is its topic level, unique only
    within its tenant."""

    __tablename__ = "edges"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    mqtt_username: Mapped[str] = mapped_column(String(128), unique=True)
    mqtt_password_hash: Mapped[str] = mapped_column(String(200))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    sid: Mapped[int | None] = mapped_column(BigInteger)
    last_seen: Mapped[dt.datetime | None] = mapped_column()
    schedule_version: Mapped[int] = mapped_column(Integer, default=0)
    schedule_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the last staged schedule's content (intervals, ``max_offline_s``): an
    unchanged schedule gets no new version and is not published again."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class Device(Base):
    __tablename__ = "devices"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="")
    protocol: Mapped[str] = mapped_column(String(32), default="")
    metrics: Mapped[list[Any] | None] = mapped_column(JSON)
    last_seen: Mapped[dt.datetime | None] = mapped_column()


class Telemetry(Base):
    """One point; the key ``(tenant, edge_id, sid, seq, idx)`` makes ingest idempotent."""

    __tablename__ = "telemetry"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    device_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    quality: Mapped[str] = mapped_column(String(10), default="good")

    __table_args__ = (
        Index("idx_telemetry_series", "tenant", "edge_id", "device_id", "name", "ts_ms"),
        Index("idx_telemetry_ts", "ts_ms"),  # retention: the oldest rows first
    )


class TelemetryRollup(Base):
    """Telemetry downsampled into ``width_s`` buckets (60: 1-minute, 900: 15-minute) by
    the retention job before it deletes what it summarised (hub.ops retention)."""

    __tablename__ = "telemetry_rollups"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    width_s: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)


class IngestCursor(Base):
    """Highest contiguous seq stored per ``(edge, sid)``: survives hub restarts."""

    __tablename__ = "ingest_cursors"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    acked_seq: Mapped[int] = mapped_column(BigInteger)


class IngestAhead(Base):
    """Seqs of an ``(edge, sid)`` stored above its cursor (a gap below them has not closed
    yet), by whichever replica stored them; deleted once the cursor passes them."""

    __tablename__ = "ingest_ahead"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class IngestGap(Base):
    """Seqs of an ``(edge, sid)`` the edge stated it will never send (``floor_seq`` passed
    them: lost to a storage error at the edge). Acks move past them; settlement and
    reports can tell missing data from zero."""

    __tablename__ = "ingest_gaps"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class JobLease(Base):
    """The fencing epoch of a singleton job (hub.jobs): bumped by every new leader, checked
    in the leader's write transactions so a deposed leader cannot commit."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --------------------------------------------------------------------------- dispatch


class DispatchInstruction(Base):
    """A VPP-level target (``parent_id`` None, ``resource_id`` None) or a member's share."""

    __tablename__ = "dispatch_instructions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    resource_id: Mapped[str | None] = mapped_column(String(36))
    edge_tenant: Mapped[str | None] = mapped_column(String(64))
    edge_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    target_power: Mapped[float] = mapped_column(Float)
    """kW, generator convention (positive = delivering power)."""
    requested_power: Mapped[float] = mapped_column(Float)
    start_time: Mapped[dt.datetime] = mapped_column()
    end_time: Mapped[dt.datetime] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    max_offline_s: Mapped[float | None] = mapped_column(Float, default=None)
    """None: the edge follows it through a link outage until it ends; a value: the edge
    stops following it after that much hub silence (``DispatchSchedule.max_offline_s``)."""
    source: Mapped[str] = mapped_column(String(32), default="manual", server_default="manual")
    """Where the plan came from: manual, market_award, strategy, demand_response."""
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Within one VPP, where instructions overlap on a device, the higher priority holds."""
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A member instruction that wins nowhere on its device any more (what is left of it
    is covered by newer or higher-priority instructions of its VPP; instructions are never
    changed, so it never wins again): no longer read to build its edge's schedule."""

    __table_args__ = (Index("idx_dispatch_edge_end", "edge_tenant", "edge_id", "end_time"),)


class DispatchOutbox(Base):
    """Schedules staged in the transaction that stored their instructions; a publisher
    drains them to the broker (retained), newest per edge, marks it published and deletes
    the edge's older rows (the table holds one row per edge plus the unpublished). Rows
    still unpublished at start-up (a crash between commit and publish) go out then."""

    __tablename__ = "dispatch_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    edge_id: Mapped[str] = mapped_column(String(64))
    tenant: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """The encoded ``DispatchSchedule``."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    """When it (or a newer version of the edge's schedule) was published; None: pending."""
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    """Why it could not be published (it is not retried)."""

    __table_args__ = (Index("idx_dispatch_outbox_pending", "published_at", "edge_id"),)


class DispatchExecution(Base):
    """Latest execution report of one member instruction."""

    __tablename__ = "dispatch_executions"

    instruction_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("dispatch_instructions.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(String(1024), default="")
    schedule_id: Mapped[str | None] = mapped_column(String(64))
    schedule_version: Mapped[int | None] = mapped_column(Integer)
    p_applied_w: Mapped[float | None] = mapped_column(Float)
    """The value the device accepted (W, after its register rounding)."""
    p_actual_w: Mapped[float | None] = mapped_column(Float)
    deviation_w: Mapped[float | None] = mapped_column(Float)
    energy_wh: Mapped[float | None] = mapped_column(Float)
    """Energy the device delivered since the instruction came into force (measured at the
    edge; final once ``status`` is ``done``)."""
    started_at: Mapped[dt.datetime | None] = mapped_column()
    """When the device accepted its first write for the instruction."""
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DispatchStatusEvent(Base):
    """Every ``dispatch/status`` message, idempotent by ``(edge, sid, seq)``."""

    __tablename__ = "dispatch_status_events"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    schedule_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(1024), default="")
    device_id: Mapped[str | None] = mapped_column(String(64))
    instruction_id: Mapped[str] = mapped_column(String(64), default="")
    p_applied_w: Mapped[float | None] = mapped_column(Float)
    p_actual_w: Mapped[float | None] = mapped_column(Float)
    deviation_w: Mapped[float | None] = mapped_column(Float)
    energy_wh: Mapped[float | None] = mapped_column(Float)
    started_ts_ms: Mapped[int | None] = mapped_column(BigInteger)


# --------------------------------------------------------------------------- strategy

BACKTEST_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")


class StrategyBacktest(Base):
    """A backtest task (seed 4.2.1 ``task_id``): its request, progress and results. The
    state lives here so a task survives a hub restart; ``heartbeat_ms`` is the lease of
    the worker running it (a RUNNING task whose lease ran out is taken up again)."""

    __tablename__ = "strategy_backtests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("trading_strategies.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(
        _enum("backtest_status", BACKTEST_STATUSES), default="PENDING", server_default="PENDING"
    )
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    """Inclusive."""
    market_data_source: Mapped[str] = mapped_column(String(500))
    strategy_type: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The strategy's config when the task was submitted (what was tested)."""
    config_digest: Mapped[str] = mapped_column(String(64))
    fleet: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The VPP's batteries (and its pre-trade ``risk_limits``) when the task was submitted."""
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    slots_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slots_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slot_reached_ms: Mapped[int | None] = mapped_column(BigInteger)
    """Start (UTC ms) of the last delivery slot simulated."""
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(1000))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_ms: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requested_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (
        Index("idx_backtests_strategy", "strategy_id", "status"),
        Index("idx_backtests_status", "status", "created_at"),
    )


# --------------------------------------------------------------------------- settlement


class SettlementStatement(Base):
    """A VPP's settled day in one market (hub.settlement). Money is stored as integer
    cents (exact on both databases); ``digest`` is the SHA-256 of the inputs, so settling
    the same day again with the same data changes nothing."""

    __tablename__ = "settlement_statements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    market_type: Mapped[str] = mapped_column(String(32))
    trading_date: Mapped[dt.date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """1, then + 1 each time new data (late meter readings) changed the figures."""
    digest: Mapped[str] = mapped_column(String(64))
    complete: Mapped[bool] = mapped_column(Boolean)
    gap_slots: Mapped[list[Any]] = mapped_column(JSON)
    energy_cents: Mapped[int] = mapped_column(BigInteger)
    deviation_cents: Mapped[int] = mapped_column(BigInteger)
    penalty_cents: Mapped[int] = mapped_column(BigInteger)
    availability_cents: Mapped[int] = mapped_column(BigInteger)
    mileage_cents: Mapped[int] = mapped_column(BigInteger)
    dr_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    cleared_kwh: Mapped[float] = mapped_column(Float)
    delivered_kwh: Mapped[float] = mapped_column(Float)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The trading rules it was settled by."""
    rounding: Mapped[str] = mapped_column(String(200))
    settled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    settled_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("vpp_id", "market_type", "trading_date", name="uk_statement_day"),
        Index("idx_statements_date", "trading_date"),
    )


class SettlementLine(Base):
    """One slot (and product) of a statement."""

    __tablename__ = "settlement_lines"

    statement_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("settlement_statements.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    cleared_kwh: Mapped[float] = mapped_column(Float)
    clearing_price_yuan_mwh: Mapped[float] = mapped_column(Float)
    delivered_kwh: Mapped[float | None] = mapped_column(Float)
    deviation_kwh: Mapped[float | None] = mapped_column(Float)
    realtime_price_yuan_mwh: Mapped[float | None] = mapped_column(Float)
    energy_cents: Mapped[int] = mapped_column(BigInteger)
    deviation_cents: Mapped[int] = mapped_column(BigInteger)
    penalty_cents: Mapped[int] = mapped_column(BigInteger)
    availability_cents: Mapped[int] = mapped_column(BigInteger)
    mileage_cents: Mapped[int] = mapped_column(BigInteger)
    dr_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    flags: Mapped[list[Any]] = mapped_column(JSON)


class SettlementAllocation(Base):
    """A member's part of a statement by one allocation method."""

    __tablename__ = "settlement_allocations"

    statement_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("settlement_statements.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(16), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    penalty_cents: Mapped[int] = mapped_column(BigInteger)
    share: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    committed_kwh: Mapped[float] = mapped_column(Float)
    delivered_kwh: Mapped[float] = mapped_column(Float)
    capacity_kw: Mapped[float] = mapped_column(Float)
    availability: Mapped[float] = mapped_column(Float)
    missing_lines: Mapped[int] = mapped_column(Integer)
    standard_error_yuan: Mapped[float | None] = mapped_column(Float)
    half_width_yuan: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("idx_allocations_resource", "resource_id"),)


# --------------------------------------------------------------------------- security


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(_enum("user_role", ROLES))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the key: keys are long random tokens, so a fast hash is enough."""
    prefix: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("idx_audit_entity", "entity", "entity_id"),)


def row_dict(row: Base) -> dict[str, Any]:
    """Column values of a row as JSON-friendly values (for the audit log)."""
    return _jsonable_columns(row.__table__, lambda key: getattr(row, key))


def values_dict(model: type[Base], values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`row_dict` of the row a Core insert of ``values`` (every column) makes."""
    return _jsonable_columns(model.__table__, values.__getitem__)


def _jsonable_columns(table: FromClause, value_of: Callable[[str], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = value_of(column.key)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        out[column.key] = value
    return out


# --------------------------------------------------------------------------- AI models

MODEL_STATUSES = ("DRAFT", "ACTIVE", "RETIRED")
MODEL_FORMATS = ("onnx", "lightgbm", "skops", "seasonal_naive")
TASK_STATES = ("PENDING", "RUNNING", "DONE", "FAILED")
EXPERIMENT_STATES = ("RUNNING", "CONCLUDED")
SPLITS = ("day", "vpp")
ARMS = ("champion", "challenger")


class AiModel(Base):
    """One version of a model (seed 4.2.2). The file is stored by content (``file_sha256``)
    under the configured model directory; ``seasonal_naive`` baselines have no file."""

    __tablename__ = "ai_models"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    model_type: Mapped[str] = mapped_column(String(50))
    version: Mapped[str] = mapped_column(String(50))
    format: Mapped[str] = mapped_column(_enum("ai_model_format", MODEL_FORMATS))
    model_file_path: Mapped[str | None] = mapped_column(String(500))
    """Where the stored file is, relative to the model directory (``store/ab/<sha256>``)."""
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    input_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    output_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        _enum("ai_model_status", MODEL_STATUSES), default="DRAFT", server_default="DRAFT"
    )
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """How its intervals are made (split conformal: level, residual quantile per output)."""
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Walk-forward validation metrics (MAE, RMSE, pinball, coverage) of built-in models."""
    baseline_id: Mapped[str | None] = mapped_column(String(36))
    """The seasonal-naive baseline trained beside it."""
    training_task_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("name", "version", name="uk_ai_model_version"),
        Index("idx_ai_models_type_status", "model_type", "status"),
    )


class AiTrainingTask(Base):
    """A built-in forecaster's training run (asynchronous, with its progress)."""

    __tablename__ = "ai_training_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(
        _enum("ai_task_state", TASK_STATES), default="PENDING", server_default="PENDING"
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    message: Mapped[str] = mapped_column(String(500), default="", server_default="")
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_id: Mapped[str | None] = mapped_column(String(36))
    baseline_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class AiExperiment(Base):
    """Champion/challenger on one forecast slot (or strategy): a traffic split by day or by
    VPP, decisions recorded per arm, promotion by hand or by a significant test."""

    __tablename__ = "ai_experiments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slot: Mapped[str] = mapped_column(String(100))
    champion_id: Mapped[str] = mapped_column(String(36), ForeignKey("ai_models.id"))
    challenger_id: Mapped[str] = mapped_column(String(36), ForeignKey("ai_models.id"))
    split_by: Mapped[str] = mapped_column(_enum("ai_split", SPLITS))
    challenger_share: Mapped[float] = mapped_column(Float)
    auto_promote: Mapped[bool] = mapped_column(Boolean, default=False)
    alpha: Mapped[float] = mapped_column(Float, default=0.05)
    min_decisions: Mapped[int] = mapped_column(Integer, default=20)
    state: Mapped[str] = mapped_column(
        _enum("ai_experiment_state", EXPERIMENT_STATES), default="RUNNING"
    )
    winner_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    concluded_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (Index("idx_ai_experiments_slot", "slot", "state"),)


class AiDecision(Base):
    """One forecast made inside an experiment: the arm that served it, both arms' forecasts
    (the other arm runs in shadow, so errors are paired), and once known the outcome."""

    __tablename__ = "ai_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ai_experiments.id", ondelete="CASCADE")
    )
    arm: Mapped[str] = mapped_column(_enum("ai_arm", ARMS))
    model_id: Mapped[str] = mapped_column(String(36))
    unit: Mapped[str] = mapped_column(String(64))
    """What the split is keyed on: the day (ISO date) or the VPP id."""
    vpp_id: Mapped[str | None] = mapped_column(String(36))
    day: Mapped[dt.date | None] = mapped_column(Date)
    champion_forecast: Mapped[list[Any]] = mapped_column(JSON)
    challenger_forecast: Mapped[list[Any]] = mapped_column(JSON)
    actual: Mapped[list[Any] | None] = mapped_column(JSON)
    champion_loss: Mapped[float | None] = mapped_column(Float)
    challenger_loss: Mapped[float | None] = mapped_column(Float)
    revenue: Mapped[float | None] = mapped_column(Float)
    capture_ratio: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    resolved_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (Index("idx_ai_decisions_experiment", "experiment_id", "arm"),)
