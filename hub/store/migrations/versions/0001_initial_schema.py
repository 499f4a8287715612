"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("idx_audit_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_ts"), ["ts"], unique=False)

    op.create_table(
        "devices",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("edge_id", "device_id"),
    )
    op.create_table(
        "dispatch_status_events",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("schedule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=1024), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("instruction_id", sa.String(length=64), nullable=False),
        sa.Column("p_actual_w", sa.Float(), nullable=True),
        sa.Column("deviation_w", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("edge_id", "sid", "seq"),
    )
    op.create_table(
        "edges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mqtt_username", sa.String(length=128), nullable=False),
        sa.Column("mqtt_password_hash", sa.String(length=200), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("sid", sa.BigInteger(), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule_version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mqtt_username"),
    )
    op.create_table(
        "ingest_cursors",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("edge_id", "sid"),
    )
    op.create_table(
        "telemetry",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("edge_id", "sid", "seq", "idx"),
    )
    with op.batch_alter_table("telemetry", schema=None) as batch_op:
        batch_op.create_index(
            "idx_telemetry_series", ["edge_id", "device_id", "name", "ts_ms"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "viewer",
                "operator",
                "trader",
                "admin",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "vpp_resource_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "GENERATION",
                "STORAGE",
                "LOAD",
                "FLEXIBLE",
                name="template_category",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("control_interface", sa.JSON(), nullable=True),
        sa.Column("version", sa.String(length=20), server_default="1.0", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "INACTIVE",
                name="template_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="ACTIVE",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("lineage_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vpp_resource_templates", schema=None) as batch_op:
        batch_op.create_index("idx_category", ["category"], unique=False)
        batch_op.create_index("idx_type", ["type"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vpp_resource_templates_lineage_id"), ["lineage_id"], unique=False
        )

    op.create_table(
        "vpps",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "total_capacity", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column(
            "available_capacity", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column("response_time", sa.Integer(), nullable=True),
        sa.Column(
            "market_type",
            sa.Enum(
                "SPOT",
                "ANCILLARY",
                "CAPACITY",
                name="vpp_market_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "INACTIVE",
                "SUSPENDED",
                name="vpp_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="ACTIVE",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vpps", schema=None) as batch_op:
        batch_op.create_index("idx_vpps_market_type", ["market_type"], unique=False)
        batch_op.create_index("idx_vpps_status", ["status"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "dispatch_instructions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=True),
        sa.Column("edge_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("target_power", sa.Float(), nullable=False),
        sa.Column("requested_power", sa.Float(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.create_index("idx_dispatch_edge_end", ["edge_id", "end_time"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dispatch_instructions_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "trading_strategies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column(
            "strategy_type",
            sa.Enum(
                "RULE_BASED",
                "AI_DRIVEN",
                "HYBRID",
                name="strategy_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("model_version", sa.String(length=50), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "TESTING",
                "ACTIVE",
                "SUSPENDED",
                name="strategy_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="DRAFT",
            nullable=False,
        ),
        sa.Column("performance_metrics", sa.JSON(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["vpp_id"],
            ["vpps.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trading_strategies", schema=None) as batch_op:
        batch_op.create_index("idx_strategies_status", ["status"], unique=False)
        batch_op.create_index("idx_strategies_type", ["strategy_type"], unique=False)
        batch_op.create_index("idx_strategies_vpp", ["vpp_id"], unique=False)

    op.create_table(
        "vpp_resource_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("device_ip", sa.String(length=15), nullable=True),
        sa.Column("device_port", sa.Integer(), nullable=True),
        sa.Column("location_info", sa.JSON(), nullable=True),
        sa.Column("capacity", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True),
        sa.Column("efficiency", sa.Numeric(precision=5, scale=4, asdecimal=False), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "ONLINE",
                "OFFLINE",
                "MAINTENANCE",
                "ERROR",
                name="instance_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="OFFLINE",
            nullable=False,
        ),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("edge_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["vpp_resource_templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("edge_id", "device_id", name="uk_instance_edge_device"),
    )
    with op.batch_alter_table("vpp_resource_instances", schema=None) as batch_op:
        batch_op.create_index("idx_status", ["status"], unique=False)
        batch_op.create_index("idx_template", ["template_id"], unique=False)

    op.create_table(
        "dispatch_executions",
        sa.Column("instruction_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=1024), nullable=False),
        sa.Column("schedule_id", sa.String(length=64), nullable=True),
        sa.Column("schedule_version", sa.Integer(), nullable=True),
        sa.Column("p_applied_w", sa.Float(), nullable=True),
        sa.Column("p_actual_w", sa.Float(), nullable=True),
        sa.Column("deviation_w", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"], ["dispatch_instructions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("instruction_id"),
    )
    op.create_table(
        "trading_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("strategy_id", sa.String(length=36), nullable=True),
        sa.Column("market_type", sa.String(length=50), nullable=True),
        sa.Column("trading_date", sa.Date(), nullable=True),
        sa.Column("time_slot", sa.String(length=20), nullable=True),
        sa.Column("bid_price", sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=True),
        sa.Column(
            "bid_quantity", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column(
            "cleared_price", sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=True
        ),
        sa.Column(
            "cleared_quantity", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "SUBMITTED",
                "CLEARED",
                "SETTLED",
                "CANCELLED",
                name="trade_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["trading_strategies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vpp_id"],
            ["vpps.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trading_records", schema=None) as batch_op:
        batch_op.create_index("idx_records_market_type", ["market_type"], unique=False)
        batch_op.create_index("idx_records_status", ["status"], unique=False)
        batch_op.create_index("idx_vpp_date", ["vpp_id", "trading_date"], unique=False)

    op.create_table(
        "vpp_resource_mappings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vpp_id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column(
            "allocation_ratio",
            sa.Numeric(precision=5, scale=4, asdecimal=False),
            server_default="1.0",
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["resource_id"], ["vpp_resource_instances.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vpp_id"], ["vpps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vpp_id", "resource_id", name="uk_vpp_resource"),
    )
    with op.batch_alter_table("vpp_resource_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vpp_resource_mappings_resource_id"), ["resource_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("vpp_resource_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vpp_resource_mappings_resource_id"))

    op.drop_table("vpp_resource_mappings")
    with op.batch_alter_table("trading_records", schema=None) as batch_op:
        batch_op.drop_index("idx_vpp_date")
        batch_op.drop_index("idx_records_status")
        batch_op.drop_index("idx_records_market_type")

    op.drop_table("trading_records")
    op.drop_table("dispatch_executions")
    with op.batch_alter_table("vpp_resource_instances", schema=None) as batch_op:
        batch_op.drop_index("idx_template")
        batch_op.drop_index("idx_status")

    op.drop_table("vpp_resource_instances")
    with op.batch_alter_table("trading_strategies", schema=None) as batch_op:
        batch_op.drop_index("idx_strategies_vpp")
        batch_op.drop_index("idx_strategies_type")
        batch_op.drop_index("idx_strategies_status")

    op.drop_table("trading_strategies")
    with op.batch_alter_table("dispatch_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_instructions_parent_id"))
        batch_op.drop_index("idx_dispatch_edge_end")

    op.drop_table("dispatch_instructions")
    op.drop_table("api_keys")
    with op.batch_alter_table("vpps", schema=None) as batch_op:
        batch_op.drop_index("idx_vpps_status")
        batch_op.drop_index("idx_vpps_market_type")

    op.drop_table("vpps")
    with op.batch_alter_table("vpp_resource_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vpp_resource_templates_lineage_id"))
        batch_op.drop_index("idx_type")
        batch_op.drop_index("idx_category")

    op.drop_table("vpp_resource_templates")
    op.drop_table("users")
    with op.batch_alter_table("telemetry", schema=None) as batch_op:
        batch_op.drop_index("idx_telemetry_series")

    op.drop_table("telemetry")
    op.drop_table("ingest_cursors")
    op.drop_table("edges")
    op.drop_table("dispatch_status_events")
    op.drop_table("devices")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_ts"))
        batch_op.drop_index("idx_audit_entity")

    op.drop_table("audit_log")
