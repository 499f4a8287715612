"""SQLAlchemy models: the seed's six tables plus what the hub needs around them.

Seed tables (section 3.1, same names, columns, enums and indexes):
``vpp_resource_templates``, ``vpp_resource_instances``, ``vpps``,
``vpp_resource_mappings``, ``trading_strategies``, ``trading_records``.

Added columns on seed tables (all nullable or defaulted):
templates ``lineage_id`` (versions of one template share it); instances ``parameters``,
``edge_id``, ``device_id`` (binding to the device an edge reports), ``status_reason``,
``updated_by``.

Added tables: ``edges``, ``devices``, ``telemetry``, ``ingest_cursors``,
``dispatch_instructions``, ``dispatch_executions``, ``dispatch_status_events``,
``users``, ``api_keys``, ``audit_log``.

Enums are stored as VARCHAR with a CHECK constraint (``native_enum=False``) so SQLite and
PostgreSQL hold the same schema. Decimals are read back as floats (``asdecimal=False``).
Timestamps are timezone-aware UTC (:class:`UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
import uuid
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
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    edge_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("idx_template", "template_id"),
        Index("idx_status", "status"),
        Index("idx_instances_created", "created_at", "id"),
        UniqueConstraint("edge_id", "device_id", name="uk_instance_edge_device"),
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

    __table_args__ = (
        Index("idx_vpp_date", "vpp_id", "trading_date"),
        Index("idx_records_market_type", "market_type"),
        Index("idx_records_status", "status"),
    )


# --------------------------------------------------------------------------- edges, devices


class Edge(Base):
    __tablename__ = "edges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
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

    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="")
    protocol: Mapped[str] = mapped_column(String(32), default="")
    metrics: Mapped[list[Any] | None] = mapped_column(JSON)
    last_seen: Mapped[dt.datetime | None] = mapped_column()


class Telemetry(Base):
    """One point; the key ``(edge_id, sid, seq, idx)`` makes ingest idempotent."""

    __tablename__ = "telemetry"

    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    device_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    quality: Mapped[str] = mapped_column(String(10), default="good")

    __table_args__ = (Index("idx_telemetry_series", "edge_id", "device_id", "name", "ts_ms"),)


class IngestCursor(Base):
    """Highest contiguous seq stored per ``(edge, sid)``: survives hub restarts."""

    __tablename__ = "ingest_cursors"

    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    acked_seq: Mapped[int] = mapped_column(BigInteger)


class IngestGap(Base):
    """Seqs of an ``(edge, sid)`` the edge stated it will never send (``floor_seq`` passed
    them: lost to a storage error at the edge). Acks move past them; settlement and
    reports can tell missing data from zero."""

    __tablename__ = "ingest_gaps"

    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --------------------------------------------------------------------------- dispatch


class DispatchInstruction(Base):
    """A VPP-level target (``parent_id`` None, ``resource_id`` None) or a member's share."""

    __tablename__ = "dispatch_instructions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    vpp_id: Mapped[str] = mapped_column(String(36), ForeignKey("vpps.id", ondelete="CASCADE"))
    resource_id: Mapped[str | None] = mapped_column(String(36))
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

    __table_args__ = (Index("idx_dispatch_edge_end", "edge_id", "end_time"),)


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
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        out[column.key] = value
    return out
